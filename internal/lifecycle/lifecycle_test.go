package lifecycle_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/lifecycle"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

func staff(partner, role string) domain.Actor {
	return domain.Actor{Kind: domain.ActorUser, ID: role + "@" + partner + ".example", PartnerID: partner, Role: role, PartnerStatus: true}
}

// active onboards one customer of a new partner to ACTIVE, confirming
// through the action the webhook calls, and returns its subaccount id.
func active(t *testing.T, w *testenv.World, partner, name string) domain.Subaccount {
	t.Helper()
	ctx := context.Background()
	email := name + "@" + partner + ".example"
	l := w.Launch(partner, onboarding.NewCustomer{Name: name, Email: email, Cloud: name + "-prod"})
	_, _, err := w.Onboarding.Confirm(ctx, testenv.Token(t, w.Link(email, 1)), domain.ViaLink)
	require.NoError(t, err)
	v := w.WaitOutcome(l.OnboardingID, workflows.OutcomeActive)
	sa, err := w.Store.Subaccount(ctx, partner, v.SubaccountID)
	require.NoError(t, err)
	return sa
}

func clouds(t *testing.T, w *testenv.World, sa domain.Subaccount) []string {
	t.Helper()
	cs, err := w.Store.Clouds(context.Background(), sa.PartnerID, sa.ID)
	require.NoError(t, err)
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return names
}

func lastAudit(t *testing.T, w *testenv.World, sa domain.Subaccount) domain.AuditEvent {
	t.Helper()
	log, err := w.Store.AuditLog(context.Background(), store.AuditQuery{SubaccountID: sa.ID, Limit: 1})
	require.NoError(t, err)
	require.NotEmpty(t, log)
	return log[0]
}

// TestClouds: one rule for every cloud name — a name the organization
// holds, the first cloud's included, returns that cloud and creates
// nothing; a new name creates one. A viewer, another partner, a bad name
// are refused with nothing changed, each refusal in the customer's log.
func TestClouds(t *testing.T) {
	w := testenv.NewWorld(t, nil)
	w.StartWorker(t)
	ctx := context.Background()
	partner, other := "cl-"+testenv.Suffix(), "cl-other-"+testenv.Suffix()
	w.Partner(partner, "Clouds partner")
	w.Partner(other, "Another partner")
	sa := active(t, w, partner, "globex")
	editor := staff(partner, domain.StaffEditor)

	added, err := w.Lifecycle.AddCloud(ctx, editor, sa.ID, "globex-staging", "")
	require.NoError(t, err)
	require.True(t, added.Created)
	require.Equal(t, "globex-staging", added.Cloud.Name)
	require.Equal(t, sa.OrganizationID, added.Cloud.OrganizationID)
	require.Equal(t, domain.OutcomeDone, lastAudit(t, w, sa).Outcome)

	for _, name := range []string{"globex-staging", "globex-prod"} {
		again, err := w.Lifecycle.AddCloud(ctx, editor, sa.OnboardingID, name, "")
		require.NoError(t, err, name)
		require.False(t, again.Created, "%s existed", name)
		require.Equal(t, name, again.Cloud.Name)
		require.NotEmpty(t, again.Cloud.ID)
	}
	require.Equal(t, []string{"globex-prod", "globex-staging"}, clouds(t, w, sa))
	listed, err := w.Lifecycle.Clouds(ctx, staff(partner, domain.StaffViewer), sa.ID)
	require.NoError(t, err)
	require.Len(t, listed, 2)

	_, err = w.Lifecycle.AddCloud(ctx, staff(partner, domain.StaffViewer), sa.ID, "globex-viewer", "")
	require.ErrorIs(t, err, domain.ErrForbidden)
	require.Equal(t, domain.OutcomeRefused, lastAudit(t, w, sa).Outcome)
	_, err = w.Lifecycle.AddCloud(ctx, editor, sa.ID, "Not A Name!", "")
	require.Equal(t, domain.Invalid, domain.KindOf(err), "%v", err)
	for _, ref := range []string{sa.ID, sa.OnboardingID} {
		_, err = w.Lifecycle.AddCloud(ctx, staff(other, domain.StaffOwner), ref, "intruder", "")
		require.ErrorIs(t, err, domain.ErrNotFound, ref)
		_, err = w.Lifecycle.Clouds(ctx, staff(other, domain.StaffOwner), ref)
		require.ErrorIs(t, err, domain.ErrNotFound, ref)
	}
	require.Equal(t, []string{"globex-prod", "globex-staging"}, clouds(t, w, sa), "nothing changed")
}

