package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

func unset(string) string { return "" }

// TestSettingsAreDocumented: -h lists exactly what the webhook reads, as
// docs/configuration.md does.
func TestSettingsAreDocumented(t *testing.T) {
	var help strings.Builder
	require.NoError(t, run(t.Context(), []string{"-h"}, unset, &help, io.Discard))
	_, vars := loadSettings(unset)
	testenv.RequireDocumented(t, "webhook", vars.Declared(), help.String())
}

// TestProductionExampleLoads: the README's production example is a whole
// webhook configuration, and so is what the webhook reads of it alone.
func TestProductionExampleLoads(t *testing.T) {
	env := testenv.ProductionExample(t)
	_, vars := loadSettings(func(k string) string { return env[k] })
	require.NoError(t, vars.Err())
	own := testenv.OnlyVars(env, vars.Declared())
	_, vars = loadSettings(func(k string) string { return own[k] })
	require.NoError(t, vars.Err())

	delete(own, "LOGIN_HOOK_SECRET")
	_, vars = loadSettings(func(k string) string { return own[k] })
	require.ErrorContains(t, vars.Err(), "LOGIN_HOOK_SECRET: required in production")
}
