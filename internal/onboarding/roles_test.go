package onboarding

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestRolesAndPartnerStatus: a viewer reads but changes nothing; an
// editor acts; a partner without partner status can do nothing at all; and
// every action — done or refused — is in the audit log.
func TestRolesAndPartnerStatus(t *testing.T) {
	w := newWorld(t)
	w.worker(t)
	ctx := context.Background()
	sfx := testenv.Suffix()
	partner, dormant := "roles-"+sfx, "dormant-"+sfx
	for _, p := range []string{partner, dormant} {
		_, err := w.svc.AddPartner(ctx, Operator("test"), p, "Partner "+p)
		require.NoError(t, err)
	}
	require.NoError(t, w.st.SetPartnerStatus(ctx, dormant, false))
	editor := Actor{Kind: ActorUser, ID: "e@roles.example", PartnerID: partner, Role: customer.StaffEditor, Addr: "192.0.2.7"}
	viewer := Actor{Kind: ActorUser, ID: "v@roles.example", PartnerID: partner, Role: customer.StaffViewer}
	nobody := Actor{Kind: ActorUser, ID: "n@roles.example", PartnerID: partner}
	sleeper := Actor{Kind: ActorUser, ID: "o@dormant.example", PartnerID: dormant, Role: customer.StaffOwner}

	l, err := w.svc.Launch(ctx, editor, partner, NewCustomer{Name: "Roles Co", Email: "x@roles.example", Cloud: "roles-cloud"})
	require.NoError(t, err)
	v := w.awaiting(t, editor, l.OnboardingID)

	// A viewer reads and is refused every change, which changes nothing.
	_, err = w.svc.Status(ctx, viewer, l.OnboardingID)
	require.NoError(t, err)
	_, err = w.svc.List(ctx, viewer, ListQuery{})
	require.NoError(t, err)
	email := "other@roles.example"
	for name, act := range map[string]func() error{
		"launch": func() error {
			_, err := w.svc.Launch(ctx, viewer, partner, NewCustomer{Name: "Nope", Email: "n@roles.example", Cloud: "nope-cloud"})
			return err
		},
		"resend": func() error { _, err := w.svc.Resend(ctx, viewer, l.OnboardingID); return err },
		"cancel": func() error { _, err := w.svc.Cancel(ctx, viewer, l.OnboardingID); return err },
		"link":   func() error { _, err := w.svc.Link(ctx, viewer, l.OnboardingID); return err },
		"edit": func() error {
			_, err := w.svc.Edit(ctx, viewer, l.OnboardingID, store.Edit{Email: &email})
			return err
		},
		"cloud":   func() error { _, err := w.svc.AddCloud(ctx, viewer, l.OnboardingID, "x-cloud"); return err },
		"suspend": func() error { _, err := w.svc.Suspend(ctx, viewer, l.OnboardingID, "", 0); return err },
		"resume":  func() error { _, err := w.svc.Resume(ctx, viewer, l.OnboardingID); return err },
	} {
		require.ErrorIs(t, act(), ErrForbidden, name)
	}
	_, err = w.svc.Status(ctx, nobody, l.OnboardingID)
	require.ErrorIs(t, err, ErrForbidden, "no role, no access")
	after, err := w.svc.Status(ctx, editor, l.OnboardingID)
	require.NoError(t, err)
	require.Equal(t, v.EmailsSent, after.EmailsSent)
	require.Equal(t, workflows.StageAwaiting, after.Stage)
	sa, err := w.st.Subaccount(ctx, v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, "x@roles.example", sa.Email)

	// A partner without partner status can do nothing, not even read.
	_, err = w.svc.List(ctx, sleeper, ListQuery{})
	require.ErrorIs(t, err, ErrNoPartnerStatus)
	_, err = w.svc.Launch(ctx, sleeper, dormant, NewCustomer{Name: "Sleepy", Email: "s@dormant.example", Cloud: "sleepy-cloud"})
	require.ErrorIs(t, err, ErrNoPartnerStatus)
	// Nor its API keys, made while it had partner status.
	secret := APIKeyPrefix + "dormant-" + sfx
	_, err = w.st.CreateAPIKey(ctx, store.APIKey{ID: uuid.NewString(), PartnerID: dormant, Name: "old", Role: customer.StaffOwner,
		Prefix: secret[:10], CreatedBy: "test"}, secret)
	require.NoError(t, err)
	_, err = w.svc.APIKeyActor(ctx, secret, "")
	require.ErrorIs(t, err, ErrNoPartnerStatus)

	// The audit log: who, what, which customer, when, from where, how it ended.
	log, err := w.st.AuditLog(ctx, v.SubaccountID, 50)
	require.NoError(t, err)
	byAction := map[string]store.AuditEvent{}
	for _, e := range log {
		byAction[e.Action+"/"+e.ActorID] = e
	}
	add := byAction["add customer/e@roles.example"]
	require.Equal(t, "done", add.Outcome)
	require.Equal(t, "192.0.2.7", add.Addr)
	require.Equal(t, partner, add.PartnerID)
	require.Equal(t, l.OnboardingID, add.OnboardingID)
	refused := byAction["resend/v@roles.example"]
	require.Equal(t, "refused", refused.Outcome)
	require.Contains(t, refused.Detail, "your role does not allow this")
	require.Equal(t, "refused", byAction["edit/v@roles.example"].Outcome)
	require.NotContains(t, byAction["edit/v@roles.example"].Detail, "other@roles.example", "no personal data in the log")
}
