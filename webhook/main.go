// Command webhook is the public HTTP edge of onboarding: the customer's
// confirmation page and the identity system's signed login callback. It
// confirms by signalling the onboarding workflow.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"golang.org/x/time/rate"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/store"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "webhook:", err)
		os.Exit(1)
	}
}

const (
	// maxClients bounds the rate limiter's memory.
	maxClients      = 10_000
	shutdownTimeout = 15 * time.Second
)

// run wires config → store → Temporal client → actions → HTTP server and serves until
// ctx is done, then shuts down gracefully.
func run(ctx context.Context, _ []string, getenv config.Getenv, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := cfg.Logger(stderr).With("service", "webhook")

	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: 40})
	if err != nil {
		return err
	}
	defer st.Close()

	opts := cfg.Temporal
	opts.Logger = tlog.NewStructuredLogger(logger)
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
	srv := &http.Server{
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second, // above signalTimeout: a slow Temporal still gets its answer out
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("webhook listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"temporal", opts.HostPort, "namespace", opts.Namespace, "rate", cfg.WebhookRate, "burst", cfg.WebhookBurst)

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("webhook shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	logger.Info("webhook stopped")
	return nil
}
