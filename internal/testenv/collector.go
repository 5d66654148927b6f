package testenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
)

// Collector receives traces over OTLP/gRPC, as an OpenTelemetry collector
// does, and keeps them for the test: point a binary at it with
// OTEL_EXPORTER_OTLP_ENDPOINT=Endpoint. It stops at cleanup.
type Collector struct {
	coltracepb.UnimplementedTraceServiceServer
	Endpoint string // http://127.0.0.1:port

	mu    sync.Mutex
	spans []Span
}

// Span is a received span with the resource it came from.
type Span struct {
	Service  string               // the resource's service.name
	Resource []*commonpb.KeyValue // every resource attribute
	*tracepb.Span
}

// NewCollector starts a collector on a free loopback port.
func NewCollector(tb testing.TB) *Collector {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	c := &Collector{Endpoint: "http://" + ln.Addr().String()}
	srv := grpc.NewServer()
	coltracepb.RegisterTraceServiceServer(srv, c)
	go func() { _ = srv.Serve(ln) }()
	tb.Cleanup(srv.Stop)
	return c
}

// Export keeps the spans of one export.
func (c *Collector) Export(_ context.Context, req *coltracepb.ExportTraceServiceRequest) (*coltracepb.ExportTraceServiceResponse, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, rs := range req.GetResourceSpans() {
		service := ""
		for _, kv := range rs.GetResource().GetAttributes() {
			if kv.GetKey() == "service.name" {
				service = kv.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				c.spans = append(c.spans, Span{Service: service, Resource: rs.GetResource().GetAttributes(), Span: s})
			}
		}
	}
	return &coltracepb.ExportTraceServiceResponse{}, nil
}

// Spans returns every span received so far.
func (c *Collector) Spans() []Span {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Span(nil), c.spans...)
}

// Only returns the one span of a service with a name, and fails the test
// when there is none or more than one.
func Only(tb testing.TB, spans []Span, service, name string) Span {
	tb.Helper()
	var found []Span
	for _, s := range spans {
		if s.Service == service && s.Name == name {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		tb.Fatalf("%d spans %q of %s, want 1 (of %d spans)", len(found), name, service, len(spans))
	}
	return found[0]
}

// ChildOf fails the test unless child is a child of parent, in its trace.
func ChildOf(tb testing.TB, child, parent Span) {
	tb.Helper()
	if !bytes.Equal(child.TraceId, parent.TraceId) || !bytes.Equal(child.ParentSpanId, parent.SpanId) {
		tb.Errorf("%s (trace %x, parent %x) is not a child of %s (trace %x, span %x)", child.Name, child.TraceId,
			child.ParentSpanId, parent.Name, parent.TraceId, parent.SpanId)
	}
}

// Attr is the string value of a span attribute, or "".
func (s Span) Attr(key string) string {
	for _, kv := range s.Attributes {
		if kv.GetKey() == key {
			return kv.GetValue().GetStringValue()
		}
	}
	return ""
}

// Texts is every text a span carries: its name, its status, and the values
// of its attributes, its events' and its resource's.
func (s Span) Texts() []string {
	out := []string{s.Name, s.GetStatus().GetMessage()}
	add := func(kvs []*commonpb.KeyValue) {
		for _, kv := range kvs {
			out = append(out, values(kv.GetValue())...)
		}
	}
	add(s.Attributes)
	add(s.Resource)
	for _, ev := range s.Events {
		out = append(out, ev.Name)
		add(ev.Attributes)
	}
	return out
}

// values is an attribute's value as text: a string as it is, a list's
// elements each, anything else printed.
func values(v *commonpb.AnyValue) []string {
	switch {
	case v.GetArrayValue() != nil:
		var out []string
		for _, e := range v.GetArrayValue().GetValues() {
			out = append(out, values(e)...)
		}
		return out
	case v.GetKvlistValue() != nil:
		var out []string
		for _, kv := range v.GetKvlistValue().GetValues() {
			out = append(out, values(kv.GetValue())...)
		}
		return out
	case v.GetValue() == nil:
		return nil
	}
	if s, ok := v.GetValue().(*commonpb.AnyValue_StringValue); ok {
		return []string{s.StringValue}
	}
	return []string{fmt.Sprint(v.GetValue())}
}

// Leaks returns, for each span that carries one of the secrets anywhere,
// what it carries: nothing when no span holds personal data or a secret.
func Leaks(spans []Span, secrets ...string) []string {
	var out []string
	for _, s := range spans {
		for _, text := range s.Texts() {
			for _, secret := range secrets {
				if strings.Contains(text, secret) {
					out = append(out, fmt.Sprintf("span %s of %s holds %q: %q", s.Name, s.Service, secret, text))
				}
			}
		}
	}
	return out
}
