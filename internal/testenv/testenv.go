// Package testenv gives tests the real stack that `make test` starts:
// a fresh Postgres database per test, the Temporal dev server and mailpit.
// A test that needs the stack fails, never skips, when it is missing.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/lib/pq" // the Postgres driver
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/store"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// DatabaseURL is the stack's database, used to create per-test databases.
func DatabaseURL() string { return env("DATABASE_URL", config.DefaultDatabaseURL) }

// TemporalAddress is the stack's Temporal frontend.
func TemporalAddress() string { return env("TEMPORAL_ADDRESS", "127.0.0.1:7233") }

// SMTPAddr is the stack's SMTP server.
func SMTPAddr() string { return env("SMTP_ADDR", config.DefaultSMTPAddr) }

// MailpitURL is the base URL of mailpit's HTTP API.
func MailpitURL() string { return env("MAILPIT_URL", "http://127.0.0.1:8025") }

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
func Suffix() string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

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
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		tb.Fatalf("Postgres is not reachable at DATABASE_URL (%v): run `make up`, or `make test` which starts it", err)
	}
	tb.Cleanup(func() {
		a, err := sql.Open("postgres", DatabaseURL())
		if err == nil {
			_, _ = a.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
			a.Close()
		}
	})
	u, _ := url.Parse(DatabaseURL())
	u.Path = "/" + name
	return u.String()
}

// NewStore opens a store on a fresh, migrated database.
func NewStore(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	dsn := NewDatabase(tb)
	st, err := store.Open(context.Background(), dsn, store.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, dsn
}

// Getenv returns a lookup over the given variables, falling back to the
// stack's addresses, for a binary's run function.
func Getenv(vars map[string]string) config.Getenv {
	defaults := map[string]string{
		"TEMPORAL_ADDRESS": TemporalAddress(),
		"SMTP_ADDR":        SMTPAddr(),
		"DATABASE_URL":     DatabaseURL(),
	}
	return func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return defaults[k]
	}
}

// Mail is a message as mailpit reports it.
type Mail struct {
	ID        string `json:"ID"`
	MessageID string `json:"MessageID"`
	Subject   string `json:"Subject"`
	To        []struct {
		Address string `json:"Address"`
	} `json:"To"`
	Text string `json:"Text"`
	HTML string `json:"HTML"`
}

// MailTo returns every message mailpit holds for an address, with bodies.
func MailTo(tb testing.TB, address string) []Mail {
	tb.Helper()
	var list struct {
		Messages []Mail `json:"messages"`
	}
	getJSON(tb, MailpitURL()+"/api/v1/search?limit=500&query="+url.QueryEscape(`to:"`+address+`"`), &list)
	out := make([]Mail, 0, len(list.Messages))
	for _, m := range list.Messages {
		var full Mail
		getJSON(tb, MailpitURL()+"/api/v1/message/"+m.ID, &full)
		out = append(out, full)
	}
	return out
}

// WaitMail waits until mailpit holds at least n messages for an address.
func WaitMail(tb testing.TB, address string, n int, timeout time.Duration) []Mail {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		msgs := MailTo(tb, address)
		if len(msgs) >= n || time.Now().After(deadline) {
			if len(msgs) < n {
				tb.Fatalf("mailpit holds %d messages for %s, want %d", len(msgs), address, n)
			}
			return msgs
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// LinkIn returns the confirmation link found in a message's text part.
func LinkIn(tb testing.TB, m Mail) string {
	tb.Helper()
	for _, f := range strings.Fields(m.Text) {
		if strings.Contains(f, "/confirm?token=") {
			return f
		}
	}
	tb.Fatalf("no confirmation link in message %s", m.MessageID)
	return ""
}

func getJSON(tb testing.TB, u string, v any) {
	tb.Helper()
	resp, err := http.Get(u)
	if err != nil {
		tb.Fatalf("mailpit is not reachable (%v): run `make up`, or `make test` which starts it", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("mailpit %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("mailpit %s: %v", u, err)
	}
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

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// Client dials the stack's Temporal with the SDK's logs silenced; it is
// closed at cleanup.
func Client(tb testing.TB) client.Client {
	tb.Helper()
	c, err := client.Dial(client.Options{HostPort: TemporalAddress(),
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		tb.Fatalf("connect to Temporal at %s (%v): run `make up`, or `make test` which starts it", TemporalAddress(), err)
	}
	tb.Cleanup(c.Close)
	return c
}
