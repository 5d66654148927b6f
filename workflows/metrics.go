package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Business metrics, beside the SDK's on the worker's /metrics, named by
// Prometheus's conventions: a counter ends in _total, a unit is in the
// name. The workflows emit them through workflow.GetMetricsHandler, which
// emits nothing while a workflow replays: each is counted once, when the
// workflow first makes its decision, whatever the activity retries, the
// replays and the worker restarts. Emitting adds no command to the
// history, so a name can change without a workflow version. The handler
// labels each with namespace, task_queue and workflow_type (and the SDK's
// client_name, worker_type, activity_type); the labels below are bounded,
// never a partner or a customer, and MetricSeries lists every value. The
// same name always carries the same labels.
const (
	// MetricStarted counts onboardings started.
	MetricStarted = "onboarding_started_total"
	// MetricDecided counts onboardings decided, by outcome (ACTIVE,
	// EXPIRED, CANCELLED, DECLINED).
	MetricDecided = "onboarding_decided_total"
	// MetricFailed counts onboardings that failed (unknown partner, address
	// rejected...), decided or not.
	MetricFailed = "onboarding_failed_total"
	// MetricConfirmationLatency is the time from the start of an onboarding
	// to the customer's confirmation, in seconds (a histogram).
	MetricConfirmationLatency = "onboarding_confirmation_latency_seconds"
	// MetricEmailsSent counts confirmation emails sent, by kind: first or
	// resend.
	MetricEmailsSent = "onboarding_emails_sent_total"
	// MetricResendsRefused counts resends refused by the workflow, by
	// reason: too_soon, limit, in_flight, stage.
	MetricResendsRefused = "onboarding_resends_refused_total"
	// MetricCloudsCreated counts clouds created, by when: onboarding (the
	// customer's first) or later; the same request again is not counted.
	MetricCloudsCreated = "onboarding_clouds_created_total"
	// MetricSuspended counts customers whose services were stopped.
	MetricSuspended = "onboarding_suspended_total"
	// MetricResumed counts suspended customers resumed.
	MetricResumed = "onboarding_resumed_total"
	// MetricSuspensionsExpired counts suspended customers deleted because
	// they were not resumed in time.
	MetricSuspensionsExpired = "onboarding_suspensions_expired_total"
)

// The business metrics' own labels and every value each takes.
const (
	LabelOutcome = "outcome" // of MetricDecided: the Outcome* values

	LabelKind   = "kind" // of MetricEmailsSent
	EmailFirst  = "first"
	EmailResend = "resend"

	LabelReason     = "reason"   // of MetricResendsRefused
	RefusedTooSoon  = "too_soon" // within RESEND_MIN_INTERVAL of the last send
	RefusedLimit    = "limit"    // RESEND_MAX sent already
	RefusedInFlight = "in_flight"
	RefusedStage    = "stage" // no longer waiting for the customer

	LabelWhen         = "when" // of MetricCloudsCreated
	CloudAtOnboarding = "onboarding"
	CloudLater        = "later"
)

// Series is one series of a business metric as a workflow emits it.
type Series struct {
	Name         string
	WorkflowType string            // the workflow that emits it
	Labels       map[string]string // its own labels, beside the SDK's
	Histogram    bool
}

// MetricSeries lists every series the workflows emit, each label value
// included, so that a worker can create them all at zero when it starts:
// rate(), increase() and alerts then work before the first event.
func MetricSeries() []Series {
	on, cu := WorkflowName, CustomerWorkflowName
	series := []Series{
		{Name: MetricStarted, WorkflowType: on},
		{Name: MetricFailed, WorkflowType: on},
		{Name: MetricConfirmationLatency, WorkflowType: on, Histogram: true},
		{Name: MetricCloudsCreated, WorkflowType: on, Labels: map[string]string{LabelWhen: CloudAtOnboarding}},
		{Name: MetricCloudsCreated, WorkflowType: cu, Labels: map[string]string{LabelWhen: CloudLater}},
		{Name: MetricSuspended, WorkflowType: cu},
		{Name: MetricResumed, WorkflowType: cu},
		{Name: MetricSuspensionsExpired, WorkflowType: cu},
	}
	each := func(name, label string, values ...string) {
		for _, v := range values {
			series = append(series, Series{Name: name, WorkflowType: on, Labels: map[string]string{label: v}})
		}
	}
	each(MetricDecided, LabelOutcome, OutcomeActive, OutcomeExpired, OutcomeCancelled, OutcomeDeclined)
	each(MetricEmailsSent, LabelKind, EmailFirst, EmailResend)
	each(MetricResendsRefused, LabelReason, RefusedTooSoon, RefusedLimit, RefusedInFlight, RefusedStage)
	return series
}

// count adds one to a business counter, labelled by the given name and
// value pairs.
func count(ctx workflow.Context, name string, labels ...string) {
	h := workflow.GetMetricsHandler(ctx)
	if len(labels) > 0 {
		tags := make(map[string]string, len(labels)/2)
		for i := 0; i+1 < len(labels); i += 2 {
			tags[labels[i]] = labels[i+1]
		}
		h = h.WithTags(tags)
	}
	h.Counter(name).Inc(1)
}

// record records a duration in a business histogram.
func record(ctx workflow.Context, name string, d time.Duration) {
	workflow.GetMetricsHandler(ctx).Timer(name).Record(d)
}
