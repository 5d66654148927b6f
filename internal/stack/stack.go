// Package stack starts and stops the local stack — a Temporal server, a
// Postgres cluster and mailpit, run by scripts/stack.sh — and the
// repository's binaries, and reads what they leave: mailpit's messages,
// workflow histories and the Temporal server's metrics. Tests (through
// internal/testenv), the benchmark and the chaos run share it.
package stack

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Ports are the loopback ports of one stack.
type Ports struct {
	Temporal, TemporalUI, TemporalMetrics, Postgres, SMTP, Mailpit int
	// TemporalInternal is the first of the ports the full server's
	// services (seven) or the cluster's hosts (InternalPorts) talk to each
	// other on (TEMPORAL_SERVER=full or cluster).
	TemporalInternal int
}

// DefaultPorts are the ports of `make up`, scripts/stack.sh's defaults.
var DefaultPorts = Ports{Temporal: 7233, TemporalUI: 8233, TemporalMetrics: 7234, Postgres: 55432, SMTP: 1025, Mailpit: 8025,
	TemporalInternal: 17233}

// InternalPorts is how many ports from Ports.TemporalInternal the cluster
// takes (four for each of its six hosts: gRPC, membership, metrics, HTTP;
// scripts/stack.sh's CLUSTER_PORTS); the full server takes the first seven.
const InternalPorts = 24

// ClusterHosts are the hosts of the cluster (TEMPORAL_SERVER=cluster), as
// scripts/stack.sh names them: `scripts/stack.sh kill temporal-HOST`.
var ClusterHosts = []string{"frontend-1", "frontend-2", "history-1", "history-2", "matching", "worker"}

// Addrs are where the parts of a stack answer.
type Addrs struct {
	Temporal    string // the frontend's host:port
	DatabaseURL string // the onboarding database
	SMTP        string // mailpit's SMTP host:port
	Mailpit     string // base URL of mailpit's API
	Metrics     string // the Temporal server's Prometheus endpoint; a cluster's: every host's, comma-separated
}

// Addrs are the addresses of a stack on these ports.
func (p Ports) Addrs() Addrs {
	return Addrs{
		Temporal:    fmt.Sprintf("127.0.0.1:%d", p.Temporal),
		DatabaseURL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/onboarding?sslmode=disable", p.Postgres),
		SMTP:        fmt.Sprintf("127.0.0.1:%d", p.SMTP),
		Mailpit:     fmt.Sprintf("http://127.0.0.1:%d", p.Mailpit),
		Metrics:     fmt.Sprintf("http://127.0.0.1:%d/metrics", p.TemporalMetrics),
	}
}

// FromEnv returns the addresses the environment names — what
// `scripts/stack.sh env` prints — and those of DefaultPorts for the rest.
func FromEnv(getenv func(string) string) Addrs {
	a := DefaultPorts.Addrs()
	for _, v := range []struct {
		dst  *string
		name string
	}{{&a.Temporal, "TEMPORAL_ADDRESS"}, {&a.DatabaseURL, "DATABASE_URL"}, {&a.SMTP, "SMTP_ADDR"},
		{&a.Mailpit, "MAILPIT_URL"}, {&a.Metrics, "TEMPORAL_METRICS_URL"}} {
		if s := getenv(v.name); s != "" {
			*v.dst = s
		}
	}
	return a
}

// Env is the environment that points a binary of the repository at these
// addresses.
func (a Addrs) Env() []string {
	return []string{"TEMPORAL_ADDRESS=" + a.Temporal, "DATABASE_URL=" + a.DatabaseURL, "SMTP_ADDR=" + a.SMTP}
}

// Stack is a private local stack: a Temporal server (dev or full, as
// TEMPORAL_SERVER says), a Postgres cluster and mailpit, run by scripts/stack.sh under its own state folder, so that
// killing or restarting its parts disturbs nobody else.
type Stack struct {
	Root  string // repository root, where scripts/stack.sh lives
	State string // STACK_STATE
	Ports Ports
	Log   io.Writer // the script's output
	// Server is the Temporal server to run, "dev", "full" or "cluster";
	// empty: as the caller's TEMPORAL_SERVER says.
	Server string
	// TLS is "mtls" for frontends that require a client certificate (the
	// full server or a cluster; scripts/stack.sh makes a local CA); empty:
	// as the caller's STACK_TLS says.
	TLS string

	metricsURL string // a cluster's, read from the script once
}

