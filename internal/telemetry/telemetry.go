// Package telemetry is the binaries' tracing: one OpenTelemetry provider
// per process, exported over OTLP/gRPC when an endpoint is configured, and
// the instrumentation that carries one trace from an HTTP request through a
// Temporal signal or update, the workflow and its activities, down to SQL and
// SMTP. Without an endpoint tracing is off: no provider, no interceptor, no
// middleware, nothing on the path of a request.
package telemetry

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/contrib/opentelemetry"
	"go.temporal.io/sdk/interceptor"

	"github.com/cloudpartners/onboarding/internal/config"
)

// flushTimeout bounds how long a stopping binary waits for its last spans
// to reach the collector.
const flushTimeout = 5 * time.Second

// Tracing is one process's tracing. The zero value, and what Start returns
// without an endpoint, is off: every method then returns its input or
// nothing.
type Tracing struct {
	provider trace.TracerProvider // the redacting provider; nil when off
	temporal interceptor.Tracer   // the SDK's OpenTelemetry tracer over provider
	shutdown func(context.Context) error
	logger   *slog.Logger
}

// Start sets up the tracing of the binary named service: off when
// cfg.Endpoint is empty, else an OTLP/gRPC exporter behind a batching
// provider whose resource names the service (OTEL_SERVICE_NAME wins, and
// OTEL_RESOURCE_ATTRIBUTES is added). Close flushes it.
func Start(ctx context.Context, cfg config.Tracing, service string, logger *slog.Logger) (*Tracing, error) {
	if cfg.Endpoint == "" {
		return &Tracing{}, nil
	}
	// The exporter connects lazily: a collector that is down costs spans,
	// never a request.
	exp, err := otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(cfg.Endpoint))
	if err != nil {
		return nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	name := cfg.ServiceName
	if name == "" {
		name = service
	}
	res, err := resource.Merge(resource.Default(), resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(name)))
	if err != nil {
		return nil, fmt.Errorf("tracing resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	t, err := New(tp)
	if err != nil {
		return nil, err
	}
	t.shutdown, t.logger = tp.Shutdown, logger
	where, _ := url.Parse(cfg.Endpoint) // valid: config checked it
	where.User = nil
	logger.Info("tracing on", "otlp_endpoint", where.String(), "service_name", name)
	return t, nil
}

// New is tracing into a provider of the caller's, such as a test's
// in-memory recorder; Close does not shut that provider down.
func New(tp trace.TracerProvider) (*Tracing, error) {
	rp := redacting(tp)
	tracer, err := opentelemetry.NewTracer(opentelemetry.TracerOptions{
		Tracer: rp.Tracer(instrumentation),
		// Our own key, so that the signal interceptor can read and set the
		// span the SDK's interceptor parents workflow spans on.
		SpanContextKey: spanKey{},
		HeaderKey:      headerKey,
		// Nothing here uses baggage; not carrying it keeps what a public
		// caller might send out of every workflow.
		DisableBaggage: true,
	})
	if err != nil {
		return nil, fmt.Errorf("temporal tracer: %w", err)
	}
	return &Tracing{provider: rp, temporal: tracer}, nil
}

// instrumentation names the tracer of the Temporal spans, as the SDK's own default does.
const instrumentation = "temporal-sdk-go"

// headerKey is the Temporal header the span context travels in: the one
// every Temporal SDK uses.
const headerKey = "_tracer-data"

// spanKey is the workflow-context key of the current span.
type spanKey struct{}

// On reports whether spans are recorded and exported.
func (t *Tracing) On() bool { return t.provider != nil }

// Provider is the tracer provider for SQL, SMTP and other spans of the
// process; nil when tracing is off.
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Interceptors are for the Temporal client: spans for starts, signals,
// updates and queries, the span context carried in their headers; on a
// worker built from the client, spans for workflows, handlers and
// activities too. None when tracing is off.
func (t *Tracing) Interceptors() []interceptor.ClientInterceptor {
	if !t.On() {
		return nil
	}
	return []interceptor.ClientInterceptor{interceptor.NewTracingInterceptor(t.temporal)}
}

// HTTP traces every request but the health check and the quiet paths (a
// path, or every path under one ending in "/", such as "/static/"): one
// server span named after the route (POST /confirm). The edges are public,
// so a caller's trace context is linked, never continued, and the span
// keeps neither the path (it may hold an id the caller chose) nor the
// caller's address.
func (t *Tracing) HTTP(h http.Handler, quiet ...string) http.Handler {
	if !t.On() {
		return h
	}
	quiet = append(quiet, "/healthz")
	traced := func(r *http.Request) bool {
		for _, q := range quiet {
			if r.URL.Path == q || (strings.HasSuffix(q, "/") && strings.HasPrefix(r.URL.Path, q)) {
				return false
			}
		}
		return true
	}
	return otelhttp.NewHandler(h, "http",
		otelhttp.WithTracerProvider(t.provider),
		otelhttp.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithPublicEndpointFn(func(*http.Request) bool { return true }),
		otelhttp.WithFilter(traced),
	)
}

// Close flushes the spans not yet exported, within a few seconds, and stops
// the exporter; a failure is logged, not returned: the binary is stopping.
func (t *Tracing) Close(ctx context.Context) {
	if t.shutdown == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
	defer cancel()
	if err := t.shutdown(ctx); err != nil {
		t.logger.Warn("flush traces", "error", err)
	}
}
