package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// tables are the names of the tables of a database, to show that nothing
// was created.
func tables(t *testing.T, st *store.Store) []string {
	t.Helper()
	var names []string
	require.NoError(t, st.DB().Select(&names, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`))
	return names
}

func recorded(t *testing.T, st *store.Store) []string {
	t.Helper()
	var names []string
	require.NoError(t, st.DB().Select(&names, `SELECT name FROM schema_migrations ORDER BY name`))
	return names
}

// DB_MIGRATE's words are the store's modes: every one the configuration
// takes, Open takes, and the configuration's default is Open's.
func TestMigrateModesAreTheSettings(t *testing.T) {
	for _, mode := range store.MigrateModes {
		v := config.New(func(k string) string { return map[string]string{"DB_MIGRATE": mode}[k] })
		require.Equal(t, mode, config.LoadPostgres(v).Migrate)
		require.NoError(t, v.Err())
	}
	require.Equal(t, store.MigrateAuto, config.LoadPostgres(config.New(func(string) string { return "" })).Migrate)
}

// MigrateCheck opens an up-to-date database, and refuses one that lacks a
// migration — naming it — or has none at all, changing nothing in either.
func TestCheckRefusesAnOlderDatabase(t *testing.T) {
	ctx := t.Context()
	all := store.Migrations()
	require.Greater(t, len(all), 1)

	empty := testenv.NewDatabase(t)
	_, err := store.Open(ctx, empty, store.Options{Migrate: store.MigrateCheck})
	require.ErrorIs(t, err, store.ErrMigrationsMissing)
	require.ErrorContains(t, err, all[0])
	require.ErrorContains(t, err, "run `starter migrate` first")
	off, err := store.Open(ctx, empty, store.Options{Migrate: store.MigrateOff})
	require.NoError(t, err, "off opens any database")
	defer off.Close()
	require.Empty(t, tables(t, off), "neither check nor off creates anything")
	pending, err := store.Pending(ctx, off.DB())
	require.NoError(t, err)
	require.Equal(t, all, pending)

	st, dsn := testenv.NewStore(t) // migrated
	checked, err := store.Open(ctx, dsn, store.Options{Migrate: store.MigrateCheck})
	require.NoError(t, err, "an up-to-date database passes the check")
	checked.Close()

	// The database of the release before the last migration.
	last := all[len(all)-1]
	_, err = st.DB().Exec(`DELETE FROM schema_migrations WHERE name = $1`, last)
	require.NoError(t, err)
	before, beforeTables := recorded(t, st), tables(t, st)
	_, err = store.Open(ctx, dsn, store.Options{Migrate: store.MigrateCheck})
	require.ErrorIs(t, err, store.ErrMigrationsMissing)
	require.ErrorContains(t, err, "(1: "+last+")")
	require.Equal(t, before, recorded(t, st), "the check applied nothing")
	require.Equal(t, beforeTables, tables(t, st))

	_, err = store.Open(ctx, dsn, store.Options{Migrate: "sometimes"})
	require.ErrorContains(t, err, `want auto or check or off, got "sometimes"`)
}

// A database migrated by an earlier release records its migrations under
// the names it always has: this release applies none of them again.
func TestMigrateKeepsTheRecordedNames(t *testing.T) {
	st, _ := testenv.NewStore(t)
	got := recorded(t, st)
	require.Equal(t, "migrations/0001_schema.sql", got[0], "the name every release so far recorded")
	require.Equal(t, store.Migrations(), got)
}
