package main

import (
	"io"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/deploy/kubernetes/kubetest"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestSettings: -h lists exactly what the webhook reads, as
// docs/configuration.md does, and the README's production example loads.
func TestSettings(t *testing.T) {
	var help strings.Builder
	if err := run(t.Context(), []string{"-h"}, func(string) string { return "" }, &help, io.Discard); err != nil {
		t.Fatal(err)
	}
	testenv.RequireSettings(t, "webhook", help.String(),
		func(getenv config.Getenv) *config.Vars { _, v := loadSettings(getenv); return v }, "LOGIN_HOOK_SECRET")
}

// TestBadTrustedProxiesAreRefused: a TRUSTED_PROXIES that is not a list of
// networks, or that trusts everyone, stops the webhook at start.
func TestBadTrustedProxiesAreRefused(t *testing.T) {
	for value, want := range testenv.BadTrustedProxies {
		testenv.RequireRefusedAtStart(t, run, map[string]string{"TRUSTED_PROXIES": value}, want)
	}
}

// TestMigrateSetting: a bad DB_MIGRATE stops the webhook at start, and so
// does DB_MIGRATE=check on a database without the migrations, changing
// nothing in it.
func TestMigrateSetting(t *testing.T) { testenv.RequireMigrateSetting(t, run) }

// TestManifestSettings: the webhook loads the settings every overlay of
// deploy/kubernetes gives it (production's once its placeholders are
// replaced, and not before).
func TestManifestSettings(t *testing.T) {
	kubetest.RequireSettings(t, "Deployment", "webhook", func(getenv config.Getenv) *config.Vars { _, v := loadSettings(getenv); return v })
}
