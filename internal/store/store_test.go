package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// counts is the number of rows in each table, to show that nothing was written.
type counts struct{ Partners, Subaccounts, Organizations, Bindings, Clouds, Emails int }

func countRows(t *testing.T, st *store.Store) counts {
	t.Helper()
	var c counts
	err := st.DB().QueryRow(`SELECT
		(SELECT count(*) FROM partners), (SELECT count(*) FROM subaccounts), (SELECT count(*) FROM organizations),
		(SELECT count(*) FROM role_bindings), (SELECT count(*) FROM clouds), (SELECT count(*) FROM emails)`).
		Scan(&c.Partners, &c.Subaccounts, &c.Organizations, &c.Bindings, &c.Clouds, &c.Emails)
	require.NoError(t, err)
	return c
}

func newCustomer(partner, name string) store.NewCustomer {
	return store.NewCustomer{
		SubaccountID: uuid.NewString(), OrganizationID: uuid.NewString(), OnboardingID: "onboarding/" + partner + "/" + name,
		PartnerID: partner, Name: name, Email: "owner@acme.example", Contact: "Ann Smith", CloudName: "acme-prod",
		Deadline: time.Now().Add(7 * 24 * time.Hour).UTC().Truncate(time.Microsecond),
	}
}

func setup(t *testing.T) (*store.Store, context.Context) {
	t.Helper()
	st, _ := testenv.NewStore(t)
	ctx := context.Background()
	_, err := st.AddPartner(ctx, "integrator", "Integrator Ltd", nil)
	require.NoError(t, err)
	return st, ctx
}

func TestMigrateTwiceIsHarmless(t *testing.T) {
	st, ctx := setup(t)
	applied, err := store.Migrate(ctx, st.DB())
	require.NoError(t, err)
	require.Empty(t, applied, "a migrated database needs nothing")
	var n int
	require.NoError(t, st.DB().Get(&n, `SELECT count(*) FROM schema_migrations`))
	files, err := filepath.Glob("migrations/*.sql")
	require.Len(t, store.Migrations(), len(files))
	require.NoError(t, err)
	require.Equal(t, len(files), n)
}

func TestAddPartnerIsIdempotent(t *testing.T) {
	st, ctx := setup(t)
	p1, err := st.AddPartner(ctx, "second", "Second", nil)
	require.NoError(t, err)
	p2, err := st.AddPartner(ctx, "second", "Other name", nil)
	require.NoError(t, err)
	require.Equal(t, p1, p2)
	require.True(t, p1.PartnerStatus)
	require.Equal(t, 2, countRows(t, st).Partners)

	before := countRows(t, st)
	_, err = st.AddPartner(ctx, "Bad Id!", "x", nil)
	require.ErrorIs(t, err, domain.ErrInvalid)
	require.Equal(t, before, countRows(t, st))
}

func TestCreateCustomer(t *testing.T) {
	st, ctx := setup(t)
	nc := newCustomer("integrator", "ACME Corp")
	sa, err := st.CreateCustomer(ctx, nc)
	require.NoError(t, err)
	require.Equal(t, domain.StatusAcceptanceRequired, sa.Status)
	require.Equal(t, nc.OrganizationID, sa.OrganizationID)
	require.Equal(t, "Integrator Ltd", sa.PartnerName)
	require.True(t, nc.Deadline.Equal(sa.ConfirmDeadline))

	var org string
	require.NoError(t, st.DB().Get(&org, `SELECT name FROM organizations WHERE id = $1`, sa.OrganizationID))
	require.Equal(t, "For subaccount 'ACME Corp'", org)

	type binding struct {
		SubjectType  string `db:"subject_type"`
		SubjectID    string `db:"subject_id"`
		Role         string `db:"role"`
		ResourceType string `db:"resource_type"`
	}
	var bs []binding
	require.NoError(t, st.DB().Select(&bs, `SELECT subject_type, subject_id, role, resource_type FROM role_bindings WHERE subaccount_id = $1 ORDER BY subject_type DESC, resource_type DESC`, sa.ID))
	require.Equal(t, []binding{
		{"partner", "integrator", domain.RoleBillingOwner, "subaccount"},
		{"partner", "integrator", domain.RoleOrgOwner, "organization"},
		{"customer", sa.ID, domain.RoleAdmin, "subaccount"},
		{"customer", sa.ID, domain.RoleOrgOwner, "organization"},
	}, bs)

	// A repeat with the same ids returns the same record and writes nothing.
	before := countRows(t, st)
	again, err := st.CreateCustomer(ctx, nc)
	require.NoError(t, err)
	require.Equal(t, sa, again)
	require.Equal(t, before, countRows(t, st))
	require.Equal(t, counts{Partners: 1, Subaccounts: 1, Organizations: 1, Bindings: 4}, before)
}

