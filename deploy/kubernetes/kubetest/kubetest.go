// Package kubetest is for the binaries' tests: each loads, with its own
// settings loader, what every overlay of deploy/kubernetes gives it.
package kubetest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"maps"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/deploy/kubernetes"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// RequireSettings checks that a binary's settings loader takes what its
// workload (kind Deployment or Job, and name) gets in every overlay:
// see requireLoads.
func RequireSettings(tb testing.TB, kind, name string, load testenv.Settings) {
	tb.Helper()
	for _, overlay := range kubernetes.Overlays() {
		env, err := kubernetes.Environment(overlay, kind, name)
		if err != nil {
			tb.Fatal(err)
		}
		requireLoads(tb, overlay+" "+kind+" "+name, env, load)
	}
}

// productionCredentials are valid production values, freshly generated,
// of every credential the production manifests leave as a placeholder.
func productionCredentials() map[string]string {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	hexed := func() string { return hex.EncodeToString(key[:16]) + rand.Text() }
	return map[string]string{
		"DATABASE_URL":       "postgres://onboarding:db-password@db.example.com:5432/onboarding?sslmode=require",
		"PAYLOAD_KEYS":       "k1:" + base64.StdEncoding.EncodeToString(key),
		"ONBOARDING_SECRET":  hexed(),
		"LOGIN_HOOK_SECRET":  hexed(),
		"OIDC_CLIENT_SECRET": "client-secret-from-the-provider",
		"CODEC_TOKEN":        hexed(),
		"SMTP_PASSWORD":      "smtp-password",
		"TEMPORAL_API_KEY":   "your-temporal-cloud-api-key",
	}
}

// requireLoads checks that a binary loads the settings a manifest gives
// it (what names the manifest). With
// no placeholder, they load as they are. With placeholders — the
// production overlay — the binary refuses them, each error about a
// credential left to replace, and loads once every placeholder credential
// has a real value.
func requireLoads(tb testing.TB, what string, env map[string]string, load testenv.Settings) {
	tb.Helper()
	get := func(env map[string]string) func(string) string { return func(k string) string { return env[k] } }
	if !kubernetes.HasPlaceholder(env) {
		if err := load(get(env)).Err(); err != nil {
			tb.Errorf("%s: the binary refuses the manifest's settings: %v", what, err)
		}
		return
	}
	creds := productionCredentials()
	err := load(get(env)).Err()
	if err == nil {
		tb.Errorf("%s: the binary starts on the placeholders: nothing forces an operator to replace them", what)
	} else {
		for line := range strings.Lines(err.Error()) {
			if name, _, _ := strings.Cut(line, ":"); creds[name] == "" || env[name] != kubernetes.Placeholder {
				tb.Errorf("%s: refused for something else than a placeholder credential: %s", what, line)
			}
		}
	}
	filled := maps.Clone(env)
	for k, v := range env {
		if v == kubernetes.Placeholder && creds[k] != "" {
			filled[k] = creds[k]
		}
	}
	if err := load(get(filled)).Err(); err != nil {
		tb.Errorf("%s: with real credentials, the binary still refuses the manifest's settings: %v", what, err)
	}
}
