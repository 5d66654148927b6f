package access_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// house is the access actions over a database of the test's own, with
// two partners and an owner of each.
type house struct {
	st           *store.Store
	acc          *access.Service
	op           domain.Actor
	alpha, beta  string
	alphaOwner   domain.Actor
	betaOwner    domain.Actor
	alphaOwnerID string
}

func newHouse(t *testing.T) *house {
	t.Helper()
	st, _ := testenv.NewStore(t)
	h := &house{st: st, acc: access.New(st, audit.New(st, slog.New(slog.NewTextHandler(io.Discard, nil)))), op: domain.Operator("ops"),
		alpha: "alpha", beta: "beta"}
	ctx := context.Background()
	for _, p := range []string{h.alpha, h.beta} {
		_, err := h.acc.AddPartner(ctx, h.op, p, "Partner "+p)
		require.NoError(t, err)
	}
	a, err := h.acc.AddStaff(ctx, h.op, h.alpha, "owner@alpha.example", domain.StaffOwner, true)
	require.NoError(t, err)
	b, err := h.acc.AddStaff(ctx, h.op, h.beta, "owner@beta.example", domain.StaffOwner, true)
	require.NoError(t, err)
	h.alphaOwner, h.betaOwner, h.alphaOwnerID = access.StaffActor(a, "192.0.2.1"), access.StaffActor(b, "192.0.2.2"), a.ID
	return h
}

func (h *house) audit(t *testing.T, partner string) []domain.AuditEvent {
	t.Helper()
	log, err := h.st.AuditLog(context.Background(), store.AuditQuery{Scope: partner, Limit: 100})
	require.NoError(t, err)
	return log
}

// TestPartners: only an operator registers partners or changes their
// partner status; the same id again returns the partner unchanged; a bad
// id is refused, naming the field. Each status change is audited.
func TestPartners(t *testing.T) {
	h := newHouse(t)
	ctx := context.Background()
	p, err := h.acc.AddPartner(ctx, h.op, h.alpha, "Another name")
	require.NoError(t, err)
	require.Equal(t, "Partner alpha", p.Name, "registered again: unchanged")
	_, err = h.acc.AddPartner(ctx, h.alphaOwner, "gamma", "Gamma")
	require.ErrorIs(t, err, domain.ErrForbidden)
	_, err = h.st.Partner(ctx, "gamma")
	require.Equal(t, domain.NotFound, domain.KindOf(err), "nothing was registered: %v", err)
	_, err = h.acc.AddPartner(ctx, h.op, "Not An Id!", "x")
	require.Equal(t, domain.Invalid, domain.KindOf(err))
	require.Contains(t, domain.Fields(err), "partner")

	_, err = h.acc.SetPartnerStatus(ctx, h.alphaOwner, h.alpha, false)
	require.ErrorIs(t, err, domain.ErrForbidden)
	require.Equal(t, domain.OutcomeRefused, h.audit(t, h.alpha)[0].Outcome)
	p, err = h.acc.SetPartnerStatus(ctx, h.op, h.alpha, false)
	require.NoError(t, err)
	require.False(t, p.PartnerStatus)
	require.Equal(t, "partner status false", h.audit(t, h.alpha)[0].Detail)
	_, err = h.acc.SetPartnerStatus(ctx, h.op, "nobody", true)
	require.Equal(t, domain.NotFound, domain.KindOf(err), "%v", err)
}

