package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/uber-go/tally/v4"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
)

var start = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

const (
	subID   = "11111111-1111-4111-8111-111111111111"
	orgID   = "22222222-2222-4222-8222-222222222222"
	cloudID = "33333333-3333-4333-8333-333333333333"
)

// harness runs one onboarding in the SDK's test environment with mocked activities.
type harness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	upserts []map[string]string // each search-attribute upsert, by name
	sends   int
	deleted []string
	metrics tally.TestScope // what the workflow emitted through its metrics handler
}

func newHarness(t *testing.T) *harness {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	metrics := tally.NewTestScope("", nil)
	s.SetMetricsHandler(sdktally.NewMetricsHandler(metrics))
	h := &harness{t: t, env: s.NewTestWorkflowEnvironment(), metrics: metrics}
	onlyDeclared(t, metrics, WorkflowName)
	h.env.SetStartTime(start)
	h.env.RegisterActivity(&activities.Activities{})
	return h
}

func input() Input {
	return Input{PartnerID: "acme", CustomerName: "ACME Corp", CloudName: "acme-prod", SealedContact: "sealed.v1.x"}
}

// at runs fn when the workflow clock reaches start+d.
func (h *harness) at(d time.Duration, fn func()) { h.env.RegisterDelayedCallback(fn, d) }

func (h *harness) confirm(via string) { h.env.SignalWorkflow(SignalConfirm, Confirm{Via: via}) }

func (h *harness) status() Status {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryStatus)
	require.NoError(h.t, err)
	var s Status
	require.NoError(h.t, v.Get(&s))
	return s
}

// update sends an update; its refusal lands in *refused (which must stay nil
// when refused is nil) and its result in result.
func (h *harness) update(name string, result any, refused *error) {
	h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) {
			if refused == nil {
				h.t.Errorf("update %s refused: %v", name, err)
				return
			}
			*refused = err
		},
		OnComplete: func(v any, err error) {
			if err != nil && refused != nil {
				*refused = err
				return
			}
			require.NoError(h.t, err)
			if result != nil {
				switch r := result.(type) {
				case *Status:
					*r = v.(Status)
				case *Result:
					*r = v.(Result)
				}
			}
		},
	})
}

// mockDefaults mocks each activity with its usual behaviour; a test's own
// mocks, registered earlier, take precedence.
func (h *harness) mockDefaults() {
	t := h.t
	h.env.OnActivity(a.CreateRecord, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.CreateRecordInput) (activities.Record, error) {
			require.Equal(t, "acme", in.PartnerID)
			require.Equal(t, start.Add(7*24*time.Hour), in.Deadline)
			require.NotEmpty(t, in.SubaccountID)
			return activities.Record{SubaccountID: subID, OrganizationID: orgID, Status: domain.StatusAcceptanceRequired}, nil
		}).Maybe()
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendInput) (activities.Sent, error) {
			h.sends++
			require.Equal(t, h.sends, in.Seq, "emails are numbered in order")
			require.Equal(t, subID, in.SubaccountID)
			return activities.Sent{MessageID: "m", SentAt: h.env.Now()}, nil
		}).Maybe()
	h.env.OnActivity(a.Activate, mock.Anything, subID).Return(activities.Record{SubaccountID: subID, Status: domain.StatusActive}, nil).Maybe()
	h.env.OnActivity(a.CreateCloud, mock.Anything, mock.Anything).Return(activities.CloudCreated{CloudID: cloudID, Name: "acme-prod"}, nil).Maybe()
	h.env.OnActivity(a.Delete, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.DeleteInput) (activities.Record, error) {
			h.deleted = append(h.deleted, in.Reason)
			return activities.Record{SubaccountID: subID, Status: domain.StatusInactive}, nil
		}).Maybe()
	h.env.OnActivity(a.Expire, mock.Anything, subID).Return(
		func(_ context.Context, _ string) (activities.Record, error) {
			h.deleted = append(h.deleted, domain.ReasonExpired)
			return activities.Record{SubaccountID: subID, Status: domain.StatusInactive}, nil
		}).Maybe()
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		got := map[string]string{}
		for _, k := range SearchAttributes {
			if v, ok := sa.GetKeyword(k.(temporal.SearchAttributeKeyKeyword)); ok {
				got[k.GetName()] = v
			}
		}
		h.upserts = append(h.upserts, got)
	}).Return(nil).Maybe()
}

