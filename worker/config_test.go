package main

import (
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

func unset(string) string { return "" }

// TestSettingsAreDocumented: -h lists exactly what the worker reads, as
// docs/configuration.md does, and it reads nothing of the portal's.
func TestSettingsAreDocumented(t *testing.T) {
	var help strings.Builder
	require.NoError(t, run(t.Context(), []string{"-h"}, unset, &help, io.Discard))
	_, vars := loadSettings(unset)
	testenv.RequireDocumented(t, "worker", vars.Declared(), help.String())
	for _, v := range vars.Declared() {
		for _, portal := range []string{"OIDC_", "PORTAL_", "SESSION_", "LOGIN_HOOK"} {
			require.False(t, strings.HasPrefix(v.Name, portal), "the worker reads %s", v.Name)
		}
	}
}

// TestProductionExampleLoads: the README's production example is a whole
// worker configuration, and what the worker reads of it alone — no
// portal, identity-provider or webhook setting — is too.
func TestProductionExampleLoads(t *testing.T) {
	env := testenv.ProductionExample(t)
	_, vars := loadSettings(func(k string) string { return env[k] })
	require.NoError(t, vars.Err())
	own := testenv.OnlyVars(env, vars.Declared())
	_, vars = loadSettings(func(k string) string { return own[k] })
	require.NoError(t, vars.Err())

	// In production a secret left out is refused, by name.
	delete(own, "ONBOARDING_SECRET")
	_, vars = loadSettings(func(k string) string { return own[k] })
	require.ErrorContains(t, vars.Err(), "ONBOARDING_SECRET: required in production")
}
