package workflows

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/uber-go/tally/v4"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/activities"
)

// counted sums a counter the workflow emitted over the series whose labels
// hold the given name and value pairs.
func counted(scope tally.TestScope, name string, labels ...string) int64 {
	var n int64
	for _, c := range scope.Snapshot().Counters() {
		if c.Name() != name {
			continue
		}
		match := true
		for i := 0; i+1 < len(labels); i += 2 {
			match = match && c.Tags()[labels[i]] == labels[i+1]
		}
		if match {
			n += c.Value()
		}
	}
	return n
}

// onlyDeclared checks, once a test ends, that every business series the
// workflow of that type emitted is one MetricSeries lists, by name,
// workflow type and own labels: the series a worker creates at zero are
// the ones counted. (The test environment labels no workflow type.)
func onlyDeclared(t *testing.T, scope tally.TestScope, workflowType string) {
	t.Helper()
	declared := map[string]bool{}
	for _, s := range MetricSeries() {
		declared[seriesKey(s.Name, s.WorkflowType, s.Labels)] = true
	}
	t.Cleanup(func() {
		snap := scope.Snapshot()
		var emitted []string
		for _, c := range snap.Counters() {
			emitted = append(emitted, seriesKey(c.Name(), workflowType, c.Tags()))
		}
		for _, h := range snap.Timers() {
			emitted = append(emitted, seriesKey(h.Name(), workflowType, h.Tags()))
		}
		for _, k := range emitted {
			if strings.HasPrefix(k, "onboarding_") && !declared[k] {
				t.Errorf("the workflow emitted %s, which MetricSeries does not list", k)
			}
		}
	})
}

// seriesKey names a business series by its name, workflow type and the
// business labels among tags.
func seriesKey(name, workflowType string, tags map[string]string) string {
	k := name + "{workflow_type=" + workflowType
	for _, l := range []string{LabelOutcome, LabelKind, LabelReason, LabelWhen} {
		if v, ok := tags[l]; ok {
			k += "," + l + "=" + v
		}
	}
	return k + "}"
}

// TestMetricSeriesFollowTheConventions: every business counter ends in
// _total and the histogram names its unit; no series is listed twice.
func TestMetricSeriesFollowTheConventions(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range MetricSeries() {
		k := seriesKey(s.Name, s.WorkflowType, s.Labels)
		switch {
		case seen[k]:
			t.Errorf("%s listed twice", k)
		case s.Histogram && !strings.HasSuffix(s.Name, "_seconds"):
			t.Errorf("the histogram %s does not end in its unit, _seconds", s.Name)
		case !s.Histogram && !strings.HasSuffix(s.Name, "_total"):
			t.Errorf("the counter %s does not end in _total", s.Name)
		}
		seen[k] = true
	}
}

// timed returns the durations recorded in a timer.
func timed(scope tally.TestScope, name string) []time.Duration {
	var out []time.Duration
	for _, tm := range scope.Snapshot().Timers() {
		if tm.Name() == name {
			out = append(out, tm.Values()...)
		}
	}
	return out
}

