package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/store"
)

// migrated is `starter migrate --json`'s answer.
type migrated struct {
	Applied    []string `json:"applied"`
	Migrations int      `json:"migrations"` // every migration this release has, all recorded now
}

// runMigrate applies the migrations the database lacks and prints each:
// the deployment's migration job runs it once per release, before the
// binaries, started with DB_MIGRATE=check, roll. It needs the database
// alone, so it reads DATABASE_URL (and ONBOARDING_ENV) and nothing else:
// the job carries no other secret.
func runMigrate(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("migrate", "migrate [--json]", `
Apply the database migrations of this release that the database lacks, in
order, each in its own transaction, and print their names; a database
already up to date is left as it is. Run it once per release, before the
new binaries start (they check, with DB_MIGRATE=check, and refuse an older
database). Only DATABASE_URL is read.`)
	if err := parseNone(fs, args); err != nil {
		return err
	}
	pg, v := migrateSettings(e.getenv)
	if err := v.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	st, err := store.Open(dctx, pg.URL, store.Options{MaxOpenConns: 1, Migrate: store.MigrateOff})
	if err != nil {
		return fmt.Errorf("%w (%w)", deps.ErrDatabase, err)
	}
	defer st.Close()
	applied, err := store.Migrate(ctx, st.DB())
	switch {
	case err != nil && len(applied) > 0:
		// Those before the failing one are committed: say so, on the one line.
		return fmt.Errorf("%w (applied before it, and kept: %s)", err, strings.Join(applied, ", "))
	case err != nil:
		return err
	}
	all := len(store.Migrations())
	if e.json {
		return e.printJSON(migrated{Applied: append([]string{}, applied...), Migrations: all})
	}
	for _, name := range applied {
		e.printf("Applied %s.\n", name)
	}
	if len(applied) == 0 {
		e.printf("Nothing to apply: the database has all %d migrations.\n", all)
		return nil
	}
	e.printf("The database has all %d migrations.\n", all)
	return nil
}

// migrateSettings are what `starter migrate` reads: ONBOARDING_ENV and
// the database's settings alone.
func migrateSettings(getenv config.Getenv) (config.Postgres, *config.Vars) {
	v := config.New(getenv)
	return config.LoadPostgres(v), v
}
