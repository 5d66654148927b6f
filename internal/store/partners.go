package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
)

type partnerRow struct {
	ID            string    `db:"id"`
	Name          string    `db:"name"`
	PartnerStatus bool      `db:"partner_status"`
	CreatedAt     time.Time `db:"created_at"`
}

func (r partnerRow) domain() domain.Partner {
	return domain.Partner{ID: r.ID, Name: r.Name, PartnerStatus: r.PartnerStatus, CreatedAt: r.CreatedAt.UTC()}
}

const partnerColumns = `id, name, partner_status, created_at`

// AddPartner registers a partner with partner status; registering an
// existing id again returns the existing partner unchanged (and records
// no note).
func (s *Store) AddPartner(ctx context.Context, id, name string, n Note[domain.Partner]) (domain.Partner, error) {
	var p partnerRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO partners (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, name)
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &p, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id); err != nil {
			return err
		}
		if added, err := res.RowsAffected(); err != nil || added == 0 {
			return err
		}
		return note(ctx, tx, n, p.domain())
	})
	if err != nil {
		if isCode(err, codeCheckViolation) {
			return domain.Partner{}, domain.Invalidf("partner", "want an id of lower-case letters, digits, '-' or '_' (at most 63) and a name of 1-200 characters")
		}
		return domain.Partner{}, fmt.Errorf("add partner: %w", err)
	}
	return p.domain(), nil
}

// SetPartnerStatus grants or withdraws a partner's partner status and
// returns the partner.
func (s *Store) SetPartnerStatus(ctx context.Context, id string, status bool, n Note[domain.Partner]) (domain.Partner, error) {
	var p partnerRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &p, `UPDATE partners SET partner_status = $2 WHERE id = $1 RETURNING `+partnerColumns, id, status); err != nil {
			return err
		}
		return note(ctx, tx, n, p.domain())
	})
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Partner{}, domain.UnknownPartner(id)
	}
	if err != nil {
		return domain.Partner{}, fmt.Errorf("set partner status: %w", err)
	}
	return p.domain(), nil
}

// Partner returns one partner, or domain.ErrUnknownPartner.
func (s *Store) Partner(ctx context.Context, id string) (domain.Partner, error) {
	var p partnerRow
	err := s.db.GetContext(ctx, &p, `SELECT `+partnerColumns+` FROM partners WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Partner{}, domain.UnknownPartner(id)
	}
	if err != nil {
		return domain.Partner{}, fmt.Errorf("get partner: %w", err)
	}
	return p.domain(), nil
}

// checkPartner locks the partner row and checks it may add customers.
func checkPartner(ctx context.Context, tx *sqlx.Tx, id string) error {
	var status bool
	err := tx.GetContext(ctx, &status, `SELECT partner_status FROM partners WHERE id = $1 FOR SHARE`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.UnknownPartner(id)
	}
	if err != nil {
		return err
	}
	if !status {
		return domain.NoPartnerStatus(id)
	}
	return nil
}
