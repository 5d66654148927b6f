package workflows

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
)

// settlements records every Settle call of a test, by request id.
type settlements struct {
	mu  sync.Mutex
	got map[string][]activities.SettleInput
}

func (s *settlements) record(_ context.Context, in activities.SettleInput) (activities.Settled, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[string][]activities.SettleInput{}
	}
	s.got[in.Request.ID] = append(s.got[in.Request.ID], in)
	status := domain.RequestRefused
	if in.Done {
		status = domain.RequestDone
	}
	return activities.Settled{ID: in.Request.ID, Status: status}, nil
}

// one is the only settlement of a request; the test fails unless there is
// exactly one.
func (s *settlements) one(t *testing.T, id string) activities.SettleInput {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	require.Len(t, s.got[id], 1, "request %s is settled exactly once", id)
	return s.got[id][0]
}

func req(id, kind string) Request {
	return Request{ID: id, Kind: kind, PartnerID: "acme", SubaccountID: subID, By: Actor{Kind: domain.ActorUser, ID: "ed@acme.example"}, At: start}
}

func (h *harness) request(r Request) { h.env.SignalWorkflow(SignalRequest, r) }

// TestResendRequest: a resend request sends the next email and is settled
// done with the status; the same request again (its id) is ignored; one
// too soon is settled refused with the reason and sends nothing.
func TestResendRequest(t *testing.T) {
	h := newHarness(t)
	var s settlements
	h.env.OnActivity(a.Settle, mock.Anything, mock.Anything).Return(s.record)
	in := input()
	in.ResendAfter = time.Minute
	h.at(2*time.Minute, func() { h.request(req("r1", domain.RequestResend)) })
	h.at(2*time.Minute+time.Second, func() { h.request(req("r1", domain.RequestResend)) })
	h.at(2*time.Minute+2*time.Second, func() { h.request(req("r2", domain.RequestResend)) })
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	r, err := h.run(in)
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	require.Equal(t, 2, h.sends, "the first email and one resend")

	done := s.one(t, "r1")
	require.True(t, done.Done)
	require.Equal(t, "email 2 of 5 sent", done.Detail)
	var st Status
	require.NoError(t, json.Unmarshal(done.Result, &st))
	require.Equal(t, 2, st.EmailsSent)
	refused := s.one(t, "r2")
	require.False(t, refused.Done)
	require.Contains(t, refused.Reason, "too soon")
}

// TestCancelRequest: a cancel request ends the onboarding CANCELLED, the
// record deleted, and is settled done after the deletion; a second cancel
// request joins it and is settled done too; a request after the end is
// settled refused, saying why.
func TestCancelRequest(t *testing.T) {
	h := newHarness(t)
	var s settlements
	h.env.OnActivity(a.Settle, mock.Anything, mock.Anything).Return(s.record)
	h.at(time.Minute, func() {
		h.request(req("c1", domain.RequestCancel))
		h.request(req("c2", domain.RequestCancel))
	})
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeCancelled, r.Outcome)
	require.Equal(t, []string{domain.ReasonCancelled}, h.deleted)
	for _, id := range []string{"c1", "c2"} {
		got := s.one(t, id)
		require.True(t, got.Done, id)
		var res Result
		require.NoError(t, json.Unmarshal(got.Result, &res))
		require.Equal(t, OutcomeCancelled, res.Outcome)
	}
}

// TestRequestsAfterTheDecision: a cancel and a resend that reach an
// onboarding the customer has just confirmed are settled refused — the
// customer confirmed — and nothing is deleted or sent.
func TestRequestsAfterTheDecision(t *testing.T) {
	h := newHarness(t)
	var s settlements
	h.env.OnActivity(a.Settle, mock.Anything, mock.Anything).Return(s.record)
	// Activation takes a while: the requests arrive while it runs.
	h.env.OnActivity(a.Activate, mock.Anything, subID).After(time.Minute).Return(activities.Record{SubaccountID: subID, Status: domain.StatusActive}, nil)
	h.at(time.Hour, func() { h.confirm(ViaLink) })
	h.at(time.Hour+time.Second, func() {
		h.request(req("late-cancel", domain.RequestCancel))
		h.request(req("late-resend", domain.RequestResend))
	})
	r, err := h.run(input())
	require.NoError(t, err)
	require.Equal(t, OutcomeActive, r.Outcome)
	require.Empty(t, h.deleted)
	require.Equal(t, 1, h.sends)
	for _, id := range []string{"late-cancel", "late-resend"} {
		got := s.one(t, id)
		require.False(t, got.Done, id)
		require.Equal(t, "the customer has already confirmed", got.Reason, id)
	}
}

