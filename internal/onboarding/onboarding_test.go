package onboarding

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// world is one test's slice of the real stack: its database, task queue,
// the real worker binary and the actions over them.
type world struct {
	svc  *Service
	st   *store.Store
	vars map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	testenv.RequireStack(t)
	st, dsn := testenv.NewStore(t)
	vars := map[string]string{"DATABASE_URL": dsn, "TASK_QUEUE": "tq-" + testenv.Suffix(), "RESEND_MIN_INTERVAL": "100ms"}
	cfg, err := config.Load(testenv.Getenv(vars))
	require.NoError(t, err)
	svc, err := New(cfg, st, testenv.Client(t))
	require.NoError(t, err)
	return &world{svc: svc, st: st, vars: vars}
}

func (w *world) worker(t *testing.T) *testenv.Process {
	t.Helper()
	vars := map[string]string{"WORKER_ADDR": testenv.FreePort(t)}
	for k, v := range w.vars {
		vars[k] = v
	}
	return testenv.Start(t, "worker", vars)
}

func (w *world) awaiting(t *testing.T, by Actor, id string) View {
	t.Helper()
	var v View
	testenv.Eventually(t, 30*time.Second, id+" to await confirmation", func() bool {
		var err error
		v, err = w.svc.Status(context.Background(), by, id)
		return err == nil && v.Stage == workflows.StageAwaiting
	})
	return v
}

// TestActorsSeeOnlyTheirPartner: an actor scoped to one partner finds
// another partner's onboarding nowhere — by onboarding id, by subaccount
// id, in lists — exactly as if it did not exist, and cannot act on it.
func TestActorsSeeOnlyTheirPartner(t *testing.T) {
	w := newWorld(t)
	w.worker(t)
	ctx := context.Background()
	op := Operator("test")
	// Partner ids of their own: the dev server is shared by every test.
	sfx := testenv.Suffix()
	pa, pb := "alpha-"+sfx, "beta-"+sfx
	for _, p := range []string{pa, pb} {
		_, err := w.svc.AddPartner(ctx, op, p, "Partner "+p)
		require.NoError(t, err)
	}
	alpha := Actor{Kind: ActorUser, ID: "a@alpha.example", PartnerID: pa, Role: customer.StaffEditor}
	beta := Actor{Kind: ActorUser, ID: "b@beta.example", PartnerID: pb, Role: customer.StaffEditor}
	l, err := w.svc.Launch(ctx, beta, pb, NewCustomer{Name: "Beta Customer", Email: "x@beta.example", Cloud: "beta-cloud"})
	require.NoError(t, err)
	v := w.awaiting(t, beta, l.OnboardingID)
	require.NotEmpty(t, v.SubaccountID, "%+v", v)

	_, err = w.svc.Launch(ctx, alpha, pb, NewCustomer{Name: "Intruder", Email: "x@alpha.example", Cloud: "nope-cloud"})
	require.ErrorIs(t, err, customer.ErrUnknownPartner)
	_, err = w.svc.AddPartner(ctx, alpha, "gamma", "Gamma")
	require.Error(t, err)
	for _, id := range []string{l.OnboardingID, v.SubaccountID} {
		_, err := w.svc.Status(ctx, alpha, id)
		require.ErrorIs(t, err, customer.ErrNotFound, id)
		_, err = w.svc.Link(ctx, alpha, id)
		require.ErrorIs(t, err, customer.ErrNotFound, id)
		_, err = w.svc.Resend(ctx, alpha, id)
		require.ErrorIs(t, err, customer.ErrNotFound, id)
		_, err = w.svc.Cancel(ctx, alpha, id)
		require.ErrorIs(t, err, customer.ErrNotFound, id)
		email := "changed@alpha.example"
		_, err = w.svc.Edit(ctx, alpha, id, store.Edit{Email: &email})
		require.ErrorIs(t, err, customer.ErrNotFound, id)
		// Not found reads exactly like an unknown id.
		_, unknownErr := w.svc.Status(ctx, alpha, "onboarding/"+pb+"/nobody")
		require.Equal(t, errors.Is(unknownErr, customer.ErrNotFound), errors.Is(err, customer.ErrNotFound))
	}
	// Each attempt is audited as a refusal, under alpha, not in beta's customer's log.
	tried, err := w.st.PartnerAuditLog(ctx, pa, 100)
	require.NoError(t, err)
	require.Len(t, tried, 8) // link, resend, cancel and edit, by each id
	for _, e := range tried {
		require.Equal(t, "refused", e.Outcome, "%s: %s", e.Action, e.Detail)
		require.Nil(t, e.SubaccountID, e.Action)
	}
	log, err := w.st.AuditLog(ctx, v.SubaccountID, 100)
	require.NoError(t, err)
	for _, e := range log {
		require.NotEqual(t, alpha.ID, e.ActorID, "alpha's attempt %s is in beta's customer's log", e.Action)
	}
	list, err := w.svc.List(ctx, alpha, ListQuery{})
	require.NoError(t, err)
	require.Empty(t, list.Onboardings)
	_, err = w.svc.List(ctx, alpha, ListQuery{PartnerID: pb})
	require.ErrorIs(t, err, customer.ErrUnknownPartner)

	// Nothing changed for beta's customer; beta sees it by either id.
	after, err := w.svc.Status(ctx, beta, v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, workflows.StageAwaiting, after.Stage)
	require.Equal(t, 1, after.EmailsSent)
	sa, err := w.st.Subaccount(ctx, v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, "x@beta.example", sa.Email)
	list, err = w.svc.List(ctx, beta, ListQuery{Runs: true})
	require.NoError(t, err)
	require.Len(t, list.Onboardings, 1)
	require.Equal(t, workflows.StageAwaiting, list.Onboardings[0].Stage, "the list joins the run by its id")
	require.Equal(t, l.RunID, list.Onboardings[0].RunID)
}

