package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/internal/domain"
)

func (h *harness) decline() { h.env.SignalWorkflow(SignalDecline, Decline{Via: ViaLink}) }

func TestDecline(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, h.decline)
	// A confirm after the decline comes too late and changes nothing.
	h.at(2*time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeDeclined, r.Outcome)
	require.Equal(t, []string{domain.ReasonDeclined}, h.deleted, "the record is deleted as declined")
	require.Equal(t, start.Add(time.Hour), r.DecidedAt)
	last := h.upserts[len(h.upserts)-1]
	require.Equal(t, map[string]string{AttrStage.GetName(): OutcomeDeclined, AttrOutcome.GetName(): OutcomeDeclined}, last)
}

func TestConfirmBeatsALaterDecline(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() { h.confirm(ViaLink); h.decline() })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome, "the first answer decides")
	require.Empty(t, h.deleted)
	s := h.status()
	require.Equal(t, 1, s.IgnoredCount)
	require.Equal(t, "decline via link", s.Ignored[0].What)
}

func TestDeclineBeforeTheWait(t *testing.T) {
	// A decline that arrives while the first email is being sent is taken
	// as soon as the wait begins.
	h := newHarness(t)
	h.env.RegisterDelayedCallback(h.decline, 0)
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeDeclined, r.Outcome)
}

func TestDeclineAfterTheDeadline(t *testing.T) {
	h := newHarness(t)
	h.at(8*24*time.Hour, h.decline)
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeExpired, r.Outcome)
	require.Equal(t, []string{domain.ReasonExpired}, h.deleted)
}

// TestDeclineInAHistoryFromBeforeThePatch: where the released code (which
// had no decline) received a decline, the replay takes the old path: the
// decline is ignored and the wait goes on, exactly as the history says.
func TestDeclineInAHistoryFromBeforeThePatch(t *testing.T) {
	h := newHarness(t)
	h.env.OnGetVersion(ChangeDecline, workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	h.at(time.Hour, h.decline)
	h.at(2*time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	require.Empty(t, h.deleted)
	s := h.status()
	require.Equal(t, 1, s.IgnoredCount)
	require.Contains(t, s.Ignored[0].Why, "without the decline branch")
}
