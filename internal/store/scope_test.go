package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestReadsByIDAreScopedInSQL: every read and write by id takes the
// partner scope into its WHERE, so that another partner's id is not found
// by the store itself — exactly like an id that names nothing — and the
// scope "" (operators, the system) finds every partner's.
func TestReadsByIDAreScopedInSQL(t *testing.T) {
	st, ctx := setup(t)
	_, err := st.AddPartner(ctx, "rival", "Rival Ltd", nil)
	require.NoError(t, err)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Scoped Co"))
	require.NoError(t, err)
	require.NoError(t, st.Audit(ctx, domain.AuditEvent{At: time.Now(), PartnerID: "integrator", ActorKind: domain.ActorUser, ActorID: "a@integrator.example",
		Action: "edit", SubaccountID: sa.ID, Outcome: domain.OutcomeDone}))
	staff, err := st.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: "integrator", Email: "owner@integrator.example", Role: domain.StaffOwner}, nil)
	require.NoError(t, err)

	for _, scope := range []string{"", "integrator"} {
		got, err := st.Subaccount(ctx, scope, sa.ID)
		require.NoError(t, err, "scope %q", scope)
		require.Equal(t, sa.ID, got.ID)
		_, _, err = st.Customer(ctx, scope, sa.ID)
		require.NoError(t, err)
		_, _, err = st.Customer(ctx, scope, sa.OnboardingID)
		require.NoError(t, err)
		_, err = st.SubaccountByOnboarding(ctx, scope, sa.OnboardingID)
		require.NoError(t, err)
		_, err = st.StaffByID(ctx, scope, staff.ID)
		require.NoError(t, err)
		log, err := st.AuditLog(ctx, store.AuditQuery{Scope: scope, SubaccountID: sa.ID})
		require.NoError(t, err)
		require.Len(t, log, 1)
	}

	before := countRows(t, st)
	_, errRival := st.Subaccount(ctx, "rival", sa.ID)
	require.ErrorIs(t, errRival, domain.ErrNotFound)
	_, _, err = st.Customer(ctx, "rival", sa.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, _, err = st.Customer(ctx, "rival", sa.OnboardingID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = st.SubaccountByOnboarding(ctx, "rival", sa.OnboardingID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = st.Clouds(ctx, "rival", sa.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = st.StaffByID(ctx, "rival", staff.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	log, err := st.AuditLog(ctx, store.AuditQuery{Scope: "rival", SubaccountID: sa.ID})
	require.NoError(t, err)
	require.Empty(t, log, "another partner's audit log is empty to the rival")
	contact := "Mallory"
	_, err = st.EditSubaccount(ctx, "rival", sa.ID, domain.Edit{Contact: &contact}, nil)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.Equal(t, before, countRows(t, st))
	row, err := st.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Equal(t, sa.Contact, row.Contact, "the rival's edit changed nothing")

	// An unknown id answers exactly as another partner's does.
	_, errUnknown := st.Subaccount(ctx, "rival", uuid.NewString())
	require.ErrorIs(t, errUnknown, domain.ErrNotFound)
	require.Equal(t, domain.KindOf(errRival), domain.KindOf(errUnknown))
	require.Equal(t, domain.CodeOf(errRival), domain.CodeOf(errUnknown))
}

// TestEveryRoundTripIsCounted: the counting driver counts each statement,
// BEGIN and COMMIT.
func TestEveryRoundTripIsCounted(t *testing.T) {
	_, dsn := testenv.NewStore(t)
	ctx := t.Context()
	var n int
	counted, err := store.Open(ctx, dsn, store.Options{OnStatement: func() { n++ }})
	require.NoError(t, err)
	_, err = counted.AddPartner(ctx, "integrator", "Integrator Ltd", nil)
	require.NoError(t, err)
	t.Cleanup(func() { counted.Close() })
	sa, err := counted.CreateCustomer(ctx, newCustomer("integrator", "Counted Co"))
	require.NoError(t, err)
	n = 0
	_, err = counted.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Equal(t, 1, n, "a read is one statement")
	n = 0
	_, err = counted.Activate(ctx, sa.ID, time.Now())
	require.NoError(t, err)
	// BEGIN, lock, read, update, COMMIT, and the read of the result.
	require.Equal(t, 6, n)
}
