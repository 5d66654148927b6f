package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

func unset(string) string { return "" }

// TestSettingsAreDocumented: -h lists exactly what the portal reads, as
// docs/configuration.md does.
func TestSettingsAreDocumented(t *testing.T) {
	var help strings.Builder
	require.NoError(t, run(t.Context(), []string{"-h"}, unset, &help, io.Discard))
	_, vars := loadSettings(unset)
	testenv.RequireDocumented(t, "portal", vars.Declared(), help.String())
}

// TestProductionExampleLoads: the README's production example is a whole
// portal configuration, and so is what the portal reads of it alone.
func TestProductionExampleLoads(t *testing.T) {
	env := testenv.ProductionExample(t)
	s, vars := loadSettings(func(k string) string { return env[k] })
	require.NoError(t, vars.Err())
	require.Equal(t, "https://partners.example.com", s.publicURL)
	own := testenv.OnlyVars(env, vars.Declared())
	_, vars = loadSettings(func(k string) string { return own[k] })
	require.NoError(t, vars.Err())

	delete(own, "OIDC_CLIENT_SECRET")
	_, vars = loadSettings(func(k string) string { return own[k] })
	require.ErrorContains(t, vars.Err(), "OIDC_CLIENT_SECRET: required in production")
}
