// Package httpserver is what every HTTP edge's handlers share: one log
// line per request, the security headers of pages that carry secrets, the
// client's address, told by trusted proxies only (clientaddr.go), and pages
// parsed and rendered whole (pages.go). The servers themselves run under
// internal/daemon.
package httpserver

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/text"
)

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
			"user_agent", text.Truncate(strings.ToValidUTF8(r.UserAgent(), "?"), 120))
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