func (h *harness) run(in Input) (Result, error) {
	h.mockDefaults()
	h.env.ExecuteWorkflow(Onboarding, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	err := h.env.GetWorkflowError()
	var r Result
	if err == nil {
		require.NoError(h.t, h.env.GetWorkflowResult(&r))
	}
	return r, err
}

func TestHappyPath(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() {
		s := h.status()
		require.Equal(t, StageAwaiting, s.Stage)
		require.Equal(t, subID, s.SubaccountID)
		require.Equal(t, 1, s.EmailsSent)
		require.Equal(t, start.Add(7*24*time.Hour), s.Deadline)
		require.Equal(t, start.Add(DefaultResendAfter), s.NextResendAt)
		require.Empty(t, s.Outcome)
		h.confirm(ViaLink)
	})
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, Result{Outcome: OutcomeActive, SubaccountID: subID, OrganizationID: orgID, CloudID: cloudID, EmailsSent: 1,
		StartedAt: start, Deadline: start.Add(7 * 24 * time.Hour), DecidedAt: start.Add(time.Hour), FinishedAt: start.Add(time.Hour)}, r)
	s := h.status()
	require.Equal(t, StageDone, s.Stage)
	require.Equal(t, OutcomeActive, s.Outcome)
	require.Equal(t, ViaLink, s.ConfirmedVia)
	require.Equal(t, cloudID, s.CloudID)
	require.Zero(t, s.NextResendAt)
	require.Equal(t, []map[string]string{
		{"OnboardingStage": StageAwaiting, "OnboardingPartner": "acme"},
		{"OnboardingStage": OutcomeActive, "OnboardingOutcome": OutcomeActive},
	}, h.upserts, "search attributes: upserted at milestones only")
	h.env.AssertActivityNumberOfCalls(t, "Activate", 1)
	h.env.AssertActivityNumberOfCalls(t, "CreateCloud", 1)
	h.env.AssertActivityNumberOfCalls(t, "Delete", 0)
}

func TestConfirmViaLoginHook(t *testing.T) {
	h := newHarness(t)
	h.at(time.Minute, func() { h.confirm(ViaLogin) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	require.Equal(t, ViaLogin, h.status().ConfirmedVia)
}

func TestStatusAtEveryStage(t *testing.T) {
	h := newHarness(t)
	stages := map[string]Status{}
	// Each activity takes a minute, long enough to query the stage it runs in.
	h.env.OnActivity(a.CreateRecord, mock.Anything, mock.Anything).After(time.Minute).
		Return(activities.Record{SubaccountID: subID, OrganizationID: orgID}, nil).Once()
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).After(time.Minute).
		Return(activities.Sent{SentAt: start.Add(2 * time.Minute)}, nil).Once()
	h.env.OnActivity(a.Activate, mock.Anything, subID).After(time.Minute).Return(activities.Record{}, nil).Once()
	h.at(30*time.Second, func() { stages["creating"] = h.status() })
	h.at(90*time.Second, func() { stages["sending"] = h.status() })
	h.at(time.Hour, func() { stages["awaiting"] = h.status(); h.confirm(ViaLink) })
	h.at(time.Hour+30*time.Second, func() { stages["activating"] = h.status() })
	_, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, StageCreating, stages["creating"].Stage)
	require.Empty(t, stages["creating"].SubaccountID)
	require.Equal(t, StageSending, stages["sending"].Stage)
	require.Equal(t, subID, stages["sending"].SubaccountID)
	require.Zero(t, stages["sending"].EmailsSent)
	require.Equal(t, StageAwaiting, stages["awaiting"].Stage)
	require.Equal(t, 1, stages["awaiting"].EmailsSent)
	require.Equal(t, StageActivating, stages["activating"].Stage)
	require.Equal(t, ViaLink, stages["activating"].ConfirmedVia)
	require.Equal(t, StageDone, h.status().Stage)
}

