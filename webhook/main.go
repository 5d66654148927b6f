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

	"golang.org/x/time/rate"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/edge"
	"github.com/cloudpartners/onboarding/internal/httpserver"
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

// run opens the edge (config → store → Temporal client → actions), serves
// the HTTP server until ctx is done, then shuts down gracefully.
func run(ctx context.Context, _ []string, getenv config.Getenv, stderr io.Writer) error {
	e, err := edge.Open(ctx, "webhook", getenv, stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	cfg, logger := e.Config, e.Logger
	pg, err := parsePages()
	if err != nil {
		return err
	}
	s := &server{
		invitations: e.Actions, loginCalls: e.Store, loginSecret: cfg.LoginSecret,
		brand: cfg.Brand, now: time.Now, logger: logger, pages: pg, ping: e.Store.Ping,
		limiter: newLimiter(rate.Limit(cfg.WebhookRate), cfg.WebhookBurst, maxClients, time.Now),
	}

	ln, err := net.Listen("tcp", cfg.WebhookAddr)
	if err != nil {
		return fmt.Errorf("WEBHOOK_ADDR %s: %w", cfg.WebhookAddr, err)
	}
	srv := httpserver.New(e.Tracing.HTTP(s.routes()), logger)
	logger.Info("webhook listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL,
		"temporal", cfg.Temporal.HostPort, "namespace", cfg.Temporal.Namespace, "rate", cfg.WebhookRate, "burst", cfg.WebhookBurst)
	return httpserver.Run(ctx, srv, ln, logger)
}
