// Package httpserver is what every HTTP edge (webhook, portal, the local
// identity provider) runs with: a server with bounded timeouts, a graceful
// shutdown, one log line per request and the security headers of pages
// that carry secrets.
package httpserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"
)

// ShutdownTimeout bounds how long a stopping server waits for requests in flight.
const ShutdownTimeout = 15 * time.Second

// New returns a server for handler with timeouts that keep slow clients
// from holding connections, and the server's own errors in logger.
func New(handler http.Handler, logger *slog.Logger) *http.Server {
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

// Run serves on ln until ctx is done, then shuts down gracefully: requests
// in flight get ShutdownTimeout to finish.
func Run(ctx context.Context, srv *http.Server, ln net.Listener, logger *slog.Logger) error {
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shut down: %w", err)
	}
	logger.Info("stopped")
	return nil
}

// LogRequests logs one line per request: method, path, status, duration,
// client and user agent — never the query or the body, which may carry
// tokens, codes and passwords. A quiet path (a health check) answered 200
// is not logged.
func LogRequests(logger *slog.Logger, next http.Handler, quiet ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		if sw.status == http.StatusOK && slices.Contains(quiet, r.URL.Path) {
			return
		}
		logger.InfoContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration", time.Since(start).Round(time.Microsecond), "client", ClientAddr(r),
			"user_agent", strings.ToValidUTF8(truncate(r.UserAgent(), 120), "?"))
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the status and passes it on.
func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// SecurityHeaders sets what every answer of a page carrying secrets has:
// no caching, no content sniffing, no framing, the given
// Content-Security-Policy and Referrer-Policy. A page whose URL holds a
// secret wants "no-referrer"; a page whose forms are checked by their
// Origin wants "same-origin", under which browsers still send it.
func SecurityHeaders(csp, referrer string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", referrer)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", csp)
		next.ServeHTTP(w, r)
	})
}

// ClientAddr is the client's IP address: the peer of the connection.
// Behind a proxy that is the proxy; this edge does not trust
// X-Forwarded-For, which any client can set.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
