package onboarding_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
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
		w.Partner(p, "Partner "+p)
	}
	_, err := w.Store.SetPartnerStatus(ctx, dormant, false, nil)
	require.NoError(t, err)
	editor := staff("e@roles.example", partner, domain.StaffEditor)
	editor.Addr = "192.0.2.7"
	viewer := staff("v@roles.example", partner, domain.StaffViewer)
	nobody := staff("n@roles.example", partner, "")
	sleeper := staff("o@dormant.example", dormant, domain.StaffOwner)
	sleeper.PartnerStatus = false // as its session or API key reads it

	l, err := w.Onboarding.Launch(ctx, editor, partner, onboarding.NewCustomer{Name: "Roles Co", Email: "x@roles.example", Cloud: "roles-cloud"})
	require.NoError(t, err)
	v := w.awaiting(t, editor, l.OnboardingID)

	// A viewer reads and is refused every change, which changes nothing.
	_, err = w.Onboarding.Status(ctx, viewer, l.OnboardingID)
	require.NoError(t, err)
	_, err = w.Onboarding.List(ctx, viewer, onboarding.ListQuery{})
	require.NoError(t, err)
	email := "other@roles.example"
	for name, act := range map[string]func() error{
		"launch": func() error {
			_, err := w.Onboarding.Launch(ctx, viewer, partner, onboarding.NewCustomer{Name: "Nope", Email: "n@roles.example", Cloud: "nope-cloud"})
			return err
		},
		"resend": func() error { _, err := w.Onboarding.Resend(ctx, viewer, l.OnboardingID, ""); return err },
		"cancel": func() error { _, err := w.Onboarding.Cancel(ctx, viewer, l.OnboardingID, ""); return err },
		"link":   func() error { _, err := w.Onboarding.Link(ctx, viewer, l.OnboardingID); return err },
		"edit": func() error {
			_, err := w.Onboarding.Edit(ctx, viewer, l.OnboardingID, domain.Edit{Email: &email})
			return err
		},
		"cloud":   func() error { _, err := w.Lifecycle.AddCloud(ctx, viewer, l.OnboardingID, "x-cloud", ""); return err },
		"suspend": func() error { _, err := w.Lifecycle.Suspend(ctx, viewer, l.OnboardingID, "", 0, ""); return err },
		"resume":  func() error { _, err := w.Lifecycle.Resume(ctx, viewer, l.OnboardingID, ""); return err },
	} {
		require.ErrorIs(t, act(), domain.ErrForbidden, name)
	}
	_, err = w.Onboarding.Status(ctx, nobody, l.OnboardingID)
	require.ErrorIs(t, err, domain.ErrForbidden, "no role, no access")
	after, err := w.Onboarding.Status(ctx, editor, l.OnboardingID)
	require.NoError(t, err)
	require.Equal(t, v.EmailsSent, after.EmailsSent)
	require.Equal(t, workflows.StageAwaiting, after.Stage)
	sa, err := w.Store.Subaccount(ctx, "", v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, "x@roles.example", sa.Email)

	// A partner without partner status can do nothing, not even read.
	_, err = w.Onboarding.List(ctx, sleeper, onboarding.ListQuery{})
	require.ErrorIs(t, err, domain.ErrNoPartnerStatus)
	_, err = w.Onboarding.Launch(ctx, sleeper, dormant, onboarding.NewCustomer{Name: "Sleepy", Email: "s@dormant.example", Cloud: "sleepy-cloud"})
	require.ErrorIs(t, err, domain.ErrNoPartnerStatus)
	// Nor its API keys, made while it had partner status.
	secret := access.APIKeyPrefix + "dormant-" + sfx
	_, err = w.Store.CreateAPIKey(ctx, domain.APIKey{ID: uuid.NewString(), PartnerID: dormant, Name: "old", Role: domain.StaffOwner,
		Prefix: secret[:10], CreatedBy: "test"}, secret, nil)
	require.NoError(t, err)
	keyActor, err := w.Access.APIKeyActor(ctx, secret, "")
	require.NoError(t, err)
	require.False(t, keyActor.PartnerStatus)
	_, err = w.Onboarding.List(ctx, keyActor, onboarding.ListQuery{})
	require.ErrorIs(t, err, domain.ErrNoPartnerStatus)

	// The audit log: who, what, which customer, when, from where, how it ended.
	log, err := w.Store.AuditLog(ctx, store.AuditQuery{SubaccountID: v.SubaccountID, Limit: 50})
	require.NoError(t, err)
	byAction := map[string]domain.AuditEvent{}
	for _, e := range log {
		byAction[e.Action+"/"+e.ActorID] = e
	}
	add := byAction["add customer/e@roles.example"]
	require.Equal(t, domain.OutcomeDone, add.Outcome)
	require.Equal(t, "192.0.2.7", add.Addr)
	require.Equal(t, partner, add.PartnerID)
	require.Equal(t, l.OnboardingID, add.OnboardingID)
	refused := byAction["resend/v@roles.example"]
	require.Equal(t, "refused", refused.Outcome)
	require.Contains(t, refused.Detail, "your role does not allow this")
	require.Equal(t, "refused", byAction["edit/v@roles.example"].Outcome)
	require.NotContains(t, byAction["edit/v@roles.example"].Detail, "other@roles.example", "no personal data in the log")
}