func TestDeadline(t *testing.T) {
	h := newHarness(t)
	var before Status
	h.at(7*24*time.Hour-time.Second, func() { before = h.status() })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, StageAwaiting, before.Stage, "still waiting a second before the deadline")
	require.Equal(t, OutcomeExpired, r.Outcome)
	require.Equal(t, start.Add(7*24*time.Hour+confirmGrace), r.DecidedAt)
	require.Equal(t, []string{domain.ReasonExpired}, h.deleted)
	require.Empty(t, r.CloudID)
	require.Equal(t, map[string]string{"OnboardingStage": OutcomeExpired, "OnboardingOutcome": OutcomeExpired}, h.upserts[len(h.upserts)-1])
	h.env.AssertActivityNumberOfCalls(t, "Activate", 0)
}

func TestPerOnboardingDeadline(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.CreateRecord, mock.Anything, mock.Anything).Return(activities.Record{SubaccountID: subID, OrganizationID: orgID}, nil).Once()
	in := input()
	in.ConfirmWithin = 2 * time.Hour
	r, err := h.run(in)
	require.NoError(t, err)
	require.Equal(t, OutcomeExpired, r.Outcome)
	require.Equal(t, start.Add(2*time.Hour+confirmGrace), r.DecidedAt)
}

func TestConfirmExactlyAtDeadlineWins(t *testing.T) {
	h := newHarness(t)
	h.at(7*24*time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	require.Empty(t, h.deleted)
	h.env.AssertActivityNumberOfCalls(t, "CreateCloud", 1)
}

func TestConfirmAfterExpiryIsIgnored(t *testing.T) {
	h := newHarness(t)
	// Deletion takes a while; the confirm arrives while it runs.
	h.env.OnActivity(a.Expire, mock.Anything, mock.Anything).After(time.Minute).Return(activities.Record{}, nil).Once()
	h.at(7*24*time.Hour+confirmGrace+30*time.Second, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeExpired, r.Outcome)
	s := h.status()
	require.Equal(t, 1, s.IgnoredCount)
	require.Equal(t, "confirm via link", s.Ignored[0].What)
	require.Contains(t, s.Ignored[0].Why, OutcomeExpired)
	h.env.AssertActivityNumberOfCalls(t, "Activate", 0)
}

// TestAnswerOfRecordWinsAtTheDeadline: a confirmation the store took
// before the deadline whose signal never reached the workflow is found in
// the record when the deadline passes (the Expire activity keeps the
// record): the onboarding is activated and gets its cloud, as if the
// signal had come, and nothing is deleted.
func TestAnswerOfRecordWinsAtTheDeadline(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.Expire, mock.Anything, subID).Return(
		activities.Record{SubaccountID: subID, Status: domain.StatusAcceptanceRequired, Answer: domain.AnswerConfirm, AnswerVia: ViaLogin}, nil).Once()
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	require.Equal(t, ViaLogin, h.status().ConfirmedVia)
	require.Equal(t, cloudID, r.CloudID)
	require.Empty(t, h.deleted)
	h.env.AssertActivityNumberOfCalls(t, "Activate", 1)
	h.env.AssertActivityNumberOfCalls(t, "Delete", 0)
	require.EqualValues(t, 1, counted(h.metrics, MetricDecided, "outcome", OutcomeActive))
}

// TestDeclineOfRecordAtTheDeadline: a decline the store took, its signal
// lost, ends the onboarding DECLINED at the deadline; the Expire activity
// has deleted the record as declined, so nothing is deleted again.
func TestDeclineOfRecordAtTheDeadline(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.Expire, mock.Anything, subID).Return(
		activities.Record{SubaccountID: subID, Status: domain.StatusInactive, Answer: domain.AnswerDecline, AnswerVia: ViaLink}, nil).Once()
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeDeclined, r.Outcome)
	h.env.AssertActivityNumberOfCalls(t, "Delete", 0)
	h.env.AssertActivityNumberOfCalls(t, "Activate", 0)
}

