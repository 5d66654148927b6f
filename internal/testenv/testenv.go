// Package testenv gives tests the real stack that `make test` starts:
// a fresh Postgres database per test, the Temporal dev server and mailpit.
// A test that needs the stack fails, never skips, when it is missing. It is
// a thin layer over internal/stack for testing.TB.
package testenv

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // the Postgres driver
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
)

// addrs are the stack's addresses: those the environment names (`make test`
// exports them), else those of `make up`.
func addrs() stack.Addrs { return stack.FromEnv(os.Getenv) }

// DatabaseURL is the stack's database, used to create per-test databases.
func DatabaseURL() string { return addrs().DatabaseURL }

// TemporalAddress is the stack's Temporal frontend.
func TemporalAddress() string { return addrs().Temporal }

// SMTPAddr is the stack's SMTP server.
func SMTPAddr() string { return addrs().SMTP }

// MailpitURL is the base URL of mailpit's HTTP API.
func MailpitURL() string { return addrs().Mailpit }

// OIDCIssuer is the stack's OpenID Connect provider (devidp, with its demo users).
func OIDCIssuer() string {
	if v := os.Getenv("OIDC_ISSUER"); v != "" {
		return v
	}
	return "http://127.0.0.1:5556" // make up's local identity provider, devidp
}

// WebUIURL is the stack's Temporal Web UI, which decodes payloads through
// the stack's codec server.
func WebUIURL() string { return envOr("TEMPORAL_UI_URL", "http://127.0.0.1:8233") }

// CodecURL is the stack's codec server (codecserver/), with the
// development payload keys and operator token.
func CodecURL() string { return envOr("CODEC_URL", "http://127.0.0.1:8089") }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// RequireStack fails the test when a component of the stack does not answer.
func RequireStack(tb testing.TB) {
	tb.Helper()
	for _, addr := range []string{TemporalAddress(), SMTPAddr()} {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			tb.Fatalf("the stack is not running (%s: %v): run `make up`, or `make test` which starts it", addr, err)
		}
		c.Close()
	}
}

// Suffix returns a short random string to keep test data apart.
func Suffix() string { return stack.Suffix() }

// NewDatabase creates an empty database for one test, dropped at cleanup,
// and returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	admin, err := sql.Open("postgres", DatabaseURL())
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	name := "test_" + Suffix()
	if _, err := admin.ExecContext(tb.Context(), "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("Postgres is not reachable at DATABASE_URL (%v): run `make up`, or `make test` which starts it", err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("postgres", DatabaseURL())
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, err := url.Parse(DatabaseURL())
	if err != nil {
		tb.Fatalf("DATABASE_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// NewStore opens a store on a fresh, migrated database.
func NewStore(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	dsn := NewDatabase(tb)
	st, err := store.Open(tb.Context(), dsn, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, dsn
}

// Getenv returns a lookup over the given variables, falling back to the
// stack's addresses (and its client certificate, when its frontends
// require mTLS), for a binary's run function.
func Getenv(vars map[string]string) config.Getenv {
	defaults := map[string]string{}
	for _, kv := range append(addrs().Env(), stack.TLSEnviron()...) {
		k, v, _ := strings.Cut(kv, "=")
		defaults[k] = v
	}
	defaults["OIDC_ISSUER"] = OIDCIssuer()
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return defaults[k]
	}
}

// Mail is a message as mailpit reports it.
type Mail = stack.Mail

func mailpit(tb testing.TB, err error) {
	tb.Helper()
	tb.Fatalf("read mail from mailpit at %s (%v): run `make up`, or `make test` which starts it", MailpitURL(), err)
}

// MailTo returns every message mailpit holds for an address, with bodies.
func MailTo(tb testing.TB, address string) []Mail {
	tb.Helper()
	msgs, err := stack.NewMailpit(MailpitURL()).MailTo(tb.Context(), address)
	if err != nil {
		mailpit(tb, err)
	}
	return msgs
}

// WaitMail waits until mailpit holds at least n messages for an address.
func WaitMail(tb testing.TB, address string, n int, timeout time.Duration) []Mail {
	tb.Helper()
	ctx, cancel := context.WithTimeout(tb.Context(), timeout)
	defer cancel()
	msgs, err := stack.NewMailpit(MailpitURL()).WaitMail(ctx, address, n)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		tb.Fatalf("mailpit holds %d messages for %s, want %d", len(msgs), address, n)
	case err != nil:
		mailpit(tb, err)
	}
	return msgs
}

// LinkIn returns the confirmation link found in a message's text part.
func LinkIn(tb testing.TB, m Mail) string {
	tb.Helper()
	link := stack.LinkIn(m.Text)
	if link == "" {
		tb.Fatalf("no confirmation link in message %s", m.MessageID)
	}
	return link
}

// Eventually polls cond until it holds or the timeout passes.
func Eventually(tb testing.TB, timeout time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Client dials the stack's Temporal with the SDK's logs silenced; it is
// closed at cleanup.
func Client(tb testing.TB) client.Client {
	tb.Helper()
	c, err := stack.Dial(tb.Context(), TemporalAddress(), io.Discard)
	if err != nil {
		tb.Fatalf("%v: run `make up`, or `make test` which starts it", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// ClientWith dials the stack's Temporal with a data converter of the
// test's choosing: other payload keys, or none at all.
func ClientWith(tb testing.TB, dc converter.DataConverter) client.Client {
	tb.Helper()
	// The stack's client certificate when its frontends require mTLS.
	tlsConfig, err := stack.EnvTLS()
	if err != nil {
		tb.Fatal(err)
	}
	c, err := client.DialContext(tb.Context(), client.Options{HostPort: TemporalAddress(), DataConverter: dc,
		ConnectionOptions: client.ConnectionOptions{TLS: tlsConfig},
		Logger:            tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		tb.Fatalf("connect to Temporal at %s (%v): run `make up`, or `make test` which starts it", TemporalAddress(), err)
	}
	tb.Cleanup(c.Close)
	return c
}
