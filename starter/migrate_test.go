package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/deploy/kubernetes/kubetest"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// `starter migrate` applies every migration to a fresh database and says
// which; a second run applies none and says so; a binary that checks then
// accepts the database. It reads the database alone: a production job
// with only DATABASE_URL runs it.
func TestMigrateTwice(t *testing.T) {
	dsn := testenv.NewDatabase(t)
	vars := map[string]string{"DATABASE_URL": dsn, "TEMPORAL_ADDRESS": "127.0.0.1:1"} // Temporal is not needed
	first := runStarter(t, vars, "migrate").ok(t)
	all := store.Migrations()
	for _, name := range all {
		if !strings.Contains(first.stdout, "Applied "+name+".\n") {
			t.Errorf("the first run does not say it applied %s:\n%s", name, first.stdout)
		}
	}
	second := runStarter(t, vars, "migrate", "--json").ok(t)
	var got migrated
	if err := json.Unmarshal([]byte(second.stdout), &got); err != nil {
		t.Fatalf("migrate --json: %v\n%s", err, second.stdout)
	}
	if len(got.Applied) != 0 || got.Migrations != len(all) {
		t.Errorf("the second run = %+v, want nothing applied of %d", got, len(all))
	}
	if third := runStarter(t, vars, "migrate").ok(t); !strings.HasPrefix(third.stdout, "Nothing to apply") {
		t.Errorf("a third run says %q", third.stdout)
	}
	st, err := store.Open(t.Context(), dsn, store.Options{Migrate: store.MigrateCheck})
	if err != nil {
		t.Fatalf("a binary with DB_MIGRATE=check refuses the migrated database: %v", err)
	}
	st.Close()

	prod := map[string]string{"ONBOARDING_ENV": "production", "DATABASE_URL": dsn}
	only := func(k string) string { return prod[k] }
	var stdout, stderr strings.Builder
	if err := run(t.Context(), []string{"migrate"}, only, &stdout, &stderr); err != nil {
		t.Errorf("migrate in production with only DATABASE_URL: %v", err)
	}
}

// A database that cannot be reached is "not available" (exit 3), one line,
// nothing on stdout.
func TestMigrateWithoutDatabase(t *testing.T) {
	runStarter(t, offline, "migrate").fails(t, exitUnavailable, "cannot use the database", "check DATABASE_URL")
	runStarter(t, map[string]string{"DATABASE_URL": "mysql://x"}, "migrate").fails(t, exitRefused, "DATABASE_URL: not a postgres:// URL")
	runStarter(t, offline, "migrate", "now").fails(t, exitUsage, `unexpected argument "now"`)
}

// TestManifestSettings: `starter migrate` loads the settings the
// migration job of every overlay of deploy/kubernetes gives it
// (production's once its placeholders are replaced, and not before).
func TestManifestSettings(t *testing.T) {
	kubetest.RequireSettings(t, "Job", "migrate", func(getenv config.Getenv) *config.Vars { _, v := migrateSettings(getenv); return v })
}
