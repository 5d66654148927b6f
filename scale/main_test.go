package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestBadFlagsAreRefused: each bad flag is one line naming it, before
// anything starts.
func TestBadFlagsAreRefused(t *testing.T) {
	for want, args := range map[string][]string{
		"-drain-delay 2s must exceed -check-interval × -fall (2s)": {"-drain-delay", "2s"},
		"want -workers, -webhooks, -portals ≥ 1":                   {"-webhooks", "0"},
		"want -check-interval > 0":                                 {"-fall", "0"},
	} {
		_, err := parseFlags(args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: err = %v, want one line with %q", args, err, want)
		}
	}
	if _, err := parseFlags(nil, io.Discard); err != nil {
		t.Errorf("the defaults are refused: %v", err)
	}
}

// TestScaleSmall runs the scale test's own run, short: every tier rolled
// under a light load on a private stack it starts and stops, with every
// check of `make scale-test`.
func TestScaleSmall(t *testing.T) {
	state := testenv.PrivateState(t, "scale-stack-")
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	var out bytes.Buffer
	err := run(ctx, []string{"-rate", "2", "-before", "4s", "-after", "1s", "-finish-timeout", "2m", "-state", state}, os.Getenv, &out, &out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"HTTP requests sent / failed", "p99 latency during the roll", "worker-6 ready", "webhook-4 ready", "portal-4 ready"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the report lacks %q", want)
		}
	}
}
