package telemetry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/config"
)

// recorded is tracing into an in-memory recorder.
func recorded(t *testing.T) (*Tracing, *tracetest.SpanRecorder) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tr, err := New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	require.NoError(t, err)
	return tr, rec
}

func attrs(s sdktrace.ReadOnlySpan) map[attribute.Key]string {
	out := map[attribute.Key]string{}
	for _, kv := range s.Attributes() {
		out[kv.Key] = kv.Value.String()
	}
	return out
}

// Without an endpoint nothing is traced and nothing is in the way.
func TestOffWithoutAnEndpoint(t *testing.T) {
	tr, err := Start(context.Background(), config.Tracing{}, "worker", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.False(t, tr.On())
	require.Nil(t, tr.Provider())
	require.Empty(t, tr.Interceptors())
	require.Empty(t, tr.FollowSignals("confirm"))
	h := http.NotFoundHandler()
	require.Equal(t, fmt.Sprintf("%p", h), fmt.Sprintf("%p", tr.HTTP(h)), "the handler itself, unwrapped")
	tr.Close(context.Background())
}

// With an endpoint the provider is set up, and Close flushes and stops it
// even when no collector answers.
func TestOnWithAnEndpoint(t *testing.T) {
	tr, err := Start(context.Background(), config.Tracing{Endpoint: "http://127.0.0.1:1"}, "worker", slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	require.True(t, tr.On())
	require.Len(t, tr.Interceptors(), 1)
	require.Len(t, tr.FollowSignals("confirm"), 1)
	tr.Close(context.Background())
}

// The attributes that may hold personal data never reach a span, at its
// start or later; an error is recorded by its kind, never its message.
func TestSpansKeepNoPersonalData(t *testing.T) {
	tr, rec := recorded(t)
	const email = "jane.doe@customer.example"
	_, span := tr.Provider().Tracer("test").Start(context.Background(), "op", trace.WithAttributes(
		attribute.String("temporalWorkflowID", "onboarding/acme/jane doe ltd"), attribute.String("url.path", "/api/v1/customers/x"),
		attribute.String("client.address", "203.0.113.9"), attribute.String("temporalRunID", "run-1")))
	span.SetAttributes(attribute.String("temporalWorkflowID", "onboarding/acme/jane doe ltd"), attribute.String("user_agent.original", "Mozilla"),
		attribute.String("temporalActivityID", "5"))
	err := temporal.NewNonRetryableApplicationError("550 5.1.1 <"+email+">: user unknown", "EmailRejected", nil)
	span.RecordError(err)
	span.SetStatus(codes.Error, err.Error())
	span.End()

	spans := rec.Ended()
	require.Len(t, spans, 1)
	s := spans[0]
	require.Equal(t, map[attribute.Key]string{"temporalRunID": "run-1", "temporalActivityID": "5"}, attrs(s))
	require.Equal(t, sdktrace.Status{Code: codes.Error, Description: "application error EmailRejected"}, s.Status())
	require.Len(t, s.Events(), 1)
	event := map[attribute.Key]string{}
	for _, kv := range s.Events()[0].Attributes {
		event[kv.Key] = kv.Value.String()
		require.NotContains(t, kv.Value.String(), email)
	}
	require.Equal(t, "application error EmailRejected", event["exception.message"])
}

func TestKindOfAnError(t *testing.T) {
	for want, err := range map[string]error{
		"application error UnknownPartner": fmt.Errorf("activity: %w", temporal.NewApplicationError("no partner x@y.example", "UnknownPartner")),
		"SQLSTATE 23505":                   fmt.Errorf("create: %w", &pq.Error{Code: "23505", Message: "duplicate key (jane@x.example)"}),
		"canceled":                         temporal.NewCanceledError(),
		"*errors.errorString":              fmt.Errorf("send email: %w", errors.New("dial: jane@x.example")),
	} {
		require.Equal(t, want, kind(err))
	}
}

// An edge's request is one server span named after its route, a new trace
// whatever the caller sends (linked to the caller's), without the path,
// the query (which holds a token) or the caller's address; the health
// check and the quiet paths are not traced.
func TestHTTPServerSpans(t *testing.T) {
	tr, rec := recorded(t)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /confirm", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /healthz", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /static/", func(http.ResponseWriter, *http.Request) {})
	srv := httptest.NewServer(tr.HTTP(mux, "/static/"))
	defer srv.Close()
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/confirm?token=secret-token", nil)
	require.NoError(t, err)
	const callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736"
	req.Header.Set("traceparent", "00-"+callerTrace+"-00f067aa0ba902b7-01")
	for _, r := range []*http.Request{req, mustGet(t, srv.URL+"/healthz"), mustGet(t, srv.URL+"/static/app.css")} {
		resp, err := http.DefaultClient.Do(r)
		require.NoError(t, err)
		resp.Body.Close()
	}

	spans := rec.Ended()
	require.Len(t, spans, 1, "the health check and the quiet paths are not traced")
	s := spans[0]
	require.Equal(t, "GET /confirm", s.Name())
	require.Equal(t, trace.SpanKindServer, s.SpanKind())
	require.NotEqual(t, callerTrace, s.SpanContext().TraceID().String(), "a public edge starts its own trace")
	require.False(t, s.Parent().IsValid())
	require.Len(t, s.Links(), 1)
	require.Equal(t, callerTrace, s.Links()[0].SpanContext.TraceID().String())
	for k, v := range attrs(s) {
		require.NotContains(t, v, "secret-token", k)
		require.NotContains(t, []attribute.Key{"url.path", "client.address", "network.peer.address", "user_agent.original"}, k)
	}
	require.Equal(t, "200", attrs(s)["http.response.status_code"])
	require.True(t, strings.HasPrefix(attrs(s)["server.address"], "127.0.0.1"))
}

func mustGet(t *testing.T, u string) *http.Request {
	t.Helper()
	r, err := http.NewRequest(http.MethodGet, u, nil)
	require.NoError(t, err)
	return r
}