// TestSuspendResume: suspend stops an active customer's services for the
// retention asked (or the default), again changes nothing, a suspended
// customer gets no new cloud; resume makes it active, again changes
// nothing. A retention out of range is refused before anything happens.
func TestSuspendResume(t *testing.T) {
	w := testenv.NewWorld(t, nil)
	w.StartWorker(t)
	ctx := context.Background()
	partner := "sr-" + testenv.Suffix()
	w.Partner(partner, "Suspend partner")
	sa := active(t, w, partner, "initech")
	editor := staff(partner, domain.StaffEditor)

	for _, bad := range []time.Duration{time.Millisecond, domain.MaxRetention + time.Hour} {
		_, err := w.Lifecycle.Suspend(ctx, editor, sa.ID, "unpaid", bad, "")
		require.Equal(t, domain.Invalid, domain.KindOf(err), "%s: %v", bad, err)
		require.ErrorContains(t, err, "retention")
	}
	_, err := w.Lifecycle.Suspend(ctx, staff(partner, domain.StaffViewer), sa.ID, "unpaid", 0, "")
	require.ErrorIs(t, err, domain.ErrForbidden)
	got, err := w.Store.Subaccount(ctx, partner, sa.ID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusActive, got.Status, "nothing changed")

	before := time.Now()
	l, err := w.Lifecycle.Suspend(ctx, editor, sa.ID, "unpaid invoice", 0, "")
	require.NoError(t, err)
	require.True(t, l.Changed)
	require.Equal(t, domain.StatusSuspended, l.Status)
	require.Equal(t, "unpaid invoice", l.SuspendReason)
	require.WithinDuration(t, before.Add(domain.DefaultRetention), *l.DeleteAfter, time.Minute)
	got, err = w.Store.Subaccount(ctx, partner, sa.ID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusSuspended, got.Status)

	again, err := w.Lifecycle.Suspend(ctx, editor, sa.ID, "another reason", time.Hour, "")
	require.NoError(t, err)
	require.False(t, again.Changed)
	require.Equal(t, "unpaid invoice", again.SuspendReason, "the first suspension stands")
	require.Equal(t, "already suspended", lastAudit(t, w, sa).Detail)
	_, err = w.Lifecycle.AddCloud(ctx, editor, sa.ID, "initech-more", "")
	require.ErrorIs(t, err, domain.ErrSuspended)
	require.Equal(t, domain.Conflict, domain.KindOf(err))

	r, err := w.Lifecycle.Resume(ctx, editor, sa.ID, "")
	require.NoError(t, err)
	require.True(t, r.Changed)
	require.Equal(t, domain.StatusActive, r.Status)
	require.Nil(t, r.DeleteAfter)
	r, err = w.Lifecycle.Resume(ctx, editor, sa.OnboardingID, "")
	require.NoError(t, err)
	require.False(t, r.Changed)
	require.Equal(t, "already active", lastAudit(t, w, sa).Detail)
}

