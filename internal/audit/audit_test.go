package audit_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestOutcomeByKind: the outcome follows the failure's kind alone — a
// refusal of any kind is refused, anything else failed — never its text.
func TestOutcomeByKind(t *testing.T) {
	require.Equal(t, domain.OutcomeDone, audit.Outcome(nil))
	for _, k := range []domain.Kind{domain.Invalid, domain.NotFound, domain.Conflict, domain.Forbidden, domain.NotYet, domain.Unavailable} {
		err := fmt.Errorf("wrapped: %w", domain.Errorf(k, "Code", "failed, internal, anything"))
		require.Equal(t, domain.OutcomeRefused, audit.Outcome(err), "%v", k)
	}
	require.Equal(t, domain.OutcomeFailed, audit.Outcome(errors.New("refused: connection reset")), "the text does not count")
	require.Equal(t, domain.OutcomeFailed, audit.Outcome(domain.Errorf(domain.Internal, "Bug", "oops")))
}

func newLog(t *testing.T) (*audit.Log, *store.Store) {
	t.Helper()
	st, _ := testenv.NewStore(t)
	return audit.New(st, slog.New(slog.NewTextHandler(io.Discard, nil))), st
}

// TestRecord: Record returns the action's error unchanged, records who,
// what, where and how it ended, the failure on one line,
// cut after 500 characters, and records even when the caller has gone.
func TestRecord(t *testing.T) {
	log, st := newLog(t)
	by := domain.Actor{Kind: domain.ActorUser, ID: "ed@alpha.example", PartnerID: "alpha", Role: domain.StaffEditor, Addr: "192.0.2.7"}
	sub := uuid.NewString()
	on := audit.Target{PartnerID: "alpha", SubaccountID: sub, OnboardingID: "onboarding/alpha/globex"}
	require.NoError(t, log.Record(context.Background(), by, "resend", on, "email 2 of 5", nil))
	refusal := domain.Errorf(domain.NotYet, "TooSoon", "too soon:\nwait %s", strings.Repeat("x", 600))
	require.Same(t, refusal, log.Record(context.Background(), by, "resend", on, "ignored", refusal))
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	require.NoError(t, log.Record(gone, by, "link", on, "", nil))

	events, err := st.AuditLog(context.Background(), store.AuditQuery{SubaccountID: sub, Limit: 10})
	require.NoError(t, err)
	require.Len(t, events, 3)
	link, refused, done := events[0], events[1], events[2]
	require.Equal(t, "link", link.Action)
	require.Equal(t, domain.OutcomeRefused, refused.Outcome)
	require.NotContains(t, refused.Detail, "\n")
	require.Len(t, []rune(refused.Detail), 500+len("..."))
	require.True(t, strings.HasPrefix(refused.Detail, "too soon:; wait xxx"), refused.Detail)
	require.Equal(t, domain.AuditEvent{ID: done.ID, At: done.At, PartnerID: "alpha", ActorKind: domain.ActorUser, ActorID: "ed@alpha.example",
		Action: "resend", SubaccountID: sub, OnboardingID: "onboarding/alpha/globex", Addr: "192.0.2.7", Outcome: domain.OutcomeDone,
		Detail: "email 2 of 5"}, done)
}

