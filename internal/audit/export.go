package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Export formats.
const (
	CSV  = "csv"
	JSON = "json"
)

// Query selects the events to export: a partner's, or one customer's;
// From and To are dates (2026-01-31, To taking in its whole day) or RFC
// 3339 times; Actor an actor's id. Empty fields match everything.
type Query struct {
	PartnerID    string
	SubaccountID string
	Actor        string
	From, To     string
	Format       string // CSV or JSON; default CSV
}

// exportRow is one exported event: the wire format of every export, from
// the portal, the API and the CLI alike.
type exportRow struct {
	ID           int64     `json:"id"`
	At           time.Time `json:"at"`
	PartnerID    string    `json:"partner_id"`
	ActorKind    string    `json:"actor_kind"`
	Actor        string    `json:"actor"`
	Action       string    `json:"action"`
	SubaccountID string    `json:"subaccount_id,omitempty"`
	OnboardingID string    `json:"onboarding_id,omitempty"`
	Addr         string    `json:"addr,omitempty"`
	Outcome      string    `json:"outcome"`
	Detail       string    `json:"detail,omitempty"`
}

var csvHeader = []string{"id", "at", "partner_id", "actor_kind", "actor", "action", "subaccount_id", "onboarding_id", "addr", "outcome", "detail"}

// ContentType is the media type of an export format.
func ContentType(format string) string {
	if format == JSON {
		return "application/json"
	}
	return "text/csv; charset=utf-8"
}

// Check validates an export query before anything is written, so that an
// edge can still answer with an error.
func (q Query) Check() (store.AuditQuery, error) {
	switch q.Format {
	case "", CSV, JSON:
	default:
		return store.AuditQuery{}, domain.Invalidf("format", "%q is not an export format: want csv or json", q.Format)
	}
	from, err := dateOrZero("from", q.From, false)
	if err != nil {
		return store.AuditQuery{}, err
	}
	to, err := dateOrZero("to", q.To, true)
	if err != nil {
		return store.AuditQuery{}, err
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		return store.AuditQuery{}, domain.Invalidf("to", "the end of the range is not after its start")
	}
	return store.AuditQuery{SubaccountID: q.SubaccountID, Actor: q.Actor, From: from, To: to}, nil
}

// Export writes the audit events a query selects, newest first, as CSV (a
// header, then a row an event) or a JSON array, streaming: however many
// there are, one batch of the store's is held in memory. It returns how
// many it wrote. A partner's actor exports its own partner's only:
// another partner, or another partner's customer, is not found. Every
// refusal comes before the first byte is written to w, so that an edge
// can still answer it with an error; the export itself is recorded.
func (l *Log) Export(ctx context.Context, by domain.Actor, q Query, w io.Writer) (n int, err error) {
	on := Target{PartnerID: by.Scope()} // refusals too are recorded in the actor's own log
	defer func() {
		err = l.Record(ctx, by, "export audit log", on, q.describe(n), err)
	}()
	if err := by.Authorize(domain.Read, "export the audit log"); err != nil {
		return 0, err
	}
	sq, err := q.Check()
	if err != nil {
		return 0, err
	}
	switch {
	case by.Scope() != "":
		if q.PartnerID != "" && q.PartnerID != by.Scope() {
			return 0, domain.UnknownPartner(q.PartnerID)
		}
		sq.Scope = by.Scope()
	case q.PartnerID != "":
		if _, err := l.store.Partner(ctx, q.PartnerID); err != nil {
			return 0, err
		}
		sq.Scope, on.PartnerID = q.PartnerID, q.PartnerID
	}
	if q.SubaccountID != "" {
		// The customer by its id or its onboarding's, in the scope: another
		// partner's is not found, rather than an empty export.
		sa, _, err := l.store.Customer(ctx, sq.Scope, q.SubaccountID)
		if err != nil {
			return 0, err
		}
		sq.SubaccountID, on.PartnerID, on.SubaccountID, on.OnboardingID = sa.ID, sa.PartnerID, sa.ID, sa.OnboardingID
	}
	bw := bufio.NewWriter(w)
	if q.Format == JSON {
		n, err = exportJSON(ctx, l.store, sq, bw)
	} else {
		n, err = exportCSV(ctx, l.store, sq, bw)
	}
	if err != nil {
		return n, err
	}
	return n, bw.Flush()
}

// describe is what the audit log records of an export: its format, its
// filters and how many events it wrote.
func (q Query) describe(n int) string {
	d := q.Format
	if d == "" {
		d = CSV
	}
	for _, f := range []struct{ name, v string }{{"from", q.From}, {"to", q.To}, {"actor", q.Actor}} {
		if f.v != "" {
			d += " " + f.name + " " + text.Truncate(f.v, 80)
		}
	}
	return fmt.Sprintf("%s: %d events", d, n)
}

func row(e domain.AuditEvent) exportRow {
	return exportRow{ID: e.ID, At: e.At, PartnerID: e.PartnerID, ActorKind: e.ActorKind, Actor: e.ActorID, Action: e.Action,
		SubaccountID: e.SubaccountID, OnboardingID: e.OnboardingID, Addr: e.Addr, Outcome: e.Outcome, Detail: e.Detail}
}

func exportCSV(ctx context.Context, st *store.Store, q store.AuditQuery, w io.Writer) (int, error) {
	cw := csv.NewWriter(w)
	if err := cw.Write(csvHeader); err != nil {
		return 0, err
	}
	n := 0
	err := st.EachAuditEvent(ctx, q, func(e domain.AuditEvent) error {
		r := row(e)
		n++
		return cw.Write(cells(strconv.FormatInt(r.ID, 10), r.At.Format(time.RFC3339Nano), r.PartnerID, r.ActorKind, r.Actor, r.Action,
			r.SubaccountID, r.OnboardingID, r.Addr, r.Outcome, r.Detail))
	})
	if err != nil {
		return n, err
	}
	cw.Flush()
	return n, cw.Error()
}

// cells makes values safe for a spreadsheet: one a spreadsheet would run
// as a formula gets a leading apostrophe (CSV injection).
func cells(vs ...string) []string {
	for i, v := range vs {
		if domain.FormulaLike(v) {
			vs[i] = "'" + v
		}
	}
	return vs
}

func exportJSON(ctx context.Context, st *store.Store, q store.AuditQuery, w io.Writer) (int, error) {
	if _, err := io.WriteString(w, "["); err != nil {
		return 0, err
	}
	n := 0
	enc := json.NewEncoder(w)
	err := st.EachAuditEvent(ctx, q, func(e domain.AuditEvent) error {
		if n > 0 {
			if _, err := io.WriteString(w, ","); err != nil {
				return err
			}
		}
		n++
		return enc.Encode(row(e))
	})
	if err != nil {
		return n, err
	}
	_, err = io.WriteString(w, "]\n")
	return n, err
}
