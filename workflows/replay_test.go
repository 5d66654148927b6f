package workflows

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/internal/codec"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/telemetry"
)

// payloads is the payload codec with the development key the recorded
// histories were encrypted with (since the codec); it reads the plain
// payloads of the histories recorded before it as they are.
var payloads = func() *codec.Codec {
	keys, err := codec.ParseKeys(config.DevPayloadKey)
	if err != nil {
		panic(err)
	}
	c, err := codec.New(keys)
	if err != nil {
		panic(err)
	}
	return c
}()

// TestReplay replays histories recorded from real runs of every branch
// against the dev server (`make record-histories`). A change to the workflow
// that is not deterministic against them fails here.
func TestReplay(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 5, "the recorded histories are missing: run make record-histories")
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: payloads.DataConverter(),
				FailureConverter: payloads.FailureConverter()})
			require.NoError(t, err)
			r.RegisterWorkflowWithOptions(Onboarding, workflow.RegisterOptions{Name: WorkflowName})
			r.RegisterWorkflowWithOptions(Customer, workflow.RegisterOptions{Name: CustomerWorkflowName})
			require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(logger, f))
		})
	}
}

// TestReplayWithTracing replays the recorded histories through the worker's
// tracing interceptors, each confirm and decline signal carrying a span
// context in its header as a traced webhook sends it: the interceptors
// change nothing the workflow decides, and a replay emits no span for a
// signal or an activity. (The SDK's interceptor does start the run's and
// an update handler's spans again on replay; this project adds none.)
func TestReplayWithTracing(t *testing.T) {
	files, err := filepath.Glob("testdata/histories/*.json")
	require.NoError(t, err)
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	rec := tracetest.NewSpanRecorder()
	tracing, err := telemetry.New(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec)))
	require.NoError(t, err)
	var interceptors []interceptor.WorkerInterceptor
	for _, i := range tracing.Interceptors() {
		interceptors = append(interceptors, i.(interceptor.WorkerInterceptor))
	}
	interceptors = append(interceptors, tracing.FollowSignals(SignalConfirm, SignalDecline)...)
	// The header the SDK's tracing interceptor writes: the W3C trace context under "_tracer-data".
	traced, err := converter.GetDefaultDataConverter().ToPayload(map[string]string{
		"traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
	require.NoError(t, err)
	signals := 0
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r, err := os.Open(f)
			require.NoError(t, err)
			defer r.Close()
			h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
			require.NoError(t, err)
			for _, e := range h.Events {
				if sig := e.GetWorkflowExecutionSignaledEventAttributes(); sig != nil && (sig.SignalName == SignalConfirm || sig.SignalName == SignalDecline) {
					sig.Header = &commonpb.Header{Fields: map[string]*commonpb.Payload{"_tracer-data": traced}}
					signals++
				}
			}
			rp, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{Interceptors: interceptors,
				DataConverter: payloads.DataConverter(), FailureConverter: payloads.FailureConverter()})
			require.NoError(t, err)
			rp.RegisterWorkflowWithOptions(Onboarding, workflow.RegisterOptions{Name: WorkflowName})
			rp.RegisterWorkflowWithOptions(Customer, workflow.RegisterOptions{Name: CustomerWorkflowName})
			require.NoError(t, rp.ReplayWorkflowHistory(logger, h))
		})
	}
	require.NotZero(t, signals, "the histories hold confirm and decline signals")
	for _, s := range rec.Ended() {
		for _, silent := range []string{"HandleSignal:", "StartActivity:", "RunActivity:"} {
			require.False(t, strings.HasPrefix(s.Name(), silent), "a replay emitted %s", s.Name())
		}
	}
}