func TestCreateCustomerConcurrently(t *testing.T) {
	st, ctx := setup(t)
	nc := newCustomer("integrator", "Race Inc")
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.CreateCustomer(ctx, nc)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, counts{Partners: 1, Subaccounts: 1, Organizations: 1, Bindings: 4}, countRows(t, st))

	// Two different onboardings racing for the same name: exactly one wins.
	a, b := newCustomer("integrator", "Other Co"), newCustomer("integrator", "other  CO")
	var errA, errB error
	wg.Add(2)
	go func() { defer wg.Done(); _, errA = st.CreateCustomer(ctx, a) }()
	go func() { defer wg.Done(); _, errB = st.CreateCustomer(ctx, b) }()
	wg.Wait()
	require.True(t, (errA == nil) != (errB == nil), "exactly one must win: %v / %v", errA, errB)
	lost := errA
	if lost == nil {
		lost = errB
	}
	require.ErrorIs(t, lost, domain.ErrNameTaken)
	require.Equal(t, counts{Partners: 1, Subaccounts: 2, Organizations: 2, Bindings: 8}, countRows(t, st))
}

func TestCreateCustomerBadInput(t *testing.T) {
	st, ctx := setup(t)
	_, err := st.AddPartner(ctx, "lapsed", "Lapsed Partner", nil)
	require.NoError(t, err)
	_, err = st.SetPartnerStatus(ctx, "lapsed", false, nil)
	require.NoError(t, err)
	_, err = st.CreateCustomer(ctx, newCustomer("integrator", "Taken"))
	require.NoError(t, err)

	cases := []struct {
		name   string
		change func(*store.NewCustomer)
		want   error
	}{
		{"empty name", func(c *store.NewCustomer) { c.Name = "  " }, domain.ErrInvalid},
		{"300-character name", func(c *store.NewCustomer) { c.Name = strings.Repeat("x", 300) }, domain.ErrInvalid},
		{"invalid email", func(c *store.NewCustomer) { c.Email = "not-an-email" }, domain.ErrInvalid},
		{"email with display name", func(c *store.NewCustomer) { c.Email = "Ann <ann@x.example>" }, domain.ErrInvalid},
		{"bad cloud name", func(c *store.NewCustomer) { c.CloudName = "Prod Cloud!" }, domain.ErrInvalid},
		{"unknown partner", func(c *store.NewCustomer) { c.PartnerID = "nobody" }, domain.ErrUnknownPartner},
		{"partner without partner status", func(c *store.NewCustomer) { c.PartnerID = "lapsed" }, domain.ErrNoPartnerStatus},
		{"name taken by a live subaccount", func(c *store.NewCustomer) { c.Name = "TAKEN" }, domain.ErrNameTaken},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countRows(t, st)
			nc := newCustomer("integrator", "Fresh Customer")
			tc.change(&nc)
			_, err := st.CreateCustomer(ctx, nc)
			require.ErrorIs(t, err, tc.want)
			require.Equal(t, before, countRows(t, st), "nothing may be written")
		})
	}
}

func TestEditSubaccount(t *testing.T) {
	st, ctx := setup(t)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Edit Me"))
	require.NoError(t, err)
	var bindingsBefore []string
	require.NoError(t, st.DB().Select(&bindingsBefore, `SELECT role || subject_id FROM role_bindings ORDER BY id`))

	email, contact, cloud := "new@acme.example", "Bob", "acme-dev"
	got, err := st.EditSubaccount(ctx, "", sa.ID, domain.Edit{Email: &email, Contact: &contact, CloudName: &cloud}, nil)
	require.NoError(t, err)
	require.Equal(t, email, got.Email)
	require.Equal(t, contact, got.Contact)
	require.Equal(t, cloud, got.CloudName)
	require.Equal(t, "Edit Me", got.Name)
	var bindingsAfter []string
	require.NoError(t, st.DB().Select(&bindingsAfter, `SELECT role || subject_id FROM role_bindings ORDER BY id`))
	require.Equal(t, bindingsBefore, bindingsAfter, "edits never change role bindings")

	name, bad := "New Name", "nope"
	_, err = st.EditSubaccount(ctx, "", sa.ID, domain.Edit{Name: &name}, nil)
	require.ErrorIs(t, err, domain.ErrNameImmutable)
	_, err = st.EditSubaccount(ctx, "", sa.ID, domain.Edit{Email: &bad}, nil)
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = st.EditSubaccount(ctx, "", uuid.NewString(), domain.Edit{Email: &email}, nil)
	require.ErrorIs(t, err, domain.ErrNotFound)
	unchanged, err := st.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Equal(t, got, unchanged)

	// Even a direct UPDATE cannot rename: the database refuses it.
	_, err = st.DB().Exec(`UPDATE subaccounts SET name = 'Sneaky' WHERE id = $1`, sa.ID)
	require.ErrorContains(t, err, "immutable")
}

