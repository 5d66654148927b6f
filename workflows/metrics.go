package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"
)

// Business metrics, beside the SDK's on the worker's /metrics. The
// workflows emit them through workflow.GetMetricsHandler, which emits
// nothing while a workflow replays: each is counted once, when the
// workflow first makes its decision, whatever the activity retries, the
// replays and the worker restarts. Emitting adds no command to the
// history. The handler labels each with namespace, task_queue and
// workflow_type; the labels below are bounded, never a partner or a
// customer. The same name always carries the same labels.
const (
	// MetricStarted counts onboardings started.
	MetricStarted = "onboarding_started"
	// MetricDecided counts onboardings decided, by outcome (ACTIVE,
	// EXPIRED, CANCELLED, DECLINED).
	MetricDecided = "onboarding_decided"
	// MetricFailed counts onboardings that failed (unknown partner, address
	// rejected...), decided or not.
	MetricFailed = "onboarding_failed"
	// MetricConfirmationLatency is the time from the start of an onboarding
	// to the customer's confirmation, in seconds (a histogram).
	MetricConfirmationLatency = "onboarding_confirmation_latency"
	// MetricEmailsSent counts confirmation emails sent, by kind: first or
	// resend.
	MetricEmailsSent = "onboarding_emails_sent"
	// MetricResendsRefused counts resends refused, by reason: too_soon,
	// limit, in_flight.
	MetricResendsRefused = "onboarding_resends_refused"
	// MetricCloudsCreated counts clouds created, by when: onboarding (the
	// customer's first) or later; the same request again is not counted.
	MetricCloudsCreated = "onboarding_clouds_created"
	// MetricSuspended counts customers whose services were stopped.
	MetricSuspended = "onboarding_suspended"
	// MetricResumed counts suspended customers resumed.
	MetricResumed = "onboarding_resumed"
	// MetricSuspensionsExpired counts suspended customers deleted because
	// they were not resumed in time.
	MetricSuspensionsExpired = "onboarding_suspensions_expired"
)

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
