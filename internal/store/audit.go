package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

type auditRow struct {
	ID           int64          `db:"id"`
	At           time.Time      `db:"at"`
	PartnerID    string         `db:"partner_id"`
	ActorKind    string         `db:"actor_kind"`
	ActorID      string         `db:"actor_id"`
	Action       string         `db:"action"`
	SubaccountID sql.NullString `db:"subaccount_id"`
	OnboardingID string         `db:"onboarding_id"`
	Addr         string         `db:"addr"`
	Outcome      string         `db:"outcome"`
	Detail       string         `db:"detail"`
}

func (r auditRow) domain() domain.AuditEvent {
	return domain.AuditEvent{ID: r.ID, At: r.At.UTC(), PartnerID: r.PartnerID, ActorKind: r.ActorKind, ActorID: r.ActorID,
		Action: r.Action, SubaccountID: r.SubaccountID.String, OnboardingID: r.OnboardingID, Addr: r.Addr, Outcome: r.Outcome, Detail: r.Detail}
}

const auditColumns = `a.id, a.at, a.partner_id, a.actor_kind, a.actor_id, a.action, a.subaccount_id, a.onboarding_id, a.addr, a.outcome, a.detail`

// Audit records an action; an event with a key already recorded is not
// recorded again.
func (s *Store) Audit(ctx context.Context, e domain.AuditEvent) error {
	if err := audit(ctx, s.db, e); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// audit writes one audit row, in the caller's transaction when it has one.
func audit(ctx context.Context, ex sqlx.ExecerContext, e domain.AuditEvent) error {
	var sub *string
	if e.SubaccountID != "" {
		sub = &e.SubaccountID
	}
	var key *string
	if e.Key != "" {
		key = &e.Key
	}
	_, err := ex.ExecContext(ctx, `INSERT INTO audit_events (at, partner_id, actor_kind, actor_id, action, subaccount_id, onboarding_id, addr, outcome, detail, key)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING`,
		e.At, e.PartnerID, e.ActorKind, e.ActorID, e.Action, sub, e.OnboardingID, e.Addr, e.Outcome, e.Detail, key)
	return err
}

// AuditQuery selects audit events; empty fields match everything. The
// partner scope is always in the WHERE ("": every partner).
type AuditQuery struct {
	Scope        string
	SubaccountID string
	Actor        string    // an actor's id, exactly
	From, To     time.Time // [From, To); zero: unbounded
	Limit        int       // 0: no limit (exports)
	Batch        int       // the events EachAuditEvent reads a statement; 0: ExportBatch

	// before, when set, selects the events older than it, newest first:
	// the keyset of EachAuditEvent's next batch.
	before *auditKey
}

// auditKey is an event's place in the newest-first order: (at, id), unique by id.
type auditKey struct {
	at time.Time
	id int64
}

// ExportBatch is how many events EachAuditEvent reads a statement by default.
const ExportBatch = 1000

func (q AuditQuery) sql() (string, []any) {
	args := []any{q.Scope}
	where := []string{"($1 = '' OR a.partner_id = $1)"}
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	if q.SubaccountID != "" {
		where = append(where, "a.subaccount_id = "+arg(q.SubaccountID))
	}
	if q.Actor != "" {
		where = append(where, "a.actor_id = "+arg(q.Actor))
	}
	if !q.From.IsZero() {
		where = append(where, "a.at >= "+arg(q.From))
	}
	if !q.To.IsZero() {
		where = append(where, "a.at < "+arg(q.To))
	}
	if q.before != nil {
		// A row comparison: an index on (…, at DESC, id DESC) takes it as
		// the start of its range (0008_audit_export.sql).
		where = append(where, "(a.at, a.id) < ("+arg(q.before.at)+", "+arg(q.before.id)+")")
	}
	text := `SELECT ` + auditColumns + ` FROM audit_events a WHERE ` + strings.Join(where, " AND ") + ` ORDER BY a.at DESC, a.id DESC`
	if q.Limit > 0 {
		text += " LIMIT " + arg(q.Limit)
	}
	return text, args
}

// AuditLog returns the audit events a query selects, newest first.
func (s *Store) AuditLog(ctx context.Context, q AuditQuery) ([]domain.AuditEvent, error) {
	if q.SubaccountID != "" && !isUUID(q.SubaccountID) {
		return nil, notFound("customer %q", text.Truncate(q.SubaccountID, 80))
	}
	text, args := q.sql()
	var rows []auditRow
	if err := s.db.SelectContext(ctx, &rows, text, args...); err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	out := make([]domain.AuditEvent, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}

// EachAuditEvent streams the audit events a query selects, newest first,
// to fn one at a time, however many there are. It reads them in batches of
// q.Batch, each one short statement that starts where the last one ended
// (keyset pagination on (at, id), along an index): an export of a year of
// a large partner's log holds one batch in memory, and neither a
// transaction nor a connection is held while fn writes to a slow client.
// Events recorded during an export are newer than its first batch, so they
// are not in it. fn's error stops it.
func (s *Store) EachAuditEvent(ctx context.Context, q AuditQuery, fn func(domain.AuditEvent) error) error {
	if q.SubaccountID != "" && !isUUID(q.SubaccountID) {
		return notFound("customer %q", text.Truncate(q.SubaccountID, 80))
	}
	if q.Batch <= 0 {
		q.Batch = ExportBatch
	}
	q.Limit = q.Batch
	var rows []auditRow
	for {
		text, args := q.sql()
		rows = rows[:0] // sqlx appends: the batch's slice is reused
		if err := s.db.SelectContext(ctx, &rows, text, args...); err != nil {
			return fmt.Errorf("audit export: %w", err)
		}
		for _, r := range rows {
			if err := fn(r.domain()); err != nil {
				return err
			}
		}
		if len(rows) < q.Batch {
			return nil
		}
		last := rows[len(rows)-1]
		q.before = &auditKey{at: last.At, id: last.ID}
	}
}