func TestCancel(t *testing.T) {
	h := newHarness(t)
	var res Result
	h.at(time.Hour, func() { h.update(UpdateCancel, &res, nil) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeCancelled, r.Outcome)
	require.Equal(t, OutcomeCancelled, res.Outcome, "the cancel update answers with the outcome")
	require.Equal(t, []string{domain.ReasonCancelled}, h.deleted)
	h.env.AssertActivityNumberOfCalls(t, "Activate", 0)
}

func TestCancelBeforeTheWaitStarts(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).After(time.Minute).Return(activities.Sent{SentAt: start}, nil).Once()
	h.at(30*time.Second, func() { h.update(UpdateCancel, nil, nil) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeCancelled, r.Outcome)
	require.Equal(t, start.Add(time.Minute), r.DecidedAt)
}

func TestConfirmAfterCancelIsIgnored(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.Delete, mock.Anything, mock.Anything).After(time.Minute).Return(activities.Record{}, nil).Once()
	h.at(time.Hour, func() { h.update(UpdateCancel, nil, nil) })
	h.at(time.Hour+time.Second, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeCancelled, r.Outcome)
	require.Equal(t, 1, h.status().IgnoredCount)
	h.env.AssertActivityNumberOfCalls(t, "Activate", 0)
}

func TestCancelAfterConfirmIsRefused(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.Activate, mock.Anything, subID).After(time.Minute).Return(activities.Record{}, nil).Once()
	var refused error
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	h.at(time.Hour+time.Second, func() { h.update(UpdateCancel, nil, &refused) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	require.ErrorContains(t, refused, "already confirmed")
	require.Empty(t, h.deleted)
}

func TestDuplicateConfirms(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() {
		h.confirm(ViaLink)
		h.confirm(ViaLink)
		h.confirm(ViaLogin)
	})
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	s := h.status()
	require.Equal(t, 2, s.IgnoredCount, "the extra confirms leave a trace")
	h.env.AssertActivityNumberOfCalls(t, "Activate", 1)
	h.env.AssertActivityNumberOfCalls(t, "CreateCloud", 1)
}

func TestResend(t *testing.T) {
	h := newHarness(t)
	var after Status
	h.at(2*time.Minute, func() { h.update(UpdateResend, &after, nil) })
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, 2, after.EmailsSent)
	require.Equal(t, start.Add(2*time.Minute), after.LastSentAt)
	require.Equal(t, 2, r.EmailsSent)
	require.Equal(t, 2, h.sends)
}

func TestResendSeveralTimesUpToTheLimit(t *testing.T) {
	h := newHarness(t)
	refusals := make([]error, 6)
	for i := range refusals {
		h.at(time.Duration(i+1)*2*time.Minute, func() { h.update(UpdateResend, nil, &refusals[i]) })
	}
	h.at(time.Hour, func() {
		s := h.status()
		require.Equal(t, 5, s.EmailsSent)
		require.Zero(t, s.NextResendAt, "no more resends allowed")
		h.confirm(ViaLink)
	})
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, 5, r.EmailsSent, "the first email and four resends")
	for i, err := range refusals {
		if i < 4 {
			require.NoError(t, err, "resend %d", i+1)
			continue
		}
		require.ErrorContains(t, err, "all 5 emails allowed have been sent")
	}
	require.Equal(t, 2, h.status().ResendsRefused)
}

func TestResendTooSoon(t *testing.T) {
	h := newHarness(t)
	var refused error
	h.at(30*time.Second, func() { h.update(UpdateResend, nil, &refused) })
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.ErrorContains(t, refused, "too soon")
	require.ErrorContains(t, refused, "try again in 30s")
	require.Equal(t, 1, r.EmailsSent)
	require.Equal(t, 1, h.status().ResendsRefused, "the refusal is counted in the status")
}

func TestRefusedResendsAreBounded(t *testing.T) {
	h := newHarness(t)
	refusals := make([]error, maxRefusedResends+3)
	for i := range refusals {
		h.at(time.Duration(i+1)*time.Second, func() { h.update(UpdateResend, nil, &refusals[i]) })
	}
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, 1, r.EmailsSent)
	for i, err := range refusals {
		if i < maxRefusedResends {
			require.ErrorContains(t, err, "too soon")
		} else {
			require.ErrorContains(t, err, "refused already", "past the bound, resends are rejected before they reach the history")
		}
	}
	require.Equal(t, maxRefusedResends, h.status().ResendsRefused)
}

