package store_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

func TestAnswerRace(t *testing.T) {
	st, ctx := setup(t)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Racing"))
	require.NoError(t, err)
	// Confirm and decline at once, many times over: exactly one answer stands.
	var wg sync.WaitGroup
	recorded := make([]bool, 16)
	answers := make([]string, 16)
	for i := range recorded {
		answer := domain.AnswerConfirm
		if i%2 == 1 {
			answer = domain.AnswerDecline
		}
		answers[i] = answer
		wg.Go(func() {
			_, _, ok, err := st.Answer(ctx, sa.ID, sa.ConfirmDeadline, answer, domain.ViaLink, time.Now())
			require.NoError(t, err)
			recorded[i] = ok
		})
	}
	wg.Wait()
	row, err := st.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	for i, ok := range recorded {
		require.Equal(t, answers[i] == row.Answer, ok, "exactly the callers of the answer that stands are told it is recorded")
	}
	require.Equal(t, domain.ViaLink, row.AnswerVia)
	require.NotNil(t, row.AnsweredAt)

	_, _, _, err = st.Answer(ctx, sa.ID, sa.ConfirmDeadline, "MAYBE", domain.ViaLink, time.Now())
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, _, _, err = st.Answer(ctx, uuid.NewString(), sa.ConfirmDeadline, domain.AnswerConfirm, domain.ViaLink, time.Now())
	require.ErrorIs(t, err, domain.ErrNotFound)

	// A deleted subaccount takes no answer; it is returned as it stands.
	gone, err := st.CreateCustomer(ctx, newCustomer("integrator", "Declined"))
	require.NoError(t, err)
	gone, err = st.Delete(ctx, gone.ID, domain.ReasonDeclined, time.Now())
	require.NoError(t, err)
	require.Equal(t, domain.ReasonDeclined, gone.DeletedReason)
	row, _, ok, err := st.Answer(ctx, gone.ID, gone.ConfirmDeadline, domain.AnswerConfirm, domain.ViaLogin, time.Now())
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, domain.StatusInactive, row.Status)
	require.Empty(t, row.Answer)
}

// TestAnswerIsOneStatement: the token's subaccount and deadline, the
// record's state and the decision are checked and taken in one statement;
// the first answer says it is the first, a repeat of it is taken again
// (for a page retried after a failure) but is not the first, and a token
// for another deadline, or one past the deadline, records nothing.
func TestAnswerIsOneStatement(t *testing.T) {
	var statements atomic.Int64
	st, dsn := testenv.NewStore(t)
	counted, err := store.Open(t.Context(), dsn, store.Options{OnStatement: func() { statements.Add(1) }})
	require.NoError(t, err)
	t.Cleanup(func() { counted.Close() })
	ctx := t.Context()
	_, err = st.AddPartner(ctx, "integrator", "Integrator Ltd", nil)
	require.NoError(t, err)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "One Statement"))
	require.NoError(t, err)

	before := statements.Load()
	got, first, ok, err := counted.Answer(ctx, sa.ID, sa.ConfirmDeadline, domain.AnswerConfirm, domain.ViaLogin, time.Now())
	require.NoError(t, err)
	require.Equal(t, int64(1), statements.Load()-before, "an answer taken costs one round trip")
	require.True(t, ok)
	require.True(t, first)
	require.Equal(t, "Integrator Ltd", got.PartnerName)
	require.Equal(t, sa.OnboardingID, got.OnboardingID)
	require.Equal(t, domain.AnswerConfirm, got.Answer)

	_, first, ok, err = counted.Answer(ctx, sa.ID, sa.ConfirmDeadline, domain.AnswerConfirm, domain.ViaLink, time.Now())
	require.NoError(t, err)
	require.True(t, ok, "the same answer again is taken")
	require.False(t, first)
	row, err := st.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Equal(t, domain.ViaLogin, row.AnswerVia, "the first answer's way stands")

	other, err := st.CreateCustomer(ctx, newCustomer("integrator", "Stale Token"))
	require.NoError(t, err)
	_, _, ok, err = counted.Answer(ctx, other.ID, other.ConfirmDeadline.Add(time.Hour), domain.AnswerConfirm, domain.ViaLink, time.Now())
	require.NoError(t, err)
	require.False(t, ok, "a token of another deadline records nothing")
	_, _, ok, err = counted.Answer(ctx, other.ID, other.ConfirmDeadline, domain.AnswerConfirm, domain.ViaLink, other.ConfirmDeadline.Add(time.Second))
	require.NoError(t, err)
	require.False(t, ok, "past the deadline nothing is recorded")
	row, err = st.Subaccount(ctx, "", other.ID)
	require.NoError(t, err)
	require.Empty(t, row.Answer)
}

