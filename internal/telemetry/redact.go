package telemetry

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
	"go.temporal.io/sdk/temporal"
)

// Spans leave the process for a tracing backend, so no personal data and no
// secret may be in them. Every span of the process goes through this
// provider, which keeps out of them:
//   - the attributes below: the onboarding's workflow id holds the
//     customer's name (the run id, a UUID, names the execution instead), a
//     URL path may hold an id the caller chose (the span's name holds the
//     route), and the caller's address and user agent are the customer's;
//   - error messages, which may quote an email address (a mail server's
//     refusal, a validation error): an error is recorded as its kind only.
var dropped = map[attribute.Key]bool{
	"temporalWorkflowID":          true,
	semconv.URLPathKey:            true,
	semconv.ClientAddressKey:      true,
	semconv.NetworkPeerAddressKey: true,
	semconv.NetworkPeerPortKey:    true,
	semconv.UserAgentOriginalKey:  true,
}

func keep(kv []attribute.KeyValue) []attribute.KeyValue {
	out := make([]attribute.KeyValue, 0, len(kv))
	for _, a := range kv {
		if !dropped[a.Key] {
			out = append(out, a)
		}
	}
	return out
}

// redacting wraps a provider so that its spans go through the rules above.
func redacting(tp trace.TracerProvider) trace.TracerProvider {
	return redactingProvider{next: tp}
}

type redactingProvider struct {
	embedded.TracerProvider
	next trace.TracerProvider
}

func (p redactingProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	return redactingTracer{next: p.next.Tracer(name, opts...), provider: p}
}

type redactingTracer struct {
	embedded.Tracer
	next     trace.Tracer
	provider redactingProvider
}

func (t redactingTracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	c := trace.NewSpanStartConfig(opts...)
	clean := []trace.SpanStartOption{trace.WithAttributes(keep(c.Attributes())...), trace.WithLinks(c.Links()...),
		trace.WithSpanKind(c.SpanKind())}
	if !c.Timestamp().IsZero() {
		clean = append(clean, trace.WithTimestamp(c.Timestamp()))
	}
	if c.NewRoot() {
		clean = append(clean, trace.WithNewRoot())
	}
	ctx, span := t.next.Start(ctx, name, clean...)
	s := &redactedSpan{Span: span, provider: t.provider}
	return trace.ContextWithSpan(ctx, s), s
}

// redactedSpan applies the rules to what is added to a span after its start.
type redactedSpan struct {
	trace.Span
	provider redactingProvider
	failure  string // the kind of the error recorded, for the status
}

func (s *redactedSpan) SetAttributes(kv ...attribute.KeyValue) { s.Span.SetAttributes(keep(kv)...) }

func (s *redactedSpan) AddEvent(name string, opts ...trace.EventOption) {
	c := trace.NewEventConfig(opts...)
	s.Span.AddEvent(name, trace.WithAttributes(keep(c.Attributes())...), trace.WithTimestamp(c.Timestamp()))
}

func (s *redactedSpan) RecordError(err error, opts ...trace.EventOption) {
	if err == nil {
		return
	}
	s.failure = kind(err)
	c := trace.NewEventConfig(opts...)
	s.Span.RecordError(failure(s.failure), trace.WithAttributes(keep(c.Attributes())...),
		trace.WithTimestamp(c.Timestamp()), trace.WithStackTrace(c.StackTrace()))
}

// SetStatus keeps the code; an error's description is its kind.
func (s *redactedSpan) SetStatus(code codes.Code, _ string) {
	if code == codes.Error {
		s.Span.SetStatus(code, s.failure)
		return
	}
	s.Span.SetStatus(code, "")
}

// TracerProvider keeps spans started from this one redacted too.
func (s *redactedSpan) TracerProvider() trace.TracerProvider { return s.provider }

// failure is a recorded error: its kind, never its message.
type failure string

func (f failure) Error() string { return string(f) }

// kind names an error without its message: a Temporal application error
// by its type (EmailRejected, UnknownPartner...), a timeout by its kind, a
// database error by its SQLSTATE, anything else by the Go type of the
// innermost error it wraps (*net.OpError...).
func kind(err error) string {
	var app *temporal.ApplicationError
	var timeout *temporal.TimeoutError
	var canceled *temporal.CanceledError
	var sql interface{ SQLState() string }
	switch {
	case errors.As(err, &app):
		return "application error " + app.Type()
	case errors.As(err, &timeout):
		return "timeout " + timeout.TimeoutType().String()
	case errors.As(err, &canceled):
		return "canceled"
	case errors.As(err, &sql):
		return "SQLSTATE " + sql.SQLState()
	}
	for {
		next := errors.Unwrap(err)
		if next == nil {
			return fmt.Sprintf("%T", err)
		}
		err = next
	}
}