// TestQueuedRequestsSayTheTruth: a cancel that no worker answers in time
// is reported as queued, not failed — and it is carried out once a worker
// is back.
func TestQueuedRequestsSayTheTruth(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	op := Operator("test")
	partner := "queued-" + testenv.Suffix()
	_, err := w.svc.AddPartner(ctx, op, partner, "Queued partner")
	require.NoError(t, err)
	p := w.worker(t)
	l, err := w.svc.Launch(ctx, op, partner, NewCustomer{Name: "Queued Co", Email: "q@queued.example", Cloud: "q-cloud"})
	require.NoError(t, err)
	v := w.awaiting(t, op, l.OnboardingID)
	p.Stop()

	// The worker polled a moment ago, so the request is sent and waits.
	w.svc.updateWait = 2 * time.Second
	_, err = w.svc.Cancel(ctx, op, l.OnboardingID)
	require.ErrorIs(t, err, ErrQueued)
	require.ErrorContains(t, err, "will be carried out when a worker takes it")
	sa, err := w.st.Subaccount(ctx, v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, customer.StatusAcceptanceRequired, sa.Status, "nothing happens without a worker")

	w.worker(t)
	testenv.Eventually(t, 60*time.Second, "the queued cancel to be carried out", func() bool {
		sa, err = w.st.Subaccount(ctx, v.SubaccountID)
		return err == nil && sa.Status == customer.StatusInactive
	})
	require.Equal(t, customer.ReasonCancelled, sa.DeletedReason)
	// Once the onboarding has closed (moments after the record is deleted),
	// asking again says it has ended.
	var r workflows.Result
	require.NoError(t, w.svc.temporal.GetWorkflow(ctx, l.OnboardingID, "").Get(ctx, &r))
	require.Equal(t, workflows.OutcomeCancelled, r.Outcome)
	_, err = w.svc.Cancel(ctx, op, l.OnboardingID)
	require.ErrorIs(t, err, ErrEnded)
}
