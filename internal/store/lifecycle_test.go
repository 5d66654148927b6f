package store_test

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
)

func TestAnswerRace(t *testing.T) {
	st, ctx := setup(t)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Racing"))
	require.NoError(t, err)
	// Confirm and decline at once, many times over: exactly one answer stands.
	var wg sync.WaitGroup
	got := make([]string, 16)
	for i := range got {
		answer := customer.AnswerConfirm
		if i%2 == 1 {
			answer = customer.AnswerDecline
		}
		wg.Go(func() {
			a, _, err := st.RecordAnswer(ctx, sa.ID, answer, time.Now())
			require.NoError(t, err)
			got[i] = a
		})
	}
	wg.Wait()
	for _, a := range got {
		require.Equal(t, got[0], a, "every caller is told the one answer that stands")
	}
	row, err := st.Subaccount(ctx, sa.ID)
	require.NoError(t, err)
	require.Equal(t, got[0], row.Answer)

	_, _, err = st.RecordAnswer(ctx, sa.ID, "MAYBE", time.Now())
	require.ErrorIs(t, err, customer.ErrInvalid)
	_, _, err = st.RecordAnswer(ctx, uuid.NewString(), customer.AnswerConfirm, time.Now())
	require.ErrorIs(t, err, customer.ErrNotFound)

	// A deleted subaccount takes no answer.
	gone, err := st.CreateCustomer(ctx, newCustomer("integrator", "Declined"))
	require.NoError(t, err)
	gone, err = st.Delete(ctx, gone.ID, customer.ReasonDeclined, time.Now())
	require.NoError(t, err)
	require.Equal(t, customer.ReasonDeclined, gone.DeletedReason)
	a, _, err := st.RecordAnswer(ctx, gone.ID, customer.AnswerConfirm, time.Now())
	require.NoError(t, err)
	require.Empty(t, a)
}

func active(t *testing.T, st *store.Store, name string) store.Subaccount {
	t.Helper()
	ctx := t.Context()
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", name))
	require.NoError(t, err)
	_, err = st.Activate(ctx, sa.ID, time.Now())
	require.NoError(t, err)
	_, err = st.CreateCloud(ctx, uuid.NewString(), sa.ID)
	require.NoError(t, err)
	sa, err = st.Subaccount(ctx, sa.ID)
	require.NoError(t, err)
	return sa
}

