// Package harness is what the benchmark and the chaos run share: a private
// copy of the local stack (scripts/stack.sh with its own state folder and
// ports), the repository's binaries as child processes, and readers for
// mailpit, the Temporal server's metrics and workflow histories.
package harness

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// Ports are the loopback ports of one stack.
type Ports struct {
	Temporal, TemporalUI, TemporalMetrics, Postgres, SMTP, Mailpit int
}

// Stack is a private local stack: a Temporal dev server, a Postgres cluster
// and mailpit, run by scripts/stack.sh under its own state folder, so that
// killing or restarting its parts disturbs nobody else.
type Stack struct {
	Root  string // repository root, where scripts/stack.sh lives
	State string // STACK_STATE
	Ports Ports
	Log   io.Writer // the script's output
}

// FreePorts picks ports that are free now. The Temporal frontend also needs
// its port + 1000 (the dev server's HTTP API), so that one is checked too.
func FreePorts() (Ports, error) {
	var p Ports
	seen := map[int]bool{}
	pick := func(withHTTP bool) (int, error) {
		for range 50 {
			port, err := freePort()
			if err != nil {
				return 0, err
			}
			if seen[port] || (withHTTP && (port+1000 > 65535 || !portFree(port+1000))) {
				continue
			}
			seen[port] = true
			return port, nil
		}
		return 0, fmt.Errorf("no free port found")
	}
	var err error
	for _, f := range []struct {
		dst  *int
		http bool
	}{{&p.Temporal, true}, {&p.TemporalUI, false}, {&p.TemporalMetrics, false}, {&p.Postgres, false}, {&p.SMTP, false}, {&p.Mailpit, false}} {
		if *f.dst, err = pick(f.http); err != nil {
			return Ports{}, err
		}
	}
	return p, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// env is the script's environment: the caller's, without the variables that
// would make it use another stack, plus this stack's state folder and ports.
func (s *Stack) env() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "TEMPORAL_ADDRESS", "DATABASE_URL", "SMTP_ADDR", "MAILPIT_URL", "TEMPORAL_METRICS_URL", "STACK_STATE",
			"TEMPORAL_PORT", "TEMPORAL_UI_PORT", "TEMPORAL_METRICS_PORT", "PG_PORT", "SMTP_PORT", "MAILPIT_PORT":
			continue
		}
		out = append(out, kv)
	}
	return append(out, "STACK_STATE="+s.State,
		"TEMPORAL_PORT="+strconv.Itoa(s.Ports.Temporal),
		"TEMPORAL_UI_PORT="+strconv.Itoa(s.Ports.TemporalUI),
		"TEMPORAL_METRICS_PORT="+strconv.Itoa(s.Ports.TemporalMetrics),
		"PG_PORT="+strconv.Itoa(s.Ports.Postgres),
		"SMTP_PORT="+strconv.Itoa(s.Ports.SMTP),
		"MAILPIT_PORT="+strconv.Itoa(s.Ports.Mailpit))
}

func (s *Stack) script(ctx context.Context, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.Root, "scripts", "stack.sh"), args...)
	cmd.Env = s.env()
	cmd.Dir = s.Root
	if s.Log != nil {
		cmd.Stdout, cmd.Stderr = s.Log, s.Log
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/stack.sh %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// Up starts whatever part of the stack is not running and waits until it answers.
func (s *Stack) Up(ctx context.Context) error {
	// The Postgres server runs as the postgres user: it must be able to
	// reach its data folder under the state folder.
	if err := os.MkdirAll(s.State, 0o755); err != nil {
		return fmt.Errorf("stack state: %w", err)
	}
	if err := os.Chmod(s.State, 0o755); err != nil {
		return fmt.Errorf("stack state: %w", err)
	}
	return s.script(ctx, "up")
}

// Start wipes the state folder and starts a fresh stack on free ports. The
// dev server picks its internal ports itself, and on a busy machine one may
// be taken before it binds it: then the stack is stopped and started again
// on new ports, up to three times.
func (s *Stack) Start(ctx context.Context) error {
	var err error
	for range 3 {
		// Whatever an interrupted run left behind is stopped and wiped.
		_ = s.Down(ctx)
		if err = os.RemoveAll(s.State); err != nil {
			return fmt.Errorf("wipe %s: %w", s.State, err)
		}
		if s.Ports, err = FreePorts(); err != nil {
			return err
		}
		if err = s.Up(ctx); err == nil {
			return nil
		}
	}
	_ = s.Down(ctx)
	return err
}

// Down stops every part of the stack that Up started.
func (s *Stack) Down(ctx context.Context) error { return s.script(ctx, "down") }

// StopTemporal stops the Temporal dev server; its state file keeps the workflows.
func (s *Stack) StopTemporal(ctx context.Context) error { return s.script(ctx, "down", "temporal") }

// KillPostgres stops Postgres hard, as a crash would: `pg_ctl stop -m immediate`.
func (s *Stack) KillPostgres(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl",
		"-D", filepath.Join(s.State, "pg", "data"), "-m", "immediate", "-w", "stop")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl stop -m immediate: %w: %s", err, b)
	}
	return nil
}

// TemporalAddress is the frontend's host:port.
func (s *Stack) TemporalAddress() string { return fmt.Sprintf("127.0.0.1:%d", s.Ports.Temporal) }

// DatabaseURL is the onboarding database of the stack's Postgres.
func (s *Stack) DatabaseURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/onboarding?sslmode=disable", s.Ports.Postgres)
}

// SMTPAddr is mailpit's SMTP address.
func (s *Stack) SMTPAddr() string { return fmt.Sprintf("127.0.0.1:%d", s.Ports.SMTP) }

// MailpitURL is the base URL of mailpit's API.
func (s *Stack) MailpitURL() string { return fmt.Sprintf("http://127.0.0.1:%d", s.Ports.Mailpit) }

// MetricsURL is the Temporal server's Prometheus endpoint.
func (s *Stack) MetricsURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/metrics", s.Ports.TemporalMetrics)
}

// Env is the environment a binary of the repository needs to use this stack.
func (s *Stack) Env() []string {
	return []string{"TEMPORAL_ADDRESS=" + s.TemporalAddress(), "DATABASE_URL=" + s.DatabaseURL(), "SMTP_ADDR=" + s.SMTPAddr()}
}