func TestResendAfterTheEndIsRefused(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.Activate, mock.Anything, subID).After(time.Minute).Return(activities.Record{}, nil).Once()
	var refused error
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	h.at(time.Hour+time.Second, func() { h.update(UpdateResend, nil, &refused) })
	_, err := h.run(input())
	require.NoError(t, err)
	require.ErrorContains(t, refused, "not waiting for confirmation")
	require.Equal(t, 1, h.sends)
}

func TestRetryableFailureThenSuccess(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.CreateRecord, mock.Anything, mock.Anything).Return(activities.Record{}, errors.New("connection refused")).Twice()
	h.env.OnActivity(a.CreateRecord, mock.Anything, mock.Anything).Return(activities.Record{SubaccountID: subID, OrganizationID: orgID}, nil).Once()
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).Return(activities.Sent{}, errors.New("smtp: 421 try later")).Once()
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).Return(activities.Sent{SentAt: start}, nil).Once()
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	h.env.AssertActivityNumberOfCalls(t, "CreateRecord", 3)
	h.env.AssertActivityNumberOfCalls(t, "SendConfirmation", 2)
}

func TestNonRetryableCreateFailures(t *testing.T) {
	for _, typ := range []string{activities.ErrTypeUnknownPartner, activities.ErrTypeNotPartner, activities.ErrTypeInvalid, activities.ErrTypeNameTaken} {
		t.Run(typ, func(t *testing.T) {
			h := newHarness(t)
			h.env.OnActivity(a.CreateRecord, mock.Anything, mock.Anything).
				Return(activities.Record{}, temporal.NewNonRetryableApplicationError("reason for "+typ, typ, nil)).Once()
			_, err := h.run(input())
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			require.Contains(t, err.Error(), "reason for "+typ)
			h.env.AssertActivityNumberOfCalls(t, "CreateRecord", 1)
			h.env.AssertActivityNumberOfCalls(t, "SendConfirmation", 0)
			require.Empty(t, h.deleted, "nothing was created, so nothing to delete")
			s := h.status()
			require.Equal(t, StageFailed, s.Stage)
			require.Contains(t, s.Failure, "reason for "+typ)
			require.Equal(t, map[string]string{"OnboardingStage": StageFailed}, h.upserts[len(h.upserts)-1])
		})
	}
}

func TestEmailRejectedDeletesTheRecord(t *testing.T) {
	h := newHarness(t)
	h.env.OnActivity(a.SendConfirmation, mock.Anything, mock.Anything).
		Return(activities.Sent{}, temporal.NewNonRetryableApplicationError("550 no such user", activities.ErrTypeRejected, nil)).Once()
	_, err := h.run(input())
	require.ErrorContains(t, err, "550 no such user")
	require.Equal(t, []string{domain.ReasonFailed}, h.deleted, "no half-created record is left")
	h.env.AssertActivityNumberOfCalls(t, "SendConfirmation", 1)
}

func TestWorkflowCancellationStillDeletes(t *testing.T) {
	h := newHarness(t)
	h.at(time.Hour, func() { h.env.CancelWorkflow() })
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeCancelled, r.Outcome)
	require.Equal(t, []string{domain.ReasonCancelled}, h.deleted, "the deletion runs in a disconnected context")
}

func TestWorkflowID(t *testing.T) {
	require.Equal(t, "onboarding/acme/acme corp", WorkflowID("acme", "  ACME   Corp "))
	require.Equal(t, WorkflowID("acme", "Acme Corp"), WorkflowID("acme", "acme corp"))
	require.NotEqual(t, WorkflowID("acme", "Acme Corp"), WorkflowID("other", "Acme Corp"))
	require.Equal(t, "onboarding/acme/soci%C3%A9t%C3%A9 g%C3%A9n%C3%A9rale 100%25", WorkflowID("acme", "Société Générale 100%"))
}
