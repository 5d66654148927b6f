// Package daemon is what every long-running binary (worker, webhook,
// portal, codec server, local identity provider) runs with: a main that
// turns SIGINT and SIGTERM into a cancelled context and a failure into one
// line and exit code 1; HTTP servers with bounded timeouts; health
// (/healthz: the process answers) and readiness (/readyz: what it needs
// answers, and it is not draining); and a graceful drain — on SIGTERM
// readiness fails first, then requests in flight finish, then it exits.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"
)

// Run is a binary's testable entry point: its arguments, environment and
// output streams (the usage on stdout, logs on stderr); it returns when
// ctx is cancelled, or with its failure.
type Run func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error

// Main runs run with a context that SIGINT and SIGTERM cancel, and exits
// with code 1 and one line on stderr when it fails.
func Main(name string, run Run) {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

// ShutdownTimeout bounds how long a stopping server waits for requests in flight.
const ShutdownTimeout = 15 * time.Second

// NewServer returns a server for handler with timeouts that keep slow
// clients from holding connections, and the server's own errors in logger.
func NewServer(handler http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second, // above every bounded wait for Temporal
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// Check is one thing a process needs to serve: Postgres, Temporal.
type Check struct {
	Name string
	Fn   func(context.Context) error
}

// Health answers /healthz and /readyz and knows whether the process is
// draining.
type Health struct {
	checks   []Check
	draining atomic.Bool
	logger   *slog.Logger
}

// NewHealth is the health of a process that needs what checks check.
func NewHealth(logger *slog.Logger, checks ...Check) *Health {
	return &Health{checks: checks, logger: logger}
}

// Drain marks the process as going away: /readyz fails from now on.
func (h *Health) Drain() { h.draining.Store(true) }

// Routes adds GET /healthz (200 while the process answers: liveness) and
// GET /readyz (200 while every check passes and the process is not
// draining: readiness) to mux. Liveness checks nothing the process shares
// with others: a Postgres outage must take every replica out of the
// balancer, not make Kubernetes restart them all into a crash-loop backoff
// that outlasts the outage.
func (h *Health) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		h.answer(w, r, nil, false)
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		h.answer(w, r, h.checks, true)
	})
}

func (h *Health) answer(w http.ResponseWriter, r *http.Request, checks []Check, ready bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if ready && h.draining.Load() {
		http.Error(w, "draining", http.StatusServiceUnavailable)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	for _, c := range checks {
		if err := c.Fn(ctx); err != nil {
			h.logger.Warn("health check failed", "check", c.Name, "error", err)
			http.Error(w, c.Name+" unreachable", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = io.WriteString(w, "ok\n")
}

// Serve serves srv on ln until ctx is done, then drains: health (when
// given) starts failing readiness, after drainDelay — time for a balancer
// to notice — the server stops taking connections and waits, at most
// ShutdownTimeout, for the requests in flight.
func Serve(ctx context.Context, srv *http.Server, ln net.Listener, health *Health, drainDelay time.Duration, logger *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	if health != nil {
		health.Drain()
	}
	logger.Info("draining", "delay", drainDelay)
	if drainDelay > 0 {
		time.Sleep(drainDelay)
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// Listen listens on addr, the error naming the variable it came from.
func Listen(variable, addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", variable, addr, err)
	}
	return ln, nil
}
