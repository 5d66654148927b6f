package telemetry

import (
	"context"
	"slices"

	"go.opentelemetry.io/otel/propagation"
	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// FollowSignals returns the worker interceptor that makes the activities a
// workflow's main code starts after one of the named signals arrived
// children of that signal's span, in the trace of whoever sent it: the
// customer's POST /confirm goes on, through the signal, to the activities
// that carry the confirmation out. The SDK's interceptor alone would hang
// them under the workflow's run, in the trace of the start, days earlier.
//
// It is deterministic and costs the history nothing: the parent is read
// from the signal's header, which the history keeps, and handed to the
// SDK's interceptor through the workflow context; no command, no side
// effect. As before, nothing is emitted while a workflow replays.
// Activities started by an update handler keep the update's span. None
// when tracing is off.
func (t *Tracing) FollowSignals(names ...string) []interceptor.WorkerInterceptor {
	if !t.On() {
		return nil
	}
	return []interceptor.WorkerInterceptor{&followSignals{tracer: t.temporal, names: names}}
}

type followSignals struct {
	interceptor.WorkerInterceptorBase
	tracer interceptor.Tracer
	names  []string
}

func (f *followSignals) InterceptWorkflow(_ workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	i := &followInbound{f: f}
	i.Next = next
	return i
}

// followInbound remembers the span of the latest followed signal.
type followInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	f      *followSignals
	root   any                    // the run's span, as the SDK's interceptor put it on the workflow context
	parent interceptor.TracerSpan // the latest followed signal's sender; nil before one arrives
}

func (i *followInbound) Init(outbound interceptor.WorkflowOutboundInterceptor) error {
	o := &followOutbound{in: i}
	o.Next = outbound
	return i.Next.Init(o)
}

func (i *followInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	// The SDK's interceptor, which runs first, has put the run's span here:
	// the main code's contexts carry it, a handler's carry its own.
	i.root = ctx.Value(spanKey{})
	return i.Next.ExecuteWorkflow(ctx, in)
}

func (i *followInbound) HandleSignal(ctx workflow.Context, in *interceptor.HandleSignalInput) error {
	if slices.Contains(i.f.names, in.SignalName) {
		if span := i.f.sender(interceptor.WorkflowHeader(ctx)); span != nil {
			i.parent = span
		}
	}
	return i.Next.HandleSignal(ctx, in)
}

// sender is the span the signal's sender wrote into its header (the
// client's SignalWorkflow span), or nil.
func (f *followSignals) sender(header map[string]*commonpb.Payload) interceptor.TracerSpan {
	p := header[headerKey]
	if p == nil {
		return nil
	}
	var carrier map[string]string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &carrier); err != nil {
		return nil // a header this tracer did not write: the default parent
	}
	return f.tracer.SpanFromContext(propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier(carrier)))
}

type followOutbound struct {
	interceptor.WorkflowOutboundInterceptorBase
	in *followInbound
}

// ExecuteActivity parents an activity the main code starts on the latest
// followed signal; the SDK's interceptor, next, starts its span there.
func (o *followOutbound) ExecuteActivity(ctx workflow.Context, activityType string, args ...any) workflow.Future {
	// The run's span is a pointer: comparable.
	if o.in.parent != nil && ctx.Value(spanKey{}) == o.in.root {
		ctx = workflow.WithValue(ctx, spanKey{}, o.in.parent)
	}
	return o.Next.ExecuteActivity(ctx, activityType, args...)
}