// TestCustomerRequests: add-cloud, suspend and resume requests are carried
// out one at a time, each settled done with its answer; the same request
// again is ignored; a cloud for a suspended customer is refused.
func TestCustomerRequests(t *testing.T) {
	h := newLifeHarness(t)
	var s settlements
	h.env.OnActivity(a.Settle, mock.Anything, mock.Anything).Return(s.record)
	cloud := req("k1", domain.RequestAddCloud)
	cloud.CloudName = "acme-staging"
	susp := req("k2", domain.RequestSuspend)
	susp.SuspendReason, susp.Retention = "unpaid", 48*time.Hour
	blocked := req("k3", domain.RequestAddCloud)
	blocked.CloudName = "acme-more"
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalRequest, cloud)
		h.env.SignalWorkflow(SignalRequest, cloud)
		h.env.SignalWorkflow(SignalRequest, susp)
		h.env.SignalWorkflow(SignalRequest, blocked)
	}, time.Minute)
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalRequest, req("k4", domain.RequestResume)) }, time.Hour)
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalRequest, req("k5", domain.RequestResume)) }, 2*time.Hour)
	h.env.RegisterDelayedCallback(func() { h.env.CancelWorkflow() }, 3*time.Hour)
	h.env.ExecuteWorkflow(Customer, lifeInput())
	require.Equal(t, []string{"add-cloud acme-staging", "suspend", "resume"}, h.calls)

	var res CloudResult
	got := s.one(t, "k1")
	require.True(t, got.Done)
	require.NoError(t, json.Unmarshal(got.Result, &res))
	require.Equal(t, "acme-staging", res.Name)
	require.Equal(t, "cloud acme-staging", got.Detail)
	var st CustomerStatus
	got = s.one(t, "k2")
	require.True(t, got.Done)
	require.NoError(t, json.Unmarshal(got.Result, &st))
	require.Equal(t, domain.StatusSuspended, st.Status)
	require.Equal(t, start.Add(time.Minute+48*time.Hour), st.Suspension.DeleteAfter)
	got = s.one(t, "k3")
	require.False(t, got.Done)
	require.Contains(t, got.Reason, "suspended")
	require.True(t, s.one(t, "k4").Done)
	again := s.one(t, "k5")
	require.True(t, again.Done)
	require.Equal(t, "already active", again.Detail)
}

// TestRequestForADeletedCustomer: a request that reaches the customer
// workflow as its suspension runs out is settled refused: deleted.
func TestRequestForADeletedCustomer(t *testing.T) {
	// The deletion takes a minute; the request comes meanwhile.
	h := newLifeHarness(t, func(env *testsuite.TestWorkflowEnvironment) {
		env.OnActivity(a.ExpireSuspension, mock.Anything, mock.Anything).After(time.Minute).
			Return(activities.Account{SubaccountID: subID, Status: domain.StatusInactive}, nil)
	})
	var s settlements
	h.env.OnActivity(a.Settle, mock.Anything, mock.Anything).Return(s.record)
	in := lifeInput()
	in.Status = domain.StatusSuspended
	in.Suspension = &Suspension{ID: "s1", At: start, DeleteAfter: start.Add(time.Hour)}
	late := req("late", domain.RequestAddCloud)
	late.CloudName = "too-late"
	h.env.RegisterDelayedCallback(func() { h.env.SignalWorkflow(SignalRequest, late) }, time.Hour+30*time.Second)
	h.env.ExecuteWorkflow(Customer, in)
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	got := s.one(t, "late")
	require.False(t, got.Done)
	require.Contains(t, got.Reason, "deleted")
}
