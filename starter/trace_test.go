package main

import (
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// With a collector named, `starter add` is one trace: the command's span,
// its SQL, and the start of the workflow, which the worker's activities
// continue; the command flushes its spans before it exits. No span holds
// the customer's email or name.
func TestAddIsOneTrace(t *testing.T) {
	col := testenv.NewCollector(t)
	s := newStack(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": col.Endpoint})
	partner := s.partner()
	const name, addr = "Traced Customer Ltd", "traced.customer@example.com"
	s.run("add", "--partner", partner, "--name", name, "--email", addr, "--cloud", "traced-main").ok(t)

	spans := col.Spans() // the starter has flushed on its way out
	add := testenv.Only(t, spans, "starter", "starter add")
	start := testenv.Only(t, spans, "starter", "StartWorkflow:Onboarding")
	testenv.ChildOf(t, start, add)
	sql := 0
	for _, sp := range spans {
		if sp.Service == "starter" && string(sp.ParentSpanId) == string(add.SpanId) && sp.Name != start.Name {
			sql++
		}
	}
	if sql == 0 {
		t.Errorf("no SQL span under the command")
	}
	// The worker exports in batches, every few seconds. (Its run's span
	// ends, and is exported, when the onboarding does.)
	testenv.Eventually(t, 20*time.Second, "the worker's activities of the workflow", func() bool {
		for _, sp := range col.Spans() {
			if sp.Service == "worker" && sp.Name == "RunActivity:SendConfirmation" {
				if string(sp.TraceId) != string(start.TraceId) {
					t.Fatalf("the worker's %s is in trace %x, want %x: the one of starter add", sp.Name, sp.TraceId, start.TraceId)
				}
				return true
			}
		}
		return false
	})
	for _, leak := range testenv.Leaks(col.Spans(), name, domain.NameKey(name), addr) {
		t.Error(leak)
	}
}
