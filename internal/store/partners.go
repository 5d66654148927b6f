package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/customer"
)

// Partner is a partner of the cloud provider.
type Partner struct {
	ID            string    `db:"id" json:"id"`
	Name          string    `db:"name" json:"name"`
	PartnerStatus bool      `db:"partner_status" json:"partner_status"`
	CreatedAt     time.Time `db:"created_at" json:"created_at"`
}

const partnerColumns = `id, name, partner_status, created_at`

// AddPartner registers a partner with partner status; registering an
// existing id again returns the existing partner unchanged.
func (s *Store) AddPartner(ctx context.Context, id, name string) (Partner, error) {
	var p Partner
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO partners (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, name); err != nil {
			return err
		}
		return tx.GetContext(ctx, &p, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id)
	})
	if err != nil {
		if isCode(err, codeCheckViolation) {
			return Partner{}, customer.Invalid("partner", "want an id of lower-case letters, digits, '-' or '_' (at most 63) and a name of 1-200 characters")
		}
		return Partner{}, fmt.Errorf("add partner: %w", err)
	}
	return p, nil
}

// SetPartnerStatus grants or withdraws a partner's partner status.
func (s *Store) SetPartnerStatus(ctx context.Context, id string, status bool) error {
	res, err := s.db.ExecContext(ctx, `UPDATE partners SET partner_status = $2 WHERE id = $1`, id, status)
	if err != nil {
		return fmt.Errorf("set partner status: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("set partner status %q: %w", id, customer.ErrUnknownPartner)
	}
	return nil
}

// Partner returns one partner, or customer.ErrUnknownPartner.
func (s *Store) Partner(ctx context.Context, id string) (Partner, error) {
	var p Partner
	err := s.db.GetContext(ctx, &p, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Partner{}, fmt.Errorf("partner %q: %w", id, customer.ErrUnknownPartner)
	}
	if err != nil {
		return Partner{}, fmt.Errorf("get partner: %w", err)
	}
	return p, nil
}

// checkPartner locks the partner row and checks it may add customers.
func checkPartner(ctx context.Context, tx *sqlx.Tx, id string) error {
	var status bool
	err := tx.GetContext(ctx, &status, `SELECT partner_status FROM partners WHERE id = $1 FOR SHARE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("partner %q: %w", id, customer.ErrUnknownPartner)
	}
	if err != nil {
		return err
	}
	if !status {
		return fmt.Errorf("partner %q: %w", id, customer.ErrNotPartner)
	}
	return nil
}
