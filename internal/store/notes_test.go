package store_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
)

// TestChangesWriteTheirAuditRowInTheirTransaction: every change that takes
// a Note writes the change and its audit row together or not at all. With
// a note whose row Postgres refuses (an outcome outside the CHECK), the
// change is rolled back — nothing changed, no row — and with a good one
// there is the change and exactly one row, made from the row the change
// left.
func TestChangesWriteTheirAuditRowInTheirTransaction(t *testing.T) {
	st, ctx := setup(t)
	sa, err := st.CreateCustomer(ctx, newCustomer("integrator", "Noted Co"))
	require.NoError(t, err)
	// An owner, so that the member is not the last one.
	_, err = st.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: "integrator", Email: "owner@integrator.example", Role: domain.StaffOwner}, nil)
	require.NoError(t, err)
	member, err := st.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: "integrator", Email: "member@integrator.example", Role: domain.StaffEditor}, nil)
	require.NoError(t, err)
	key, err := st.CreateAPIKey(ctx, domain.APIKey{ID: uuid.NewString(), PartnerID: "integrator", Name: "sync", Role: domain.StaffEditor, Prefix: "obk_abcdef"}, "obk_secret-1", nil)
	require.NoError(t, err)

	// state is what the changes below touch, to show that a refused note left it as it was.
	state := func() string {
		var s string
		require.NoError(t, st.DB().Get(&s, `SELECT concat_ws('|',
			(SELECT string_agg(id || partner_status::text, ',' ORDER BY id) FROM partners),
			(SELECT string_agg(email || role || personal_data::text || coalesce(removed_at::text, '') || coalesce(subject, ''), ',' ORDER BY email) FROM staff),
			(SELECT string_agg(name || coalesce(revoked_at::text, ''), ',' ORDER BY name) FROM api_keys),
			(SELECT string_agg(email || contact, ',') FROM subaccounts))`))
		return s
	}
	auditRows := func(action string) []domain.AuditEvent {
		evs, err := st.AuditLog(ctx, store.AuditQuery{})
		require.NoError(t, err)
		var out []domain.AuditEvent
		for _, e := range evs {
			if e.Action == action {
				out = append(out, e)
			}
		}
		return out
	}
	email := "new@acme.example"
	changes := []struct {
		action string
		change func(bad bool) error
	}{
		{"register partner", func(bad bool) error {
			_, err := st.AddPartner(ctx, "newcomer", "Newcomer Ltd", note[domain.Partner]("register partner", bad, func(p domain.Partner) string { return p.Name }))
			return err
		}},
		{"set partner status", func(bad bool) error {
			_, err := st.SetPartnerStatus(ctx, "integrator", false, note[domain.Partner]("set partner status", bad, func(p domain.Partner) string { return p.ID }))
			return err
		}},
		{"add staff", func(bad bool) error {
			_, err := st.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: "integrator", Email: "third@integrator.example", Role: domain.StaffViewer},
				note[domain.Staff]("add staff", bad, func(s domain.Staff) string { return s.Email }))
			return err
		}},
		{"change staff role", func(bad bool) error {
			_, err := st.SetStaffRole(ctx, "integrator", member.ID, domain.StaffViewer, true, note[domain.Staff]("change staff role", bad, func(s domain.Staff) string { return s.Email + " " + s.Role }))
			return err
		}},
		{"sign in", func(bad bool) error {
			_, err := st.SignIn(ctx, "https://idp.example", "subject-1", "member@integrator.example", time.Now(), note[domain.Staff]("sign in", bad, func(s domain.Staff) string { return s.Email }))
			return err
		}},
		{"remove staff", func(bad bool) error {
			_, err := st.RemoveStaff(ctx, "integrator", member.ID, time.Now(), note[domain.Staff]("remove staff", bad, func(s domain.Staff) string { return s.Email }))
			return err
		}},
		{"create API key", func(bad bool) error {
			_, err := st.CreateAPIKey(ctx, domain.APIKey{ID: uuid.NewString(), PartnerID: "integrator", Name: "billing", Role: domain.StaffEditor, Prefix: "obk_ghijkl"}, "obk_secret-2",
				note[domain.APIKey]("create API key", bad, func(k domain.APIKey) string { return k.Name }))
			return err
		}},
		{"revoke API key", func(bad bool) error {
			_, err := st.RevokeAPIKey(ctx, "integrator", key.ID, time.Now(), note[domain.APIKey]("revoke API key", bad, func(k domain.APIKey) string { return k.Name }))
			return err
		}},
		{"edit", func(bad bool) error {
			_, err := st.EditSubaccount(ctx, "integrator", sa.ID, domain.Edit{Email: &email}, note[domain.Subaccount]("edit", bad, func(s domain.Subaccount) string { return s.ID }))
			return err
		}},
	}
	for _, c := range changes {
		before := state()
		require.Error(t, c.change(true), c.action)
		require.Equal(t, before, state(), "%s: a change whose audit row failed is rolled back", c.action)
		require.Empty(t, auditRows(c.action), c.action)

		require.NoError(t, c.change(false), c.action)
		require.NotEqual(t, before, state(), "%s changed something", c.action)
		rows := auditRows(c.action)
		require.Len(t, rows, 1, c.action)
		require.NotEmpty(t, rows[0].Detail, "%s: the row is made from the changed row", c.action)
	}
	require.Equal(t, "Newcomer Ltd", auditRows("register partner")[0].Detail)
	require.Equal(t, "member@integrator.example viewer", auditRows("change staff role")[0].Detail)
	require.Equal(t, sa.ID, auditRows("edit")[0].Detail)

	// Registering a partner that exists changes nothing and records nothing.
	_, err = st.AddPartner(ctx, "newcomer", "Another name", note[domain.Partner]("register partner", false, func(p domain.Partner) string { return p.Name }))
	require.NoError(t, err)
	require.Len(t, auditRows("register partner"), 1)
}

// note is a Note recording action with a detail made from the changed
// row; bad makes a row Postgres refuses.
func note[T any](action string, bad bool, detail func(T) string) store.Note[T] {
	return func(v T) domain.AuditEvent {
		e := domain.AuditEvent{At: time.Now(), PartnerID: "integrator", ActorKind: domain.ActorUser, ActorID: "owner@integrator.example",
			Action: action, Outcome: domain.OutcomeDone, Detail: detail(v)}
		if bad {
			e.Outcome = "maybe"
		}
		return e
	}
}
