package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/config"
)

// render prints an overlay, the same without its Secrets for podman, and
// a Secret as podman secret create reads it; a wrong command line is one
// line saying how to use it.
func TestRender(t *testing.T) {
	var all, podman, secret strings.Builder
	if err := run([]string{"local"}, &all); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-podman", "local"}, &podman); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"-podman-secret", "onboarding-secrets", "local"}, &secret); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(all.String(), "kind: Secret") || strings.Contains(podman.String(), "kind: Secret") ||
		!strings.Contains(podman.String(), "kind: Deployment") {
		t.Errorf("-podman does not leave out just the Secret:\n%s", podman.String())
	}
	var values map[string][]byte // podman reads base64 values
	if err := json.Unmarshal([]byte(secret.String()), &values); err != nil || string(values["PAYLOAD_KEYS"]) != config.DevPayloadKey {
		t.Errorf("-podman-secret: %v %q", err, secret.String())
	}
	for _, args := range [][]string{nil, {"local", "production"}, {"-bogus", "local"}} {
		if err := run(args, &all); err == nil || !strings.HasPrefix(err.Error(), "usage: render") {
			t.Errorf("%q: %v", args, err)
		}
	}
	if err := run([]string{"-podman-secret", "nope", "local"}, &all); err == nil || !strings.Contains(err.Error(), "no Secret nope") {
		t.Errorf("an unknown Secret: %v", err)
	}
	if err := run([]string{"/no/such/dir"}, &all); err == nil || strings.Contains(err.Error(), "\n") {
		t.Errorf("a missing directory: %v", err)
	}
}