func TestActivateAndCreateCloud(t *testing.T) {
	st, ctx := setup(t)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Happy"))
	require.NoError(t, err)
	cloudID := uuid.NewString()
	_, err = st.CreateCloud(ctx, cloudID, sa.ID)
	require.ErrorIs(t, err, domain.ErrNotConfirmed, "no cloud before activation")

	now := time.Now()
	got, err := st.Activate(ctx, sa.ID, now)
	require.NoError(t, err)
	require.Equal(t, domain.StatusActive, got.Status)
	again, err := st.Activate(ctx, sa.ID, now.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, got, again)

	c1, err := st.CreateCloud(ctx, cloudID, sa.ID)
	require.NoError(t, err)
	require.Equal(t, "acme-prod", c1.Name)
	c2, err := st.CreateCloud(ctx, cloudID, sa.ID)
	require.NoError(t, err)
	require.Equal(t, c1, c2)
	c3, err := st.CreateCloud(ctx, uuid.NewString(), sa.ID)
	require.NoError(t, err)
	require.Equal(t, c1, c3, "one cloud per onboarding even when retried with a new id")
	require.Equal(t, 1, countRows(t, st).Clouds)

	_, err = st.Delete(ctx, sa.ID, domain.ReasonCancelled, now)
	require.ErrorIs(t, err, domain.ErrConfirmed, "a confirmed subaccount is not deleted")
}

