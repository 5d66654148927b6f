package main

import (
	"io"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/deploy/kubernetes/kubetest"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestSettings: -h lists exactly what the worker reads, as
// docs/configuration.md does; the README's production example loads, and
// the worker reads nothing of the portal's, the identity provider's or
// the webhook's.
func TestSettings(t *testing.T) {
	var help strings.Builder
	if err := run(t.Context(), []string{"-h"}, func(string) string { return "" }, &help, io.Discard); err != nil {
		t.Fatal(err)
	}
	load := func(getenv config.Getenv) *config.Vars { _, v := loadSettings(getenv); return v }
	testenv.RequireSettings(t, "worker", help.String(), load, "ONBOARDING_SECRET")
	for _, v := range load(func(string) string { return "" }).Declared() {
		for _, other := range []string{"OIDC_", "PORTAL_", "SESSION_", "LOGIN_HOOK"} {
			if strings.HasPrefix(v.Name, other) {
				t.Errorf("the worker reads %s", v.Name)
			}
		}
	}
}

// TestMigrateSetting: a bad DB_MIGRATE stops the worker at start, and so
// does DB_MIGRATE=check on a database without the migrations, changing
// nothing in it.
func TestMigrateSetting(t *testing.T) { testenv.RequireMigrateSetting(t, run) }

// TestManifestSettings: the worker loads the settings every overlay of
// deploy/kubernetes gives it (production's once its placeholders are
// replaced, and not before).
func TestManifestSettings(t *testing.T) {
	kubetest.RequireSettings(t, "Deployment", "worker", func(getenv config.Getenv) *config.Vars { _, v := loadSettings(getenv); return v })
}
