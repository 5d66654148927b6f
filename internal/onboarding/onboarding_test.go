package onboarding_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// world is one test's slice of the real stack (testenv.World).
type world struct{ *testenv.World }

func newWorld(t *testing.T) *world { t.Helper(); return &world{testenv.NewWorld(t, nil)} }

func (w *world) worker(t *testing.T) *testenv.Process { t.Helper(); return w.StartWorker(t) }

func (w *world) awaiting(t *testing.T, by domain.Actor, id string) onboarding.View {
	t.Helper()
	var v onboarding.View
	testenv.Eventually(t, 30*time.Second, id+" to await confirmation", func() bool {
		var err error
		v, err = w.Onboarding.Status(context.Background(), by, id)
		return err == nil && v.Stage == workflows.StageAwaiting
	})
	return v
}

// staff is a partner's member of staff with a role, its partner with partner status.
func staff(id, partner, role string) domain.Actor {
	return domain.Actor{Kind: domain.ActorUser, ID: id, PartnerID: partner, Role: role, PartnerStatus: true}
}

// TestActorsSeeOnlyTheirPartner: an actor scoped to one partner finds
// another partner's onboarding nowhere — by onboarding id, by subaccount
// id, in lists — exactly as if it did not exist, and cannot act on it.
func TestActorsSeeOnlyTheirPartner(t *testing.T) {
	w := newWorld(t)
	w.worker(t)
	ctx := context.Background()
	// Partner ids of their own: the dev server is shared by every test.
	sfx := testenv.Suffix()
	pa, pb := "alpha-"+sfx, "beta-"+sfx
	for _, p := range []string{pa, pb} {
		w.Partner(p, "Partner "+p)
	}
	alpha, beta := staff("a@alpha.example", pa, domain.StaffEditor), staff("b@beta.example", pb, domain.StaffEditor)
	l, err := w.Onboarding.Launch(ctx, beta, pb, onboarding.NewCustomer{Name: "Beta Customer", Email: "x@beta.example", Cloud: "beta-cloud"})
	require.NoError(t, err)
	v := w.awaiting(t, beta, l.OnboardingID)
	require.NotEmpty(t, v.SubaccountID, "%+v", v)

	_, err = w.Onboarding.Launch(ctx, alpha, pb, onboarding.NewCustomer{Name: "Intruder", Email: "x@alpha.example", Cloud: "nope-cloud"})
	require.ErrorIs(t, err, domain.ErrUnknownPartner)
	_, err = w.Access.AddPartner(ctx, alpha, "gamma", "Gamma")
	require.ErrorIs(t, err, domain.ErrForbidden)
	for _, id := range []string{l.OnboardingID, v.SubaccountID} {
		_, err := w.Onboarding.Status(ctx, alpha, id)
		require.ErrorIs(t, err, domain.ErrNotFound, id)
		_, err = w.Onboarding.Link(ctx, alpha, id)
		require.ErrorIs(t, err, domain.ErrNotFound, id)
		_, err = w.Onboarding.Resend(ctx, alpha, id, "")
		require.ErrorIs(t, err, domain.ErrNotFound, id)
		_, err = w.Onboarding.Cancel(ctx, alpha, id, "")
		require.ErrorIs(t, err, domain.ErrNotFound, id)
		email := "changed@alpha.example"
		_, err = w.Onboarding.Edit(ctx, alpha, id, domain.Edit{Email: &email})
		require.ErrorIs(t, err, domain.ErrNotFound, id)
		// Not found reads exactly like an unknown id.
		_, unknownErr := w.Onboarding.Status(ctx, alpha, "onboarding/"+pb+"/nobody")
		require.Equal(t, domain.KindOf(unknownErr), domain.KindOf(err))
		require.Equal(t, domain.CodeOf(unknownErr), domain.CodeOf(err))
	}
	// Each attempt is audited as a refusal, under alpha, not in beta's customer's log.
	tried, err := w.Store.AuditLog(ctx, store.AuditQuery{Scope: pa, Actor: alpha.ID, Limit: 100})
	require.NoError(t, err)
	require.Len(t, tried, 9) // the launch, then link, resend, cancel and edit by each id
	for _, e := range tried {
		require.Equal(t, domain.OutcomeRefused, e.Outcome, "%s: %s", e.Action, e.Detail)
		require.Empty(t, e.SubaccountID, e.Action)
	}
	log, err := w.Store.AuditLog(ctx, store.AuditQuery{SubaccountID: v.SubaccountID, Limit: 100})
	require.NoError(t, err)
	for _, e := range log {
		require.NotEqual(t, alpha.ID, e.ActorID, "alpha's attempt %s is in beta's customer's log", e.Action)
	}
	list, err := w.Onboarding.List(ctx, alpha, onboarding.ListQuery{})
	require.NoError(t, err)
	require.Empty(t, list.Onboardings)
	_, err = w.Onboarding.List(ctx, alpha, onboarding.ListQuery{PartnerID: pb})
	require.ErrorIs(t, err, domain.ErrUnknownPartner)

	// Nothing changed for beta's customer; beta sees it by either id.
	after, err := w.Onboarding.Status(ctx, beta, v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, workflows.StageAwaiting, after.Stage)
	require.Equal(t, 1, after.EmailsSent)
	sa, err := w.Store.Subaccount(ctx, "", v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, "x@beta.example", sa.Email)
	list, err = w.Onboarding.List(ctx, beta, onboarding.ListQuery{Runs: true})
	require.NoError(t, err)
	require.Len(t, list.Onboardings, 1)
	require.Equal(t, workflows.StageAwaiting, list.Onboardings[0].Stage, "the list joins the run by its id")
	require.Equal(t, l.RunID, list.Onboardings[0].RunID)
	// The poll reads the record alone: the same stage.
	p, err := w.Onboarding.Progress(ctx, beta, v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, workflows.StageAwaiting, p.Stage())
	_, err = w.Onboarding.Progress(ctx, alpha, v.SubaccountID)
	require.ErrorIs(t, err, domain.ErrNotFound)
}