// Open wipes the state folder and starts a fresh stack there on free ports
// (see Start), the script's output in the file beside it named
// <state>-stack.log.
func Open(ctx context.Context, root, state string) (*Stack, error) {
	if err := os.MkdirAll(filepath.Dir(state), 0o755); err != nil {
		return nil, fmt.Errorf("stack state: %w", err)
	}
	log, err := os.OpenFile(state+"-stack.log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("stack log: %w", err)
	}
	s := &Stack{Root: root, State: state, Log: log}
	if err := s.Start(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// env is the script's environment: the caller's, without the variables that
// would make it use another stack, plus this stack's state folder and ports.
func (s *Stack) env() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "TEMPORAL_ADDRESS", "DATABASE_URL", "SMTP_ADDR", "MAILPIT_URL", "TEMPORAL_METRICS_URL", "STACK_STATE",
			"TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH", "TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME",
			"TEMPORAL_PORT", "TEMPORAL_HTTP_PORT", "TEMPORAL_UI_PORT", "TEMPORAL_METRICS_PORT", "TEMPORAL_INTERNAL_PORT", "PG_PORT", "SMTP_PORT", "MAILPIT_PORT",
			"OIDC_ISSUER", "DEVIDP_PORT", "CODEC_PORT", "CODEC_URL", "TEMPORAL_UI_URL":
			continue
		}
		out = append(out, kv)
	}
	if s.Server != "" {
		out = append(slices.DeleteFunc(out, func(kv string) bool { return strings.HasPrefix(kv, "TEMPORAL_SERVER=") }),
			"TEMPORAL_SERVER="+s.Server)
	}
	if s.TLS != "" {
		out = append(slices.DeleteFunc(out, func(kv string) bool { return strings.HasPrefix(kv, "STACK_TLS=") }),
			"STACK_TLS="+s.TLS)
	}
	return append(out, "STACK_STATE="+s.State,
		"TEMPORAL_PORT="+strconv.Itoa(s.Ports.Temporal),
		"TEMPORAL_UI_PORT="+strconv.Itoa(s.Ports.TemporalUI),
		"TEMPORAL_METRICS_PORT="+strconv.Itoa(s.Ports.TemporalMetrics),
		"TEMPORAL_INTERNAL_PORT="+strconv.Itoa(s.Ports.TemporalInternal),
		"PG_PORT="+strconv.Itoa(s.Ports.Postgres),
		"SMTP_PORT="+strconv.Itoa(s.Ports.SMTP),
		"MAILPIT_PORT="+strconv.Itoa(s.Ports.Mailpit))
}

// script runs scripts/stack.sh with args; what it prints goes to s.Log, or
// is returned when out is set.
func (s *Stack) script(ctx context.Context, out *strings.Builder, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(s.Root, "scripts", "stack.sh"), args...)
	cmd.Env = s.env()
	cmd.Dir = s.Root
	if s.Log != nil {
		cmd.Stdout, cmd.Stderr = s.Log, s.Log
	}
	if out != nil {
		cmd.Stdout = out
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scripts/stack.sh %s: %w", strings.Join(args, " "), err)
	}
	return nil
}

// Up starts the named parts of the stack ("temporal", "postgres",
// "mailpit"; those three when none is named — a private stack needs no
// identity provider) where they are not running, and waits until they answer.
func (s *Stack) Up(ctx context.Context, parts ...string) error {
	if len(parts) == 0 {
		parts = []string{"temporal", "postgres", "mailpit"}
	}
	return s.script(ctx, nil, append([]string{"up"}, parts...)...)
}