// TestReadAndExportAreScoped: a partner's actor reads and exports its own
// partner's events only; another partner's customer shows nothing on the
// page and is not found by an export; an operator exports every partner's,
// or one's, and is told of a partner that is not registered. CSV cells a
// spreadsheet would run as formulas are defused; JSON is one array. Each
// export is recorded, in the log of the partner it read.
func TestReadAndExportAreScoped(t *testing.T) {
	log, st := newLog(t)
	ctx := context.Background()
	for _, p := range []string{"alpha", "beta"} {
		_, err := st.AddPartner(ctx, p, "Partner "+p, nil)
		require.NoError(t, err)
	}
	alphaSub := customer(t, st, "alpha", "Alpha Customer").ID
	betaSa := customer(t, st, "beta", "Beta Customer")
	alpha := domain.Actor{Kind: domain.ActorUser, ID: "=HYPERLINK(\"x\")", PartnerID: "alpha", Role: domain.StaffViewer, PartnerStatus: true}
	beta := domain.Actor{Kind: domain.ActorUser, ID: "b@beta.example", PartnerID: "beta", Role: domain.StaffViewer, PartnerStatus: true}
	require.NoError(t, log.Record(ctx, alpha, "edit", audit.Target{PartnerID: "alpha", SubaccountID: alphaSub}, "+cmd", nil))
	require.NoError(t, log.Record(ctx, beta, "edit", audit.Target{PartnerID: "beta", SubaccountID: betaSa.ID}, "beta's", nil))

	mine, err := log.Customer(ctx, alpha, alphaSub)
	require.NoError(t, err)
	require.Len(t, mine, 1)
	theirs, err := log.Customer(ctx, alpha, betaSa.ID)
	require.NoError(t, err)
	require.Empty(t, theirs, "another partner's customer shows nothing")

	var out bytes.Buffer
	n, err := log.Export(ctx, alpha, audit.Query{}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	rows, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 2, "the header and alpha's one event")
	require.Equal(t, "id", rows[0][0])
	require.Equal(t, `'=HYPERLINK("x")`, rows[1][4])
	require.Equal(t, "'+cmd", rows[1][10])
	// Another partner, or another partner's customer (by either id): not
	// found, nothing written.
	for _, q := range []audit.Query{{PartnerID: "beta"}, {SubaccountID: betaSa.ID}, {SubaccountID: betaSa.OnboardingID}, {SubaccountID: "nonsense"}} {
		out.Reset()
		_, err := log.Export(ctx, alpha, q, &out)
		require.Equal(t, domain.NotFound, domain.KindOf(err), "%+v: %v", q, err)
		require.Zero(t, out.Len(), "%+v: nothing written", q)
	}
	out.Reset()
	n, err = log.Export(ctx, beta, audit.Query{SubaccountID: betaSa.OnboardingID, Format: audit.JSON}, &out)
	require.NoError(t, err)
	require.Equal(t, 1, n, "a customer by its onboarding id: %s", out.String())

	// alpha's exports and refusals are in alpha's log, never in beta's.
	alphaLog, err := st.AuditLog(ctx, store.AuditQuery{Scope: "alpha"})
	require.NoError(t, err)
	require.Len(t, alphaLog, 1+1+4)
	require.Equal(t, "export audit log", alphaLog[0].Action)
	require.Equal(t, domain.OutcomeRefused, alphaLog[0].Outcome)
	require.Equal(t, domain.OutcomeDone, alphaLog[4].Outcome)
	require.Equal(t, "csv: 1 events", alphaLog[4].Detail)
	betaLog, err := st.AuditLog(ctx, store.AuditQuery{Scope: "beta"})
	require.NoError(t, err)
	require.Len(t, betaLog, 2, "beta's edit and beta's own export")
	require.Equal(t, betaSa.ID, betaLog[0].SubaccountID)

	out.Reset()
	ops := domain.Operator("ops")
	n, err = log.Export(ctx, ops, audit.Query{Format: audit.JSON}, &out)
	require.NoError(t, err)
	var all []map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &all), out.String())
	require.Len(t, all, 8)
	require.Equal(t, 8, n)
	require.Equal(t, "beta", all[0]["partner_id"], "newest first")
	out.Reset()
	_, err = log.Export(ctx, ops, audit.Query{PartnerID: "beta", Format: audit.JSON, Actor: "b@beta.example"}, &out)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(out.Bytes(), &all))
	require.Len(t, all, 2)
	out.Reset()
	_, err = log.Export(ctx, ops, audit.Query{PartnerID: "nobody", Format: audit.JSON}, &out)
	require.ErrorIs(t, err, domain.ErrUnknownPartner)
	require.Zero(t, out.Len())
}

// customer makes a customer record of a partner.
func customer(t *testing.T, st *store.Store, partner, name string) domain.Subaccount {
	t.Helper()
	sa, err := st.CreateCustomer(context.Background(), store.NewCustomer{PartnerID: partner, OnboardingID: "onboarding/" + partner + "/" + domain.NameKey(name),
		SubaccountID: uuid.NewString(), OrganizationID: uuid.NewString(), Name: name, Email: "c@customer.example", CloudName: "main-cloud",
		Deadline: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	return sa
}

// TestExportRefusesBadQueries: a bad format or date, or a range that ends
// before it starts, is refused naming its field, before a byte is
// written; a partner without partner status exports nothing.
func TestExportRefusesBadQueries(t *testing.T) {
	log, _ := newLog(t)
	by := domain.Actor{Kind: domain.ActorUser, ID: "v@alpha.example", PartnerID: "alpha", Role: domain.StaffViewer, PartnerStatus: true}
	for _, tc := range []struct {
		q     audit.Query
		field string
	}{
		{audit.Query{Format: "xml"}, "format"},
		{audit.Query{From: "yesterday"}, "from"},
		{audit.Query{To: "2026-13-01"}, "to"},
		{audit.Query{From: "2026-02-01", To: "2026-01-31"}, "to"},
	} {
		var out bytes.Buffer
		_, err := log.Export(context.Background(), by, tc.q, &out)
		require.Equal(t, domain.Invalid, domain.KindOf(err), "%+v: %v", tc.q, err)
		require.Contains(t, domain.Fields(err), tc.field, "%+v", tc.q)
		require.Zero(t, out.Len(), "nothing written")
	}
	// A date as the end takes in that whole day: from and to the same day is a range.
	_, err := log.Export(context.Background(), by, audit.Query{From: "2026-01-31", To: "2026-01-31"}, io.Discard)
	require.NoError(t, err)
	by.PartnerStatus = false
	_, err = log.Export(context.Background(), by, audit.Query{}, io.Discard)
	require.ErrorIs(t, err, domain.ErrNoPartnerStatus)
}