func TestDelete(t *testing.T) {
	st, ctx := setup(t)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Gone"))
	require.NoError(t, err)
	at := time.Now().UTC().Truncate(time.Microsecond)
	got, err := st.Delete(ctx, sa.ID, domain.ReasonExpired, at)
	require.NoError(t, err)
	require.Equal(t, domain.StatusInactive, got.Status)
	require.Equal(t, domain.ReasonExpired, got.DeletedReason)
	require.True(t, at.Equal(*got.DeletedAt))
	var orgDeleted time.Time
	require.NoError(t, st.DB().Get(&orgDeleted, `SELECT deleted_at FROM organizations WHERE subaccount_id = $1`, sa.ID))
	require.True(t, at.Equal(orgDeleted))
	var live int
	require.NoError(t, st.DB().Get(&live, `SELECT count(*) FROM role_bindings WHERE subaccount_id = $1 AND revoked_at IS NULL`, sa.ID))
	require.Zero(t, live)

	before := countRows(t, st)
	again, err := st.Delete(ctx, sa.ID, domain.ReasonCancelled, at.Add(time.Hour))
	require.NoError(t, err)
	require.Equal(t, got, again, "a repeat changes nothing, not even the reason")
	require.Equal(t, before, countRows(t, st))

	_, err = st.Activate(ctx, sa.ID, time.Now())
	require.ErrorIs(t, err, domain.ErrDeleted)
	email := "x@y.example"
	_, err = st.EditSubaccount(ctx, "", sa.ID, domain.Edit{Email: &email}, nil)
	require.ErrorIs(t, err, domain.ErrDeleted)
	unchanged, err := st.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Equal(t, got, unchanged)

	// The name of a deleted customer can be onboarded again as a new subaccount.
	fresh, err := st.CreateCustomer(ctx, newCustomer("integrator", "Gone"))
	require.NoError(t, err)
	require.NotEqual(t, sa.ID, fresh.ID)
	_, err = st.Delete(ctx, fresh.ID, "BORED", at)
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// TestExpireHonoursTheAnswerOfRecord: at the deadline the customer's
// answer in the record wins — a confirmation keeps the subaccount for the
// workflow to activate, a decline deletes it as DECLINED — and without
// one the subaccount is deleted as EXPIRED with the system's audit row.
func TestExpireHonoursTheAnswerOfRecord(t *testing.T) {
	st, ctx := setup(t)
	at := time.Now().UTC().Truncate(time.Microsecond)
	system := func(id string) int {
		var n int
		require.NoError(t, st.DB().Get(&n, `SELECT count(*) FROM audit_events WHERE subaccount_id = $1 AND actor_kind = 'system'`, id))
		return n
	}
	for _, c := range []struct {
		answer, status, reason string
	}{
		{domain.AnswerConfirm, domain.StatusAcceptanceRequired, ""},
		{domain.AnswerDecline, domain.StatusInactive, domain.ReasonDeclined},
		{"", domain.StatusInactive, domain.ReasonExpired},
	} {
		nc := newCustomer("integrator", "Answer "+c.answer)
		sa, err := st.CreateCustomer(ctx, nc)
		require.NoError(t, err)
		if c.answer != "" {
			_, _, ok, err := st.Answer(ctx, sa.ID, nc.Deadline, c.answer, domain.ViaLink, at)
			require.NoError(t, err)
			require.True(t, ok)
		}
		got, err := st.Expire(ctx, sa.ID, at)
		require.NoError(t, err, c.answer)
		require.Equal(t, c.answer, got.Answer)
		require.Equal(t, c.status, got.Status, c.answer)
		require.Equal(t, c.reason, got.DeletedReason, c.answer)
		wantSystem := 0
		if c.answer == "" {
			wantSystem = 1 // the deletion nobody asked for
		}
		require.Equal(t, wantSystem, system(sa.ID), c.answer)
	}
}

func TestEmailsAndList(t *testing.T) {
	st, ctx := setup(t)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Mail"))
	require.NoError(t, err)
	_, err = st.SentEmail(ctx, sa.ID, 1)
	require.ErrorIs(t, err, domain.ErrNotFound)
	at := time.Now().UTC().Truncate(time.Microsecond)
	e1, err := st.RecordEmail(ctx, domain.Email{MessageID: "m1@x", SubaccountID: sa.ID, Seq: 1, SentAt: at})
	require.NoError(t, err)
	e1again, err := st.RecordEmail(ctx, domain.Email{MessageID: "m1@x", SubaccountID: sa.ID, Seq: 1, SentAt: at.Add(time.Minute)})
	require.NoError(t, err)
	require.Equal(t, e1, e1again)
	got, err := st.SentEmail(ctx, sa.ID, 1)
	require.NoError(t, err)
	require.Equal(t, e1, got)

	other, err := st.CreateCustomer(ctx, newCustomer("integrator", "Second"))
	require.NoError(t, err)
	_, err = st.Activate(ctx, other.ID, at)
	require.NoError(t, err)
	all, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator"})
	require.NoError(t, err)
	require.Len(t, all.Items, 2)
	active, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "integrator", Status: domain.StatusActive})
	require.NoError(t, err)
	require.Len(t, active.Items, 1)
	require.Equal(t, other.ID, active.Items[0].ID)
	none, err := st.ListSubaccounts(ctx, store.ListQuery{PartnerID: "nobody"})
	require.NoError(t, err)
	require.Empty(t, none.Items)
	mail, err := st.Subaccount(ctx, "", sa.ID)
	require.NoError(t, err)
	require.Equal(t, 1, mail.EmailsSent)
	byOnboarding, err := st.SubaccountByOnboarding(ctx, "", sa.OnboardingID)
	require.NoError(t, err)
	require.Equal(t, sa.ID, byOnboarding.ID)
}

func TestLoginCallReplay(t *testing.T) {
	st, ctx := setup(t)
	now := time.Now()
	fresh, err := st.RememberLoginCall(ctx, "sig-1", now, 10*time.Minute)
	require.NoError(t, err)
	require.True(t, fresh)
	fresh, err = st.RememberLoginCall(ctx, "sig-1", now.Add(time.Second), 10*time.Minute)
	require.NoError(t, err)
	require.False(t, fresh, "a replay is refused")
}

func TestNotFound(t *testing.T) {
	st, ctx := setup(t)
	for _, id := range []string{uuid.NewString(), "not-a-uuid", ""} {
		_, err := st.Subaccount(ctx, "", id)
		require.True(t, errors.Is(err, domain.ErrNotFound), "%q: %v", id, err)
	}
	_, err := st.Partner(ctx, "nobody")
	require.ErrorIs(t, err, domain.ErrUnknownPartner)
}
