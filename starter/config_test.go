package main

import (
	"testing"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestSettingsAreDocumented: --help lists exactly what the starter reads,
// as docs/configuration.md does.
func TestSettingsAreDocumented(t *testing.T) {
	r := runStarter(t, offline, "--help").ok(t)
	_, vars := loadSettings(func(string) string { return "" })
	testenv.RequireDocumented(t, "starter", vars.Declared(), r.stdout)
}
