// Command webhook is the public HTTP edge of onboarding: the customer's
// confirmation page and the identity system's signed login callback. It
// confirms by signalling the onboarding workflow.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"golang.org/x/time/rate"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/links"
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

// Defaults of the webhook's own settings.
const (
	// The rate limit is per client address and generous: a benchmark posts
	// many confirms from one address.
	defaultRate  = 200 // POSTs per second
	defaultBurst = 400
	// maxClients bounds the rate limiter's memory.
	maxClients      = 10_000
	shutdownTimeout = 15 * time.Second
)

// limits are the rate-limit settings: WEBHOOK_RATE (POSTs per second per
// client address) and WEBHOOK_BURST.
type limits struct {
	rate  float64
	burst int
}

func loadLimits(getenv config.Getenv) (limits, error) {
	l := limits{rate: defaultRate, burst: defaultBurst}
	var errs []error
	if v := getenv("WEBHOOK_RATE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			errs = append(errs, fmt.Errorf("WEBHOOK_RATE: want POSTs per second per client address, a number above 0 such as 200 or 0.5, got %q", v))
		} else {
			l.rate = f
		}
	}
	if v := getenv("WEBHOOK_BURST"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			errs = append(errs, fmt.Errorf("WEBHOOK_BURST: want a whole number of POSTs from 1 to 1000000, got %q", v))
		} else {
			l.burst = n
		}
	}
	return l, errors.Join(errs...)
}

// run wires config → store → Temporal client → HTTP server and serves until
// ctx is done, then shuts down gracefully.
func run(ctx context.Context, _ []string, getenv config.Getenv, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	lim, err := loadLimits(getenv)
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

	pg, err := parsePages()
	if err != nil {
		return err
	}
	s := &server{
		store: st, temporal: c, links: links.NewSigner(cfg.Secret), loginSecret: cfg.LoginSecret,
		brand: cfg.Brand, now: time.Now, logger: logger, pages: pg, ping: st.DB().PingContext,
		limiter: newLimiter(rate.Limit(lim.rate), lim.burst, maxClients, time.Now),
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
		"temporal", opts.HostPort, "namespace", opts.Namespace, "rate", lim.rate, "burst", lim.burst)

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