func TestSuspendResumeExpire(t *testing.T) {
	st, ctx := setup(t)
	sa := active(t, st, "Lifecycle")
	at := time.Now().UTC().Truncate(time.Microsecond)
	s1 := uuid.NewString()

	// Bad input changes nothing.
	before := countRows(t, st)
	_, err := st.Suspend(ctx, sa.ID, s1, string(make([]byte, 501)), at, at.Add(time.Hour))
	require.ErrorIs(t, err, customer.ErrInvalid)
	_, err = st.Suspend(ctx, sa.ID, s1, "", at, at)
	require.ErrorIs(t, err, customer.ErrInvalid)
	require.Equal(t, before, countRows(t, st))

	got, err := st.Suspend(ctx, sa.ID, s1, "unpaid invoice", at, at.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, customer.StatusSuspended, got.Status)
	require.Equal(t, s1, got.SuspensionID)
	require.Equal(t, "unpaid invoice", got.SuspendReason)
	require.True(t, at.Add(time.Hour).Equal(*got.DeleteAfter))
	// Idempotent: suspending again changes nothing, whatever the id.
	again, err := st.Suspend(ctx, sa.ID, uuid.NewString(), "other", at.Add(time.Minute), at.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, got, again)
	// No new cloud while suspended.
	_, _, err = st.AddCloud(ctx, uuid.NewString(), sa.ID, "second-cloud")
	require.ErrorIs(t, err, customer.ErrSuspended)

	resumed, err := st.Resume(ctx, sa.ID, at.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, customer.StatusActive, resumed.Status)
	require.Empty(t, resumed.SuspensionID)
	again, err = st.Resume(ctx, sa.ID, at.Add(2*time.Minute))
	require.NoError(t, err)
	require.Equal(t, resumed, again, "resuming an active subaccount changes nothing")
	// The resumed suspension can no longer run out.
	_, err = st.ExpireSuspension(ctx, sa.ID, s1, at.Add(time.Hour))
	require.ErrorIs(t, err, customer.ErrNotSuspended)

	// A second suspension runs out: deleted, rows kept.
	s2 := uuid.NewString()
	_, err = st.Suspend(ctx, sa.ID, s2, "", at.Add(3*time.Minute), at.Add(time.Hour))
	require.NoError(t, err)
	gone, err := st.ExpireSuspension(ctx, sa.ID, s2, at.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, customer.StatusInactive, gone.Status)
	require.Equal(t, customer.ReasonSuspensionExpired, gone.DeletedReason)
	again, err = st.ExpireSuspension(ctx, sa.ID, s2, at.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, gone, again)
	var orgDeleted, revoked int
	require.NoError(t, st.DB().Get(&orgDeleted, `SELECT count(*) FROM organizations WHERE subaccount_id = $1 AND deleted_at IS NOT NULL`, sa.ID))
	require.NoError(t, st.DB().Get(&revoked, `SELECT count(*) FROM role_bindings WHERE subaccount_id = $1 AND revoked_at IS NOT NULL`, sa.ID))
	require.Equal(t, 1, orgDeleted)
	require.Equal(t, 4, revoked)
	sus, err := st.Suspensions(ctx, sa.ID)
	require.NoError(t, err)
	require.Len(t, sus, 2)
	require.NotNil(t, sus[0].ExpiredAt)
	require.NotNil(t, sus[1].ResumedAt)

	// Every other state is refused, and nothing changes.
	before = countRows(t, st)
	_, err = st.Suspend(ctx, sa.ID, uuid.NewString(), "", at, at.Add(time.Hour))
	require.ErrorIs(t, err, customer.ErrDeleted)
	_, err = st.Resume(ctx, sa.ID, at)
	require.ErrorIs(t, err, customer.ErrDeleted)
	pending, err := st.CreateCustomer(ctx, newCustomer("integrator", "Pending"))
	require.NoError(t, err)
	before.Subaccounts, before.Organizations, before.Bindings = before.Subaccounts+1, before.Organizations+1, before.Bindings+4
	_, err = st.Suspend(ctx, pending.ID, uuid.NewString(), "", at, at.Add(time.Hour))
	require.ErrorIs(t, err, customer.ErrNotConfirmed)
	_, err = st.Resume(ctx, pending.ID, at)
	require.ErrorIs(t, err, customer.ErrNotConfirmed)
	_, _, err = st.AddCloud(ctx, uuid.NewString(), pending.ID, "early-cloud")
	require.ErrorIs(t, err, customer.ErrNotConfirmed)
	require.Equal(t, before, countRows(t, st))
}

func TestAddCloud(t *testing.T) {
	st, ctx := setup(t)
	sa := active(t, st, "Clouds")
	id := uuid.NewString()
	c, created, err := st.AddCloud(ctx, id, sa.ID, "second-cloud")
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, sa.OrganizationID, c.OrganizationID)
	again, created, err := st.AddCloud(ctx, id, sa.ID, "second-cloud")
	require.NoError(t, err)
	require.False(t, created, "the same cloud again creates nothing")
	require.Equal(t, c, again)

	before := countRows(t, st)
	_, _, err = st.AddCloud(ctx, uuid.NewString(), sa.ID, "acme-prod")
	require.ErrorIs(t, err, customer.ErrCloudNameTaken, "the onboarding's cloud holds this name")
	_, _, err = st.AddCloud(ctx, uuid.NewString(), sa.ID, "Not A Name")
	require.ErrorIs(t, err, customer.ErrInvalid)
	_, _, err = st.AddCloud(ctx, uuid.NewString(), uuid.NewString(), "third-cloud")
	require.ErrorIs(t, err, customer.ErrNotFound)
	require.Equal(t, before, countRows(t, st))

	clouds, err := st.Clouds(ctx, sa.ID)
	require.NoError(t, err)
	require.Len(t, clouds, 2)
	require.Equal(t, "acme-prod", clouds[0].Name)
	require.Equal(t, "second-cloud", clouds[1].Name)
	row, err := st.Subaccount(ctx, sa.ID)
	require.NoError(t, err)
	require.Equal(t, 2, row.Clouds)
	require.Equal(t, clouds[0].ID, row.CloudID, "the first cloud stays the onboarding's")
}