// TestNotPastOnboarding: a customer that has not confirmed gets no cloud,
// suspension or resumption (not yet possible), a deleted one neither
// (conflict), an unknown one is not found — nothing changes.
func TestNotPastOnboarding(t *testing.T) {
	w := testenv.NewWorld(t, nil)
	w.StartWorker(t)
	ctx := context.Background()
	partner := "np-" + testenv.Suffix()
	w.Partner(partner, "Waiting partner")
	editor := staff(partner, domain.StaffEditor)
	l := w.Launch(partner, onboarding.NewCustomer{Name: "Hooli", Email: "it@hooli.example", Cloud: "hooli-prod"})
	v := w.WaitStage(l.OnboardingID, workflows.StageAwaiting)

	_, err := w.Lifecycle.AddCloud(ctx, editor, v.SubaccountID, "hooli-more", "")
	require.Equal(t, domain.NotYet, domain.KindOf(err), "%v", err)
	_, err = w.Lifecycle.Suspend(ctx, editor, v.SubaccountID, "", 0, "")
	require.Equal(t, domain.NotYet, domain.KindOf(err), "%v", err)
	_, err = w.Lifecycle.Resume(ctx, editor, l.OnboardingID, "")
	require.Equal(t, domain.NotYet, domain.KindOf(err), "%v", err)

	_, err = w.Onboarding.Cancel(ctx, editor, l.OnboardingID, "")
	require.NoError(t, err)
	w.WaitOutcome(l.OnboardingID, workflows.OutcomeCancelled)
	_, err = w.Lifecycle.AddCloud(ctx, editor, v.SubaccountID, "hooli-more", "")
	require.ErrorIs(t, err, domain.ErrDeleted)
	require.Equal(t, domain.Conflict, domain.KindOf(err))

	_, err = w.Lifecycle.Resume(ctx, editor, "no-such-customer", "")
	require.ErrorIs(t, err, domain.ErrNotFound)
	cs, err := w.Store.Clouds(ctx, partner, v.SubaccountID)
	require.NoError(t, err)
	require.Empty(t, cs, "no cloud was ever created")
}

// TestRequestsQueuedInOrder: with no worker, suspend, resume and a cloud
// for an active customer are each accepted — none answered from the
// record, which the suspend pending will change ("already active" would
// be untrue once it is carried out) — shown pending in the order they
// came, and carried out in that order once a worker runs: the customer
// ends active with the new cloud, each request done, each with one audit
// row.
func TestRequestsQueuedInOrder(t *testing.T) {
	w := testenv.NewWorld(t, nil)
	p := w.StartWorker(t)
	ctx := context.Background()
	partner := "q-" + testenv.Suffix()
	w.Partner(partner, "Queue partner")
	sa := active(t, w, partner, "umbrella")
	editor := staff(partner, domain.StaffEditor)
	p.Stop()

	impatient := lifecycle.New(w.Temporal, w.Store, w.Audit, request.New(w.Temporal, w.Store, time.Second), w.Vars["TASK_QUEUE"], 0)
	s, err := impatient.Suspend(ctx, editor, sa.ID, "unpaid", 0, "")
	require.NoError(t, err)
	require.True(t, s.Request.Pending(), "%+v", s.Request)
	require.Equal(t, domain.StatusActive, s.Status, "the record is unchanged until a worker takes it")
	r, err := impatient.Resume(ctx, editor, sa.ID, "")
	require.NoError(t, err)
	require.True(t, r.Request.Pending(), "a resume behind a suspend is sent, not answered \"already active\"")
	c, err := impatient.AddCloud(ctx, editor, sa.ID, "umbrella-more", "")
	require.NoError(t, err)
	require.True(t, c.Request.Pending())
	got, _, err := w.Store.Customer(ctx, partner, sa.ID)
	require.NoError(t, err)
	var kinds []string
	for _, q := range got.Pending {
		kinds = append(kinds, q.Kind)
	}
	require.Equal(t, []string{domain.RequestSuspend, domain.RequestResume, domain.RequestAddCloud}, kinds)

	w.StartWorker(t)
	for _, id := range []string{s.Request.ID, r.Request.ID, c.Request.ID} {
		testenv.Eventually(t, 60*time.Second, "request "+id+" done", func() bool {
			q, err := w.Store.Request(ctx, partner, id)
			return err == nil && q.Status == domain.RequestDone
		})
	}
	got, _, err = w.Store.Customer(ctx, partner, sa.ID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusActive, got.Status)
	require.Empty(t, got.Pending)
	require.ElementsMatch(t, []string{"umbrella-more", "umbrella-prod"}, clouds(t, w, sa))
	log, err := w.Store.AuditLog(ctx, store.AuditQuery{SubaccountID: sa.ID})
	require.NoError(t, err)
	done := map[string]int{}
	for _, e := range log {
		if e.Outcome == domain.OutcomeDone {
			done[e.Action]++
		}
	}
	require.Equal(t, 1, done["suspend"], "%v", done)
	require.Equal(t, 1, done["resume"], "%v", done)
	require.Equal(t, 1, done["create cloud"], "%v", done)
}
