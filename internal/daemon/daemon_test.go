package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec.Code, rec.Body.String()
}

// TestHealth: /healthz answers while the process does, whatever it
// depends on; /readyz follows every check and the drain, each answer
// naming what is missing.
func TestHealth(t *testing.T) {
	var db, temporal error
	h := NewHealth(quiet, Check{"database", func(context.Context) error { return db }}, Check{"temporal", func(context.Context) error { return temporal }})
	mux := http.NewServeMux()
	h.Routes(mux)
	for _, tc := range []struct {
		db, temporal     error
		drain            bool
		healthz, readyz  int
		readyBodyContain string
	}{
		{nil, nil, false, 200, 200, "ok"},
		{nil, errors.New("down"), false, 200, 503, "temporal unreachable"},
		{errors.New("down"), nil, false, 200, 503, "database unreachable"},
		{nil, nil, true, 200, 503, "draining"},
	} {
		db, temporal = tc.db, tc.temporal
		if tc.drain {
			h.Drain()
		}
		if code, _ := get(t, mux, "/healthz"); code != tc.healthz {
			t.Errorf("%+v: /healthz %d, want %d", tc, code, tc.healthz)
		}
		code, body := get(t, mux, "/readyz")
		if code != tc.readyz || !strings.Contains(body, tc.readyBodyContain) {
			t.Errorf("%+v: /readyz %d %q, want %d %q", tc, code, body, tc.readyz, tc.readyBodyContain)
		}
	}
}

// TestServeDrains: when the context ends, readiness fails at once, the
// request in flight finishes with its answer, and Serve returns.
func TestServeDrains(t *testing.T) {
	h := NewHealth(quiet)
	inFlight, release := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	h.Routes(mux)
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		close(inFlight)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	ln, err := Listen("TEST_ADDR", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- Serve(ctx, NewServer(mux, quiet), ln, h, 0, quiet) }()
	answered := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + ln.Addr().String() + "/slow")
		if err != nil {
			answered <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- string(b)
	}()
	<-inFlight
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for code, _ := get(t, mux, "/readyz"); code != http.StatusServiceUnavailable; code, _ = get(t, mux, "/readyz") {
		if time.Now().After(deadline) {
			t.Fatal("readiness did not fail on drain")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	if got := <-answered; got != "finished" {
		t.Fatalf("the request in flight got %q", got)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve: %v", err)
	}
}

// TestListenNamesTheVariable: a taken address fails naming its setting.
func TestListenNamesTheVariable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = Listen("WEBHOOK_ADDR", ln.Addr().String())
	if err == nil || !strings.HasPrefix(err.Error(), "WEBHOOK_ADDR "+ln.Addr().String()+": ") {
		t.Fatalf("err = %v, want one naming WEBHOOK_ADDR and the address", err)
	}
}

// TestMetrics: /metrics shows db_statements_total from zero, counting.
func TestMetrics(t *testing.T) {
	m := NewMetrics()
	_, body := get(t, m.Handler(), "/metrics")
	if !strings.Contains(body, "\ndb_statements_total 0\n") {
		t.Fatalf("db_statements_total is not at zero from the start:\n%s", body)
	}
	m.DBStatements.Add(3)
	if _, body = get(t, m.Handler(), "/metrics"); !strings.Contains(body, "\ndb_statements_total 3\n") {
		t.Fatalf("db_statements_total did not count:\n%s", body)
	}
	stop, err := ServeMetrics("METRICS_ADDR", "", m, quiet)
	if err != nil {
		t.Fatal(err)
	}
	stop() // an empty address serves nothing, and stops cleanly
}