// TestAcceptedRequestsHappen: with the worker stopped, a cancel is
// accepted — durable, exit 0 at the CLI, 202 at the API — and shows as
// pending; the same request again (its id) is the same request; once a
// worker runs it is carried out, exactly once, with one audit event; then
// asking again says the onboarding has ended.
func TestAcceptedRequestsHappen(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	op := w.Operator
	partner := "accepted-" + testenv.Suffix()
	w.Partner(partner, "Accepted partner")
	p := w.worker(t)
	l := w.Launch(partner, onboarding.NewCustomer{Name: "Accepted Co", Email: "q@accepted.example", Cloud: "q-cloud"})
	v := w.awaiting(t, op, l.OnboardingID)
	p.Stop()

	// The worker polled a moment ago, so the request waits its bound for an
	// answer, then is answered accepted.
	impatient := onboarding.New(onboarding.Settings{TaskQueue: w.Vars["TASK_QUEUE"], Secret: []byte("not used for a cancel at all, 0123456789")},
		w.Store, w.Temporal, w.Audit, request.New(w.Temporal, w.Store, 2*time.Second))
	rid := uuid.NewString()
	c, err := impatient.Cancel(ctx, op, l.OnboardingID, rid)
	require.NoError(t, err)
	require.Equal(t, domain.RequestAccepted, c.Request.Status)
	require.Equal(t, rid, c.Request.ID)
	sa, clouds, err := w.Store.Customer(ctx, "", v.SubaccountID)
	require.NoError(t, err)
	require.Empty(t, clouds)
	require.Equal(t, domain.StatusAcceptanceRequired, sa.Status, "nothing happens without a worker")
	require.Len(t, sa.Pending, 1, "the customer shows the request pending")
	require.Equal(t, domain.RequestCancel, sa.Pending[0].Kind)
	again, err := impatient.Cancel(ctx, op, l.OnboardingID, rid)
	require.NoError(t, err)
	require.Equal(t, rid, again.Request.ID, "the same id is the same request")
	_, err = impatient.Resend(ctx, op, l.OnboardingID, rid)
	require.ErrorIs(t, err, request.ErrReused, "the same id for another request is refused")

	w.worker(t)
	testenv.Eventually(t, 60*time.Second, "the accepted cancel to be carried out", func() bool {
		sa, err = w.Store.Subaccount(ctx, "", v.SubaccountID)
		return err == nil && sa.Status == domain.StatusInactive
	})
	require.Equal(t, domain.ReasonCancelled, sa.DeletedReason)
	testenv.Eventually(t, 30*time.Second, "the request to be settled", func() bool {
		r, err := w.Onboarding.Request(ctx, op, rid)
		return err == nil && r.Status == domain.RequestDone
	})
	log, err := w.Store.AuditLog(ctx, store.AuditQuery{SubaccountID: v.SubaccountID, Limit: 100})
	require.NoError(t, err)
	n := 0
	for _, e := range log {
		if e.Action == "delete unconfirmed customer" {
			n++
			require.Equal(t, domain.OutcomeDone, e.Outcome)
		}
	}
	require.Equal(t, 1, n, "one audit event for the cancel: %+v", log)
	// Once the onboarding has closed, asking again says it has ended.
	w.WaitOutcome(l.OnboardingID, workflows.OutcomeCancelled)
	_, err = w.Onboarding.Cancel(ctx, op, l.OnboardingID, "")
	require.ErrorIs(t, err, domain.ErrEnded)
}

