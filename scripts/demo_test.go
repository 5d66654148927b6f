package scripts_test

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

// demoEnv runs make demo's script against the test stack on its own
// database, task queue, ports and state folder, so it meets no other
// test: the stack's Temporal, Postgres, mailpit and identity provider are
// named, so it starts only the Web UI, the codec server and the binaries.
func demoEnv(t *testing.T, state string, extra ...string) []string {
	t.Helper()
	port := func() string {
		_, p, err := net.SplitHostPort(testenv.FreePort(t))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	var env []string
	for _, kv := range os.Environ() {
		switch k, _, _ := strings.Cut(kv, "="); k {
		case "CODEC_URL", "TEMPORAL_UI_URL", "WORKER_ADDR", "WEBHOOK_ADDR", "PORTAL_ADDR", "PORTAL_PUBLIC_URL", "PUBLIC_BASE_URL":
		default:
			env = append(env, kv)
		}
	}
	return append(append(env,
		"STACK_STATE="+state,
		"DATABASE_URL="+testenv.NewDatabase(t),
		"TEMPORAL_ADDRESS="+testenv.TemporalAddress(),
		"SMTP_ADDR="+testenv.SMTPAddr(),
		"MAILPIT_URL="+testenv.MailpitURL(),
		"OIDC_ISSUER="+testenv.OIDCIssuer(),
		"TASK_QUEUE=demo-"+testenv.Suffix(),
		"TEMPORAL_UI_PORT="+port(), "CODEC_PORT="+port(),
		"WORKER_ADDR=127.0.0.1:"+port(), "WEBHOOK_ADDR=127.0.0.1:"+port(), "PORTAL_ADDR=127.0.0.1:"+port(),
	), extra...)
}

func runDemo(t *testing.T, env []string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), "bash", "demo.sh")
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code = cmd.ProcessState.ExitCode()
	if err != nil && code == 0 {
		t.Fatalf("demo.sh did not run: %v", err)
	}
	return out.String(), errOut.String(), code
}

// TestDemoExitCodes runs make demo's script three times in a row, as a
// person trying it would: each run onboards a customer to ACTIVE and exits
// 0, every time. A worker that cannot start fails the demo with exit 1 and
// one line saying which part did not start.
func TestDemoExitCodes(t *testing.T) {
	testenv.RequireStack(t)
	state := t.TempDir()
	t.Cleanup(func() {
		cmd := exec.Command("bash", "stack.sh", "down")
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "STACK_STATE=" + state}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("stack.sh down: %v\n%s", err, out)
		}
	})
	env := demoEnv(t, state)
	for i := range 3 {
		stdout, stderr, code := runDemo(t, env)
		if code != 0 {
			t.Fatalf("run %d: make demo exited %d\nstdout:\n%s\nstderr:\n%s", i+1, code, stdout, stderr)
		}
		final := stdout[strings.LastIndex(stdout, "Final status"):]
		if !strings.Contains(final, "ACTIVE") {
			t.Fatalf("run %d: exit 0 without ACTIVE in the final status:\n%s", i+1, final)
		}
	}

	_, stderr, code := runDemo(t, append(demoEnv(t, state), "WORKER_STOP_TIMEOUT=forever"))
	if code != 1 || !strings.Contains(stderr, "demo: worker did not start") || !strings.Contains(stderr, "WORKER_STOP_TIMEOUT") {
		t.Fatalf("a worker that cannot start: exit %d, want 1 naming the worker and its bad setting; stderr:\n%s", code, stderr)
	}
}
