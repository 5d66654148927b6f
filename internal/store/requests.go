package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

type requestRow struct {
	ID           string         `db:"id" json:"id"`
	PartnerID    string         `db:"partner_id" json:"partner_id"`
	SubaccountID sql.NullString `db:"subaccount_id" json:"-"`
	OnboardingID string         `db:"onboarding_id" json:"onboarding_id"`
	WorkflowID   string         `db:"workflow_id" json:"workflow_id"`
	Kind         string         `db:"kind" json:"kind"`
	Summary      string         `db:"summary" json:"summary"`
	Fingerprint  string         `db:"fingerprint" json:"fingerprint"`
	ActorKind    string         `db:"actor_kind" json:"actor_kind"`
	ActorID      string         `db:"actor_id" json:"actor_id"`
	Addr         string         `db:"addr" json:"addr"`
	Status       string         `db:"status" json:"status"`
	Reason       string         `db:"reason" json:"reason"`
	Result       []byte         `db:"result" json:"-"`
	CreatedAt    time.Time      `db:"created_at" json:"created_at"`
	FinishedAt   sql.NullTime   `db:"finished_at" json:"-"`
}

func (r requestRow) domain() domain.Request {
	return domain.Request{ID: r.ID, PartnerID: r.PartnerID, SubaccountID: r.SubaccountID.String, OnboardingID: r.OnboardingID,
		WorkflowID: r.WorkflowID, Kind: r.Kind, Summary: r.Summary, Fingerprint: r.Fingerprint, ActorKind: r.ActorKind,
		ActorID: r.ActorID, Addr: r.Addr, Status: r.Status, Reason: r.Reason, Result: r.Result, CreatedAt: r.CreatedAt.UTC(),
		FinishedAt: timePtr(r.FinishedAt)}
}

const requestColumns = `r.id, r.partner_id, r.subaccount_id, r.onboarding_id, r.workflow_id, r.kind, r.summary, r.fingerprint,
	r.actor_kind, r.actor_id, r.addr, r.status, r.reason, r.result, r.created_at, r.finished_at`

// pendingList is the subselect of a customer's pending requests, as JSON,
// oldest first: $sub is the subaccount's id column.
const pendingList = `(SELECT json_agg(json_build_object('id', r.id, 'partner_id', r.partner_id, 'onboarding_id', r.onboarding_id,
		'workflow_id', r.workflow_id, 'kind', r.kind, 'summary', r.summary, 'fingerprint', r.fingerprint, 'actor_kind', r.actor_kind,
		'actor_id', r.actor_id, 'addr', r.addr, 'status', r.status, 'reason', r.reason, 'created_at', r.created_at)
		ORDER BY r.created_at, r.id) FROM requests r WHERE r.subaccount_id = s.id AND r.status = 'accepted') AS pending_list`

func pendingOf(list sql.NullString, subaccountID string) ([]domain.Request, error) {
	if !list.Valid {
		return nil, nil
	}
	var rows []requestRow
	if err := json.Unmarshal([]byte(list.String), &rows); err != nil {
		return nil, fmt.Errorf("pending requests: %w", err)
	}
	out := make([]domain.Request, 0, len(rows))
	for _, r := range rows {
		d := r.domain()
		d.SubaccountID = subaccountID
		out = append(out, d)
	}
	return out, nil
}

// AcceptRequest records a request its workflow has received (its signal
// is in the history), as accepted. A request with this id recorded before
// — the same request again, or one the workflow has already settled — is
// left as it is and returned.
func (s *Store) AcceptRequest(ctx context.Context, r domain.Request) (domain.Request, error) {
	if !isUUID(r.ID) {
		return domain.Request{}, fmt.Errorf("accept request: id %q: %w", text.Truncate(r.ID, 80), domain.ErrInvalid)
	}
	var got requestRow
	err := s.db.GetContext(ctx, &got, `
		WITH ins AS (
			INSERT INTO requests (id, partner_id, subaccount_id, onboarding_id, workflow_id, kind, summary, fingerprint, actor_kind, actor_id, addr, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
			ON CONFLICT (id) DO NOTHING
			RETURNING *)
		SELECT `+requestColumns+` FROM ins r
		UNION ALL SELECT `+requestColumns+` FROM requests r WHERE r.id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
		r.ID, r.PartnerID, nullIfEmpty(r.SubaccountID), r.OnboardingID, r.WorkflowID, r.Kind, r.Summary, r.Fingerprint,
		r.ActorKind, r.ActorID, r.Addr, r.CreatedAt)
	if err != nil {
		return domain.Request{}, fmt.Errorf("accept request: %w", err)
	}
	return got.domain(), nil
}

// Request returns one request of the partner (scope "": of any partner),
// or domain.ErrNotFound.
func (s *Store) Request(ctx context.Context, scope, id string) (domain.Request, error) {
	if !isUUID(id) {
		return domain.Request{}, notFound("request %q", text.Truncate(id, 80))
	}
	var r requestRow
	err := s.db.GetContext(ctx, &r, `SELECT `+requestColumns+` FROM requests r WHERE r.id = $1 AND ($2 = '' OR r.partner_id = $2)`, id, scope)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Request{}, notFound("request %q", id)
	}
	if err != nil {
		return domain.Request{}, fmt.Errorf("get request: %w", err)
	}
	return r.domain(), nil
}

// SettleRequest records how a request ended — done, with the workflow's
// answer, or refused with the reason — and its audit event, in one
// transaction. It is written by the workflow's activity, so a retry finds
// it settled and changes nothing; a request no edge recorded as accepted
// (its edge went away after the signal) is recorded now.
func (s *Store) SettleRequest(ctx context.Context, r domain.Request, e domain.AuditEvent) (domain.Request, error) {
	if r.Status != domain.RequestDone && r.Status != domain.RequestRefused {
		return domain.Request{}, fmt.Errorf("settle request: status %q: %w", r.Status, domain.ErrInvalid)
	}
	if !isUUID(r.ID) {
		return domain.Request{}, fmt.Errorf("settle request: id %q: %w", text.Truncate(r.ID, 80), domain.ErrInvalid)
	}
	var got requestRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO requests (id, partner_id, subaccount_id, onboarding_id, workflow_id, kind, summary, fingerprint, actor_kind, actor_id, addr,
			                      created_at, status, reason, result, finished_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, reason = EXCLUDED.reason, result = EXCLUDED.result,
			                               finished_at = EXCLUDED.finished_at
			WHERE requests.status = 'accepted'`,
			r.ID, r.PartnerID, nullIfEmpty(r.SubaccountID), r.OnboardingID, r.WorkflowID, r.Kind, r.Summary, r.Fingerprint,
			r.ActorKind, r.ActorID, r.Addr, r.CreatedAt, r.Status, r.Reason, nullJSON(r.Result), r.FinishedAt); err != nil {
			return err
		}
		if err := audit(ctx, tx, e); err != nil {
			return err
		}
		return tx.GetContext(ctx, &got, `SELECT `+requestColumns+` FROM requests r WHERE r.id = $1`, r.ID)
	})
	if err != nil {
		return domain.Request{}, fmt.Errorf("settle request: %w", err)
	}
	return got.domain(), nil
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nullJSON(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}
