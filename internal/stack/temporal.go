package stack

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/config"
)

// tlsVars are the SDK's environment settings of a TLS connection to the
// frontend, as scripts/stack.sh env prints them for STACK_TLS=mtls.
var tlsVars = []string{"TEMPORAL_TLS", "TEMPORAL_TLS_CLIENT_CERT_PATH", "TEMPORAL_TLS_CLIENT_KEY_PATH",
	"TEMPORAL_TLS_SERVER_CA_CERT_PATH", "TEMPORAL_TLS_SERVER_NAME"}

// EnvTLS is the TLS configuration of a connection to the frontend that
// the environment's TEMPORAL_TLS_* settings give (nil: plain), for a
// client built with options of its own.
func EnvTLS() (*tls.Config, error) {
	v := config.New(func(k string) string {
		if slices.Contains(tlsVars, k) {
			return os.Getenv(k)
		}
		return ""
	})
	opts := config.LoadTemporal(v).Options
	if err := v.Err(); err != nil {
		return nil, err
	}
	return opts.ConnectionOptions.TLS, nil
}

// TLSEnviron is the environment's TEMPORAL_TLS_* settings, NAME=VALUE:
// what a binary started with an environment of its own needs to reach
// frontends that require mTLS; none for a plain stack.
func TLSEnviron() []string {
	var env []string
	for _, k := range tlsVars {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// Dial connects to the Temporal frontend at hostPort, with TLS as the
// environment's TEMPORAL_TLS_* settings say (the shared stack's, from
// `scripts/stack.sh env`). The SDK's warnings and errors go to log as
// text, so that they do not mix with what a program prints; io.Discard
// silences them.
func Dial(ctx context.Context, hostPort string, log io.Writer) (client.Client, error) {
	return DialEnv(ctx, hostPort, TLSEnviron(), log)
}

// DialEnv connects to the Temporal frontend at hostPort with the TLS
// settings of env (NAME=VALUE, TEMPORAL_TLS_*; none: plain), whatever the
// process's environment says.
func DialEnv(ctx context.Context, hostPort string, env []string, log io.Writer) (client.Client, error) {
	vars := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, "TEMPORAL_TLS") {
			vars[k] = v
		}
	}
	// The binaries' default configuration: the development payload key, so
	// that this client reads what they write.
	v := config.New(func(k string) string { return vars[k] })
	opts := config.LoadTemporal(v).Options
	if err := v.Err(); err != nil {
		return nil, err
	}
	opts.HostPort = hostPort
	opts.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn})))
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", hostPort, err)
	}
	return c, nil
}

// Dial connects to the stack's Temporal, with its client certificate when
// its frontends require mTLS.
func (s *Stack) Dial(ctx context.Context, log io.Writer) (client.Client, error) {
	return DialEnv(ctx, s.TemporalAddress(), s.TLSEnv(), log)
}