// TestStaff: owners manage their own partner's staff and nobody else's;
// an editor may not; the last owner stays; every attempt is audited on
// the actor's partner, never on another's.
func TestStaff(t *testing.T) {
	h := newHouse(t)
	ctx := context.Background()
	ed, err := h.acc.AddStaff(ctx, h.alphaOwner, h.alpha, "Editor@Alpha.example", domain.StaffEditor, false)
	require.NoError(t, err)
	require.Equal(t, domain.StaffEditor, ed.Role)
	again, err := h.acc.AddStaff(ctx, h.alphaOwner, h.alpha, "editor@alpha.example", domain.StaffViewer, true)
	require.NoError(t, err)
	require.Equal(t, ed.ID, again.ID, "the same email (any case) is the same person")
	require.Equal(t, domain.StaffViewer, again.Role)

	editor := access.StaffActor(again, "192.0.2.3")
	editor.Role = domain.StaffEditor
	_, err = h.acc.AddStaff(ctx, editor, h.alpha, "x@alpha.example", domain.StaffOwner, true)
	require.ErrorIs(t, err, domain.ErrForbidden)
	_, err = h.acc.Staff(ctx, editor, h.alpha)
	require.ErrorIs(t, err, domain.ErrForbidden)

	// Another partner's staff: not found, and refused on the actor's own log.
	_, err = h.acc.AddStaff(ctx, h.alphaOwner, h.beta, "spy@alpha.example", domain.StaffOwner, true)
	require.ErrorIs(t, err, domain.ErrUnknownPartner)
	require.Equal(t, domain.OutcomeRefused, h.audit(t, h.alpha)[0].Outcome)
	for _, e := range h.audit(t, h.beta) {
		require.NotEqual(t, h.alphaOwner.ID, e.ActorID, "alpha's attempt is not in beta's log")
	}
	_, err = h.acc.Staff(ctx, h.alphaOwner, h.beta)
	require.ErrorIs(t, err, domain.ErrUnknownPartner)
	betaStaff, err := h.acc.Staff(ctx, h.betaOwner, h.beta)
	require.NoError(t, err)
	require.Len(t, betaStaff, 1)
	_, err = h.acc.SetStaffRole(ctx, h.alphaOwner, betaStaff[0].ID, domain.StaffViewer, false)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, h.acc.RemoveStaff(ctx, h.alphaOwner, betaStaff[0].ID), domain.ErrNotFound)
	betaStaff, err = h.acc.Staff(ctx, h.op, h.beta)
	require.NoError(t, err)
	require.Equal(t, domain.StaffOwner, betaStaff[0].Role, "nothing changed")

	_, err = h.acc.AddStaff(ctx, h.alphaOwner, h.alpha, "not an email", domain.StaffEditor, false)
	require.Equal(t, domain.Invalid, domain.KindOf(err))
	_, err = h.acc.AddStaff(ctx, h.alphaOwner, h.alpha, "x@alpha.example", "admin", false)
	require.Equal(t, domain.Invalid, domain.KindOf(err))

	_, err = h.acc.SetStaffRole(ctx, h.alphaOwner, h.alphaOwnerID, domain.StaffEditor, true)
	require.ErrorIs(t, err, domain.ErrLastOwner)
	require.ErrorIs(t, h.acc.RemoveStaff(ctx, h.alphaOwner, h.alphaOwnerID), domain.ErrLastOwner)
	require.NoError(t, h.acc.RemoveStaff(ctx, h.alphaOwner, ed.ID))
	list, err := h.acc.Staff(ctx, h.alphaOwner, h.alpha)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "remove staff", h.audit(t, h.alpha)[0].Action)
	require.Equal(t, "Editor@Alpha.example", h.audit(t, h.alpha)[0].Detail, "as first written")
}

// TestSignIn: a person is found by the provider's subject, or at the first
// sign-in by a verified email; an unverified email matches nobody, and an
// unknown person is not found — each sign-in audited.
func TestSignIn(t *testing.T) {
	h := newHouse(t)
	ctx := context.Background()
	const issuer = "https://id.example"
	_, err := h.acc.SignIn(ctx, issuer, "sub-1", "owner@alpha.example", false, "192.0.2.9")
	require.ErrorIs(t, err, domain.ErrNotFound, "an unverified email matches nobody")
	st, err := h.acc.SignIn(ctx, issuer, "sub-1", "OWNER@alpha.example", true, "192.0.2.9")
	require.NoError(t, err)
	require.Equal(t, h.alphaOwnerID, st.ID)
	require.NotNil(t, st.LastLoginAt)
	// Later the subject alone finds them, whatever email the provider has now.
	st, err = h.acc.SignIn(ctx, issuer, "sub-1", "renamed@alpha.example", true, "192.0.2.9")
	require.NoError(t, err)
	require.Equal(t, h.alphaOwnerID, st.ID)
	// The same email under another subject takes nobody's account.
	_, err = h.acc.SignIn(ctx, issuer, "sub-2", "owner@alpha.example", true, "192.0.2.9")
	require.ErrorIs(t, err, domain.ErrNotFound)
	log := h.audit(t, h.alpha)
	require.Equal(t, "sign in", log[0].Action)
	require.Equal(t, "192.0.2.9", log[0].Addr)
}

