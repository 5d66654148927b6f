package main

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestChaosSmall runs the chaos program's own run on a small batch against
// a private stack it starts and stops: about 20 onboardings, a few worker
// SIGKILLs and one hard Postgres stop (and, with the full server, a SIGKILL
// of the server; on a cluster, of all its hosts, then of a history host and
// of a frontend), with short deadlines. Every check of
// `make chaos` applies; any violation fails the test.
func TestChaosSmall(t *testing.T) {
	state := testenv.PrivateState(t, "chaos-stack-")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	// The full server (TEMPORAL_SERVER=full) is also SIGKILLed once; the
	// dev server's restart is left to make chaos.
	restarts := "0"
	if stack.Server(os.Getenv) != "dev" {
		restarts = "1"
	}
	var out bytes.Buffer
	err := run(ctx, []string{
		"-n", "20", "-rate", "2", "-kills", "4", "-pg-restarts", "1", "-temporal-restarts", restarts,
		"-expire-within", "15s", "-kill-gap-min", "1s", "-kill-gap-max", "3s", "-finish-timeout", "2m",
		"-state", state,
	}, os.Getenv, &out, &out)
	t.Log("\n" + out.String())
	if err != nil {
		if b, rerr := os.ReadFile(state + "/logs/worker.log"); rerr == nil && len(b) > 4000 {
			t.Logf("--- worker log tail ---\n%s", b[len(b)-4000:])
		}
		t.Fatal(err)
	}
}