// Each onboarding counts once as started and once as decided, by its
// outcome; only a confirmed one records its time to confirmation and
// counts a cloud.
func TestMetricsPerOutcome(t *testing.T) {
	for _, tc := range []struct {
		outcome string
		act     func(h *harness)
	}{
		{OutcomeActive, func(h *harness) { h.at(time.Hour, func() { h.confirm(ViaLink) }) }},
		{OutcomeExpired, func(*harness) {}},
		{OutcomeCancelled, func(h *harness) { h.at(time.Hour, func() { h.update(UpdateCancel, nil, nil) }) }},
		{OutcomeDeclined, func(h *harness) { h.at(time.Hour, h.decline) }},
	} {
		t.Run(tc.outcome, func(t *testing.T) {
			h := newHarness(t)
			tc.act(h)
			r, err := h.run(input())
			require.NoError(t, err)
			require.Equal(t, tc.outcome, r.Outcome)
			m := h.metrics
			require.EqualValues(t, 1, counted(m, MetricStarted))
			require.EqualValues(t, 1, counted(m, MetricDecided), "one decision")
			require.EqualValues(t, 1, counted(m, MetricDecided, "outcome", tc.outcome))
			require.EqualValues(t, 1, counted(m, MetricEmailsSent, "kind", "first"))
			require.Zero(t, counted(m, MetricFailed))
			if tc.outcome == OutcomeActive {
				require.EqualValues(t, 1, counted(m, MetricCloudsCreated, "when", "onboarding"))
				require.Equal(t, []time.Duration{time.Hour}, timed(m, MetricConfirmationLatency), "confirmed an hour after the start")
			} else {
				require.Zero(t, counted(m, MetricCloudsCreated))
				require.Empty(t, timed(m, MetricConfirmationLatency))
			}
		})
	}
}

// An activity that fails and is retried is one email, one cloud.
func TestMetricsAreNotDoubledByRetries(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).Return(activities.Sent{}, errors.New("smtp: 421 try later")).Once()
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).Return(activities.Sent{SentAt: start}, nil).Once()
	h.env.OnActivity(a.CreateCloud, mock.Anything, mock.Anything).Return(activities.CloudCreated{}, errors.New("connection reset")).Once()
	h.env.OnActivity(a.CreateCloud, mock.Anything, mock.Anything).Return(activities.CloudCreated{CloudID: cloudID}, nil).Once()
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	_, err := h.run(input())
	require.NoError(t, err)
	h.env.AssertActivityNumberOfCalls(t, "SendConfirmation", 2)
	h.env.AssertActivityNumberOfCalls(t, "CreateCloud", 2)
	require.EqualValues(t, 1, counted(h.metrics, MetricEmailsSent))
	require.EqualValues(t, 1, counted(h.metrics, MetricCloudsCreated))
}

// Resends count as sent or as refused, with the reason.
func TestMetricsOfResends(t *testing.T) {
	h := newHarness(t)
	in := input()
	in.MaxSends = 3
	var refused1, refused2 error
	h.at(2*time.Minute, func() { h.update(UpdateResend, nil, nil) })
	h.at(2*time.Minute+time.Second, func() { h.update(UpdateResend, nil, &refused1) })
	h.at(10*time.Minute, func() { h.update(UpdateResend, nil, nil) })
	h.at(time.Hour, func() { h.update(UpdateResend, nil, &refused2) })
	h.at(2*time.Hour, func() { h.confirm(ViaLink) })
	_, err := h.run(in)
	require.NoError(t, err)
	require.ErrorContains(t, refused1, "too soon")
	require.ErrorContains(t, refused2, "all 3 emails")
	m := h.metrics
	require.EqualValues(t, 1, counted(m, MetricEmailsSent, "kind", "first"))
	require.EqualValues(t, 2, counted(m, MetricEmailsSent, "kind", "resend"))
	require.EqualValues(t, 1, counted(m, MetricResendsRefused, "reason", "too_soon"))
	require.EqualValues(t, 1, counted(m, MetricResendsRefused, "reason", "limit"))
}

// A failed onboarding counts as started and failed, not decided.
func TestMetricsOfAFailure(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.CreateRecord, mock.Anything, mock.Anything).Return(activities.Record{},
		temporal.NewNonRetryableApplicationError("no partner acme", activities.ErrTypeUnknownPartner, nil)).Once()
	_, err := h.run(input())
	require.Error(t, err)
	require.EqualValues(t, 1, counted(h.metrics, MetricStarted))
	require.EqualValues(t, 1, counted(h.metrics, MetricFailed))
	require.Zero(t, counted(h.metrics, MetricDecided))
	require.Zero(t, counted(h.metrics, MetricEmailsSent))
}
