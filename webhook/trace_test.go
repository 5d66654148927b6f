package main

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// The customer's POST /confirm and the activities that carry it out are one
// trace, across the webhook and the worker processes: the page's server
// span, the signal the webhook sends, and in the worker the activities the
// workflow runs after the signal — CreateCloud and its SQL below it. Both
// binaries export over OTLP to a collector the test runs, as in production,
// and flush when they stop. No span holds the customer's email, name or
// link.
func TestConfirmIsOneTraceFromTheRequestToTheCloud(t *testing.T) {
	col := testenv.NewCollector(t)
	e := startEnv(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint}, nil)
	o := e.launch(t, "traced", time.Hour)
	expect(t, e.post(t, o.token), http.StatusOK, "Confirmed")
	e.activeWithCloud(t, o, "link")

	// Stopping flushes: every span is at the collector once both have stopped.
	e.worker.Stop()
	e.stop()
	spans := col.Spans()

	server := testenv.Only(t, spans, "webhook", "POST /confirm")
	if server.Kind != tracepb.Span_SPAN_KIND_SERVER || len(server.ParentSpanId) != 0 {
		t.Errorf("POST /confirm: kind %s with parent %x, want a server span at the root", server.Kind, server.ParentSpanId)
	}
	trace := server.TraceId
	signal := testenv.Only(t, spans, "webhook", "SignalWorkflow:confirm")
	testenv.ChildOf(t, signal, server)
	testenv.ChildOf(t, testenv.Only(t, spans, "worker", "HandleSignal:confirm"), signal)
	testenv.ChildOf(t, testenv.Only(t, spans, "worker", "StartActivity:Activate"), signal)
	start := testenv.Only(t, spans, "worker", "StartActivity:CreateCloud")
	testenv.ChildOf(t, start, signal)
	run := testenv.Only(t, spans, "worker", "RunActivity:CreateCloud")
	testenv.ChildOf(t, run, start)
	var insert bool
	for _, s := range spans {
		if bytes.Equal(s.ParentSpanId, run.SpanId) {
			if !strings.HasPrefix(s.Name, "sql.") || s.Service != "worker" {
				t.Errorf("under RunActivity:CreateCloud: %s of %s, want the store's SQL", s.Name, s.Service)
			}
			insert = insert || strings.HasPrefix(s.Attr("db.query.text"), "INSERT INTO clouds")
		}
	}
	if !insert {
		t.Errorf("no SQL span inserts the cloud under RunActivity:CreateCloud")
	}
	for _, s := range []testenv.Span{signal, start, run} {
		if !bytes.Equal(s.TraceId, trace) {
			t.Errorf("%s is in trace %x, want %x: the one of POST /confirm", s.Name, s.TraceId, trace)
		}
	}

	// The email went out in the trace of the start, with a span for SMTP.
	smtp := testenv.Only(t, spans, "worker", "smtp send")
	testenv.ChildOf(t, smtp, testenv.Only(t, spans, "worker", "RunActivity:SendConfirmation"))
	if smtp.Attr("server.address") != "127.0.0.1" {
		t.Errorf("smtp send: attributes %v, want the relay's address", smtp.Attributes)
	}

	// Nothing personal, nothing secret, anywhere.
	for _, leak := range testenv.Leaks(spans, o.email, o.name, domain.NameKey(o.name), o.token, "@example.com") {
		t.Error(leak)
	}
	if t.Failed() || testing.Verbose() {
		for _, s := range spans {
			t.Logf("%s %-40s trace %s span %s parent %s", s.Service, s.Name, hex.EncodeToString(s.TraceId),
				hex.EncodeToString(s.SpanId), hex.EncodeToString(s.ParentSpanId))
		}
	}
}
