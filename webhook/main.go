// Command webhook is the public HTTP edge of onboarding: the customer's
// confirmation page and the identity system's signed login callback. It
// confirms by signalling the onboarding workflow.
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
	"golang.org/x/time/rate"

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
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

// maxClients bounds the rate limiter's memory.
const maxClients = 10_000

// run wires config → store → Temporal client → actions → HTTP server and serves until
// ctx is done, then shuts down gracefully.
func run(ctx context.Context, _ []string, getenv config.Getenv, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := cfg.Logger(stderr).With("service", "webhook")
	tracing, err := telemetry.Start(ctx, cfg, "webhook", logger)
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
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	defer c.Close()

	svc, err := onboarding.New(cfg, st, c)
	if err != nil {
		return err
	}
	pg, err := parsePages()
	if err != nil {
		return err
	}
	s := &server{
		invitations: svc, loginCalls: st, loginSecret: cfg.LoginSecret,
		brand: cfg.Brand, now: time.Now, logger: logger, pages: pg, ping: st.Ping,
		limiter: newLimiter(rate.Limit(cfg.WebhookRate), cfg.WebhookBurst, maxClients, time.Now),
	}

	ln, err := net.Listen("tcp", cfg.WebhookAddr)
	if err != nil {
		return fmt.Errorf("WEBHOOK_ADDR %s: %w", cfg.WebhookAddr, err)
	}
	srv := httpserver.New(tracing.HTTP(s.routes()), logger)
	logger.Info("webhook listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"temporal", opts.HostPort, "namespace", opts.Namespace, "rate", cfg.WebhookRate, "burst", cfg.WebhookBurst)
	return httpserver.Run(ctx, srv, ln, logger)
}
