// Command portal is the partners' edge: its staff sign in with the cloud's
// identity provider (OpenID Connect) and onboard and look after their
// customers — pages for people, a JSON API for machines with API keys —
// each scoped to their own partner, every action audited. It only
// translates: the actions live in internal/onboarding.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/telemetry"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

// run wires config → store → Temporal client → actions → sign-in → HTTP
// server and serves until ctx is done, then shuts down gracefully.
func run(ctx context.Context, _ []string, getenv config.Getenv, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := cfg.Logger(stderr).With("service", "portal")
	tracing, err := telemetry.Start(ctx, cfg, "portal", logger)
	if err != nil {
		return err
	}
	defer tracing.Close(ctx)
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: cfg.DBMaxConns, Tracing: tracing.Provider()})
	if err != nil {
		return err
	}
	defer st.Close()
	opts := cfg.Temporal
	opts.Logger = tlog.NewStructuredLogger(logger)
	opts.Interceptors = append(opts.Interceptors, tracing.Interceptors()...)
	tc, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	defer tc.Close()
	svc, err := onboarding.New(cfg, st, tc)
	if err != nil {
		return err
	}
	s, err := newServer(cfg, svc, st, logger, time.Now)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.PortalAddr)
	if err != nil {
		return fmt.Errorf("PORTAL_ADDR %s: %w", cfg.PortalAddr, err)
	}
	logger.Info("portal listening", "addr", ln.Addr().String(), "public_url", cfg.PortalURL, "issuer", cfg.OIDCIssuer,
		"temporal", opts.HostPort, "namespace", opts.Namespace)
	return httpserver.Run(ctx, httpserver.New(tracing.HTTP(s.routes(), "/static/"), logger), ln, logger)
}