func active(t *testing.T, st *store.Store, name string) domain.Subaccount {
	t.Helper()
	ctx := t.Context()
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", name))
	require.NoError(t, err)
	_, err = st.Activate(ctx, sa.ID, time.Now())
	require.NoError(t, err)
	_, err = st.CreateCloud(ctx, uuid.NewString(), sa.ID)
	require.NoError(t, err)
	sa, err = st.Subaccount(ctx, "", sa.ID)
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
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = st.Suspend(ctx, sa.ID, s1, "", at, at)
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Equal(t, before, countRows(t, st))

	got, err := st.Suspend(ctx, sa.ID, s1, "unpaid invoice", at, at.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, domain.StatusSuspended, got.Status)
	require.Equal(t, s1, got.SuspensionID)
	require.Equal(t, "unpaid invoice", got.SuspendReason)
	require.True(t, at.Add(time.Hour).Equal(*got.DeleteAfter))
	// Idempotent: suspending again changes nothing, whatever the id.
	again, err := st.Suspend(ctx, sa.ID, uuid.NewString(), "other", at.Add(time.Minute), at.Add(2*time.Hour))
	require.NoError(t, err)
	require.Equal(t, got, again)
	// No new cloud while suspended.
	_, _, err = st.AddCloud(ctx, uuid.NewString(), sa.ID, "second-cloud")
	require.ErrorIs(t, err, domain.ErrSuspended)

	resumed, err := st.Resume(ctx, sa.ID, at.Add(time.Minute))
	require.NoError(t, err)
	require.Equal(t, domain.StatusActive, resumed.Status)
	require.Empty(t, resumed.SuspensionID)
	again, err = st.Resume(ctx, sa.ID, at.Add(2*time.Minute))
	require.NoError(t, err)
	require.Equal(t, resumed, again, "resuming an active subaccount changes nothing")
	// The resumed suspension can no longer run out.
	_, err = st.ExpireSuspension(ctx, sa.ID, s1, at.Add(time.Hour))
	require.ErrorIs(t, err, domain.ErrNotSuspended)

	// A second suspension runs out: deleted, rows kept.
	s2 := uuid.NewString()
	_, err = st.Suspend(ctx, sa.ID, s2, "", at.Add(3*time.Minute), at.Add(time.Hour))
	require.NoError(t, err)
	gone, err := st.ExpireSuspension(ctx, sa.ID, s2, at.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, domain.StatusInactive, gone.Status)
	require.Equal(t, domain.ReasonSuspensionExpired, gone.DeletedReason)
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
	require.ErrorIs(t, err, domain.ErrDeleted)
	_, err = st.Resume(ctx, sa.ID, at)
	require.ErrorIs(t, err, domain.ErrDeleted)
	pending, err := st.CreateCustomer(ctx, newCustomer("integrator", "Pending"))
	require.NoError(t, err)
	before.Subaccounts, before.Organizations, before.Bindings = before.Subaccounts+1, before.Organizations+1, before.Bindings+4
	_, err = st.Suspend(ctx, pending.ID, uuid.NewString(), "", at, at.Add(time.Hour))
	require.ErrorIs(t, err, domain.ErrNotConfirmed)
	_, err = st.Resume(ctx, pending.ID, at)
	require.ErrorIs(t, err, domain.ErrNotConfirmed)
	_, _, err = st.AddCloud(ctx, uuid.NewString(), pending.ID, "early-cloud")
	require.ErrorIs(t, err, domain.ErrNotConfirmed)
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

	// The onboarding's own cloud's name: one rule for every cloud — that
	// cloud is returned and nothing is created.
	before := countRows(t, st)
	first, created, err := st.AddCloud(ctx, uuid.NewString(), sa.ID, "acme-prod")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, sa.CloudID, first.ID)
	_, _, err = st.AddCloud(ctx, uuid.NewString(), sa.ID, "Not A Name")
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, _, err = st.AddCloud(ctx, uuid.NewString(), uuid.NewString(), "third-cloud")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.Equal(t, before, countRows(t, st))

	clouds, err := st.Clouds(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Len(t, clouds, 2)
	require.Equal(t, "acme-prod", clouds[0].Name)
	require.Equal(t, "second-cloud", clouds[1].Name)
	row, err := st.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Equal(t, 2, row.Clouds)
	require.Equal(t, clouds[0].ID, row.CloudID, "the first cloud stays the onboarding's")
}
