package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEvent is one action taken: by whom, what, on which customer, when,
// from where, and how it ended.
type AuditEvent struct {
	ID           int64     `db:"id" json:"id"`
	At           time.Time `db:"at" json:"at"`
	PartnerID    string    `db:"partner_id" json:"partner_id,omitempty"`
	ActorKind    string    `db:"actor_kind" json:"actor_kind"`
	ActorID      string    `db:"actor_id" json:"actor"`
	Action       string    `db:"action" json:"action"`
	SubaccountID *string   `db:"subaccount_id" json:"subaccount_id,omitempty"`
	OnboardingID string    `db:"onboarding_id" json:"onboarding_id,omitempty"`
	Addr         string    `db:"addr" json:"addr,omitempty"`
	Outcome      string    `db:"outcome" json:"outcome"` // done, refused or failed
	Detail       string    `db:"detail" json:"detail,omitempty"`
}

// Audit records an action.
func (s *Store) Audit(ctx context.Context, e AuditEvent) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO audit_events (at, partner_id, actor_kind, actor_id, action, subaccount_id, onboarding_id, addr, outcome, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		e.At, e.PartnerID, e.ActorKind, e.ActorID, e.Action, e.SubaccountID, e.OnboardingID, e.Addr, e.Outcome, e.Detail)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

// AuditLog returns a customer's audit events, newest first, at most limit.
func (s *Store) AuditLog(ctx context.Context, subaccountID string, limit int) ([]AuditEvent, error) {
	out := []AuditEvent{}
	err := s.db.SelectContext(ctx, &out, `SELECT id, at, partner_id, actor_kind, actor_id, action, subaccount_id, onboarding_id, addr, outcome, detail
		FROM audit_events WHERE subaccount_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, subaccountID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}

// PartnerAuditLog returns a partner's audit events, newest first, at most limit.
func (s *Store) PartnerAuditLog(ctx context.Context, partnerID string, limit int) ([]AuditEvent, error) {
	out := []AuditEvent{}
	err := s.db.SelectContext(ctx, &out, `SELECT id, at, partner_id, actor_kind, actor_id, action, subaccount_id, onboarding_id, addr, outcome, detail
		FROM audit_events WHERE partner_id = $1 ORDER BY at DESC, id DESC LIMIT $2`, partnerID, limit)
	if err != nil {
		return nil, fmt.Errorf("audit log: %w", err)
	}
	return out, nil
}