// TestAPIKeys: an owner creates a key for its partner; the secret is
// returned once, starts with obk_, and is not stored; the key stands for
// an actor of that partner with that role until revoked; other partners
// cannot revoke it; editors may not manage keys.
func TestAPIKeys(t *testing.T) {
	h := newHouse(t)
	ctx := context.Background()
	k, err := h.acc.CreateAPIKey(ctx, h.alphaOwner, "  billing sync ", domain.StaffEditor)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(k.Secret, access.APIKeyPrefix))
	require.True(t, strings.HasPrefix(k.Secret, k.Prefix))
	require.Equal(t, "billing sync", k.Name)
	var stored int
	require.NoError(t, h.st.DB().GetContext(ctx, &stored, `SELECT count(*) FROM api_keys WHERE position($1 in row_to_json(api_keys)::text) > 0`, k.Secret))
	require.Zero(t, stored, "the secret is stored nowhere")

	by, err := h.acc.APIKeyActor(ctx, k.Secret, "198.51.100.1")
	require.NoError(t, err)
	require.Equal(t, domain.ActorAPIKey, by.Kind)
	require.Equal(t, h.alpha, by.PartnerID)
	require.Equal(t, domain.StaffEditor, by.Role)
	require.True(t, by.PartnerStatus)
	for _, bad := range []string{"", "obk_wrong", "not-a-key", k.Secret + "x", access.APIKeyPrefix + strings.Repeat("a", 300)} {
		_, err := h.acc.APIKeyActor(ctx, bad, "198.51.100.1")
		require.ErrorIs(t, err, domain.ErrNotFound, "%q", bad)
	}

	for _, name := range []string{"", strings.Repeat("n", 101), "two\nlines"} {
		_, err := h.acc.CreateAPIKey(ctx, h.alphaOwner, name, domain.StaffViewer)
		require.Equal(t, domain.Invalid, domain.KindOf(err), "%q", name)
	}
	_, err = h.acc.CreateAPIKey(ctx, by, "by an editor key", domain.StaffViewer)
	require.ErrorIs(t, err, domain.ErrForbidden)
	_, err = h.acc.RevokeAPIKey(ctx, h.betaOwner, k.ID)
	require.ErrorIs(t, err, domain.ErrNotFound, "another partner's key is not found")
	keys, err := h.acc.APIKeys(ctx, h.betaOwner)
	require.NoError(t, err)
	require.Empty(t, keys)
	_, err = h.acc.APIKeyActor(ctx, k.Secret, "198.51.100.1")
	require.NoError(t, err, "still valid")

	_, err = h.acc.RevokeAPIKey(ctx, h.alphaOwner, k.ID)
	require.NoError(t, err)
	_, err = h.acc.APIKeyActor(ctx, k.Secret, "198.51.100.1")
	require.ErrorIs(t, err, domain.ErrNotFound, "a revoked key opens nothing")
	keys, err = h.acc.APIKeys(ctx, h.alphaOwner)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.NotNil(t, keys[0].RevokedAt)

	// A key of a partner without partner status stands for an actor that says so.
	k2, err := h.acc.CreateAPIKey(ctx, h.alphaOwner, "second", domain.StaffViewer)
	require.NoError(t, err)
	_, err = h.acc.SetPartnerStatus(ctx, h.op, h.alpha, false)
	require.NoError(t, err)
	by, err = h.acc.APIKeyActor(ctx, k2.Secret, "198.51.100.1")
	require.NoError(t, err)
	require.False(t, by.PartnerStatus)
	require.Error(t, by.Authorize(domain.Read, "list"))
}
