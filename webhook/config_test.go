package main

import (
	"io"
	"strings"
	"testing"

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