// lossyTemporal is the stack's Temporal client whose signals never arrive,
// as when the Temporal server is away the moment a customer answers.
type lossyTemporal struct{ client.Client }

func (lossyTemporal) SignalWorkflow(context.Context, string, string, string, any) error {
	return errors.New("connection refused (the Temporal server is away)")
}

// TestAnswerOfRecordIsCarriedOut: a customer's confirmation and another's
// decline are recorded, and their signals lost — the edge is told the
// answer is recorded (ErrAnswerRecorded), not that it failed — and the
// real worker carries out each when the deadline passes, where the answer
// in the record wins: one ACTIVE with its cloud, one DECLINED; neither
// EXPIRED. Each answer has its one audit row, and no system deletion row.
func TestAnswerOfRecordIsCarriedOut(t *testing.T) {
	w := newWorld(t)
	w.worker(t)
	ctx := context.Background()
	partner := "record-" + testenv.Suffix()
	w.Partner(partner, "Record partner")
	v := config.New(testenv.Getenv(w.Vars))
	links := config.LoadLinks(v)
	require.NoError(t, v.Err())
	lossy := onboarding.New(onboarding.Settings{TaskQueue: w.Vars["TASK_QUEUE"], PublicURL: links.PublicURL, Secret: links.Secret},
		w.Store, lossyTemporal{w.Temporal}, w.Audit, w.Requests)

	yesEmail, noEmail := "yes@"+partner+".example", "no@"+partner+".example"
	confirmer := w.Launch(partner, onboarding.NewCustomer{Name: "Confirmer", Email: yesEmail, Cloud: "yes-prod", ConfirmWithin: 4 * time.Second})
	decliner := w.Launch(partner, onboarding.NewCustomer{Name: "Decliner", Email: noEmail, Cloud: "no-prod", ConfirmWithin: 4 * time.Second})
	_, _, err := lossy.Confirm(ctx, testenv.Token(t, w.Link(yesEmail, 1)), domain.ViaLink)
	require.ErrorIs(t, err, onboarding.ErrAnswerRecorded)
	_, err = lossy.Decline(ctx, testenv.Token(t, w.Link(noEmail, 1)))
	require.ErrorIs(t, err, onboarding.ErrAnswerRecorded)

	yes := w.WaitOutcome(confirmer.OnboardingID, workflows.OutcomeActive)
	require.NotEmpty(t, yes.CloudID)
	require.Equal(t, domain.ViaLink, yes.ConfirmedVia)
	no := w.WaitOutcome(decliner.OnboardingID, workflows.OutcomeDeclined)
	sa, err := w.Store.Subaccount(ctx, "", no.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusInactive, sa.Status)
	require.Equal(t, domain.ReasonDeclined, sa.DeletedReason)
	for _, id := range []string{yes.SubaccountID, no.SubaccountID} {
		log, err := w.Store.AuditLog(ctx, store.AuditQuery{SubaccountID: id})
		require.NoError(t, err)
		answers := 0
		for _, e := range log {
			require.NotEqual(t, domain.ActorSystem, e.ActorKind, "no deletion by the system: %+v", e)
			if e.ActorKind == domain.ActorCustomer {
				answers++
			}
		}
		require.Equal(t, 1, answers, "%+v", log)
	}
}