// Start wipes the state folder and starts a fresh stack on free ports. The
// dev server picks its internal ports itself, and on a busy machine one may
// be taken before it binds it: then the stack is stopped and started again
// on new ports, up to three times.
func (s *Stack) Start(ctx context.Context) error {
	var err error
	for range 3 {
		// Whatever an interrupted run left behind is stopped and wiped.
		if err = s.Wipe(ctx); err != nil {
			return err
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
func (s *Stack) Down(ctx context.Context) error { return s.script(ctx, nil, "down") }

// Wipe stops every part of the stack that Up started and deletes its state,
// Postgres's data included wherever the script keeps it.
func (s *Stack) Wipe(ctx context.Context) error { return s.script(ctx, nil, "wipe") }

// StopTemporal stops the Temporal server; its state (the dev server's file,
// the full server's databases) keeps the workflows.
func (s *Stack) StopTemporal(ctx context.Context) error {
	return s.script(ctx, nil, "down", "temporal")
}

// KillTemporal SIGKILLs the Temporal server, as a crash would; Up starts it
// again.
func (s *Stack) KillTemporal(ctx context.Context) error {
	return s.script(ctx, nil, "kill", "temporal")
}

// Server is the Temporal server the stack runs: "dev", "full" or
// "cluster", as TEMPORAL_SERVER says (scripts/stack.sh's default: dev).
func Server(getenv func(string) string) string {
	switch s := getenv("TEMPORAL_SERVER"); s {
	case "full", "cluster":
		return s
	}
	return "dev"
}

// TemporalServer is the Temporal server this stack runs: its Server, or
// the caller's TEMPORAL_SERVER when that is empty.
func (s *Stack) TemporalServer() string {
	if s.Server != "" {
		return Server(func(string) string { return s.Server })
	}
	return Server(os.Getenv)
}

// KillTemporalHost SIGKILLs one host of the cluster (one of ClusterHosts),
// as a crash would; StartTemporalHost, or Up, starts it again.
func (s *Stack) KillTemporalHost(ctx context.Context, host string) error {
	if !slices.Contains(ClusterHosts, host) {
		return fmt.Errorf("kill temporal host %q: not one of %v", host, ClusterHosts)
	}
	return s.script(ctx, nil, "kill", "temporal-"+host)
}

// StartTemporalHost starts one host of the cluster where it is not
// running, and waits until it answers.
func (s *Stack) StartTemporalHost(ctx context.Context, host string) error {
	if !slices.Contains(ClusterHosts, host) {
		return fmt.Errorf("start temporal host %q: not one of %v", host, ClusterHosts)
	}
	return s.script(ctx, nil, "up", "temporal-"+host)
}

// TemporalHostPid is the process id of a running host of the cluster.
func (s *Stack) TemporalHostPid(host string) (int, error) {
	b, err := os.ReadFile(filepath.Join(s.State, "temporal-"+host+".pid"))
	if err != nil {
		return 0, fmt.Errorf("temporal host %s: %w", host, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("temporal host %s: pid file: %w", host, err)
	}
	return pid, nil
}

// KillPostgres stops Postgres hard, as a crash would (`pg_ctl stop -m
// immediate`); Up starts it again.
func (s *Stack) KillPostgres(ctx context.Context) error {
	return s.script(ctx, nil, "kill", "postgres")
}

// PGData is the folder that holds Postgres's data, as the script chose it:
// inside the state folder, or outside it where the postgres user could not
// enter the state folder.
func (s *Stack) PGData(ctx context.Context) (string, error) {
	var out strings.Builder
	if err := s.script(ctx, &out, "pgdata"); err != nil {
		return "", err
	}
	return strings.TrimSpace(out.String()), nil
}

// Dir returns the folder of that name inside the state folder ("logs",
// "bin"), created if missing.
func (s *Stack) Dir(name string) (string, error) {
	d := filepath.Join(s.State, name)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return "", fmt.Errorf("stack: %w", err)
	}
	return d, nil
}

// Addrs are the addresses of the stack's parts.
func (s *Stack) Addrs() Addrs { return s.Ports.Addrs() }

// TemporalAddress is the frontend's host:port.
func (s *Stack) TemporalAddress() string { return s.Addrs().Temporal }

// DatabaseURL is the onboarding database of the stack's Postgres.
func (s *Stack) DatabaseURL() string { return s.Addrs().DatabaseURL }

// SMTPAddr is mailpit's SMTP address.
func (s *Stack) SMTPAddr() string { return s.Addrs().SMTP }

// MailpitURL is the base URL of mailpit's API.
func (s *Stack) MailpitURL() string { return s.Addrs().Mailpit }

// MetricsURL is the Temporal server's Prometheus endpoint; a cluster's
// are every host's, comma-separated, as scripts/stack.sh's env names them
// (Actions sums over them).
func (s *Stack) MetricsURL() string {
	if s.TemporalServer() != "cluster" {
		return s.Addrs().Metrics
	}
	if s.metricsURL == "" {
		var out strings.Builder
		if err := s.script(context.Background(), &out, "env"); err == nil {
			for l := range strings.SplitSeq(out.String(), "\n") {
				if v, ok := strings.CutPrefix(l, "export TEMPORAL_METRICS_URL="); ok {
					s.metricsURL = v
				}
			}
		}
	}
	if s.metricsURL == "" {
		return s.Addrs().Metrics
	}
	return s.metricsURL
}

// Env is the environment a binary of the repository needs to use this
// stack: its addresses, and its client certificate when the frontends
// require mTLS.
func (s *Stack) Env() []string { return append(s.Addrs().Env(), s.TLSEnv()...) }

// UsesTLS reports whether the stack's frontends require mTLS: its TLS, or
// the caller's STACK_TLS.
func (s *Stack) UsesTLS() bool {
	if s.TLS != "" {
		return s.TLS == "mtls"
	}
	return os.Getenv("STACK_TLS") == "mtls"
}

// TLSEnv is the SDK's environment (TEMPORAL_TLS_*) for the stack's
// client certificate, as scripts/stack.sh env prints it; none when the
// frontends take plain connections.
func (s *Stack) TLSEnv() []string {
	if !s.UsesTLS() {
		return nil
	}
	d := filepath.Join(s.State, "tls")
	return []string{"TEMPORAL_TLS=true",
		"TEMPORAL_TLS_CLIENT_CERT_PATH=" + filepath.Join(d, "client.pem"),
		"TEMPORAL_TLS_CLIENT_KEY_PATH=" + filepath.Join(d, "client-key.pem"),
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH=" + filepath.Join(d, "ca.pem"),
		"TEMPORAL_TLS_SERVER_NAME=localhost"}
}
