package mail

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudpartners/onboarding/internal/telemetry"
)

// A send is a client span that names the relay and the Message-ID, never
// the recipient, the names or the link; a failed one says of what kind.
func TestSendIsASpanWithoutPersonalData(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tracing, err := telemetry.New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	require.NoError(t, err)
	// A port nobody listens on: the relay is down.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	m, err := New(Options{Addr: addr, From: "Cloud <onboarding@cloud.example>", Tracing: tracing.Provider()})
	require.NoError(t, err)
	c := Confirmation{MessageID: "confirm-sub-1@cloud.example", To: "jane.doe@customer.example", Brand: "Example Cloud",
		PartnerName: "ACME Partners", CustomerName: "Jane Doe Ltd", Link: "http://127.0.0.1:8088/confirm?token=secret-token",
		Deadline: time.Now().Add(time.Hour)}
	require.Error(t, m.Send(context.Background(), c))

	spans := rec.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	require.Equal(t, "smtp send", s.Name())
	require.Equal(t, trace.SpanKindClient, s.SpanKind())
	require.Equal(t, codes.Error, s.Status().Code)
	got := map[string]string{}
	for _, kv := range s.Attributes() {
		got[string(kv.Key)] = kv.Value.String()
	}
	host, port, _ := net.SplitHostPort(addr)
	require.Equal(t, map[string]string{"server.address": host, "server.port": port, "smtp.starttls": "false",
		"smtp.message_id": c.MessageID, "error.type": "failed"}, got)
	for _, e := range s.Events() {
		for _, kv := range e.Attributes {
			for _, secret := range []string{c.To, c.CustomerName, "secret-token"} {
				require.False(t, strings.Contains(kv.Value.String(), secret), "event %s holds %s", e.Name, secret)
			}
		}
	}
}
