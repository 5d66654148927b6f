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

type emailRow struct {
	MessageID    string    `db:"message_id"`
	SubaccountID string    `db:"subaccount_id"`
	Seq          int       `db:"seq"`
	SentAt       time.Time `db:"sent_at"`
}

func (r emailRow) domain() domain.Email {
	return domain.Email{MessageID: r.MessageID, SubaccountID: r.SubaccountID, Seq: r.Seq, SentAt: r.SentAt.UTC()}
}

const emailSelect = `SELECT message_id, subaccount_id, seq, sent_at FROM emails WHERE subaccount_id = $1 AND seq = $2`

// RecordEmail records that an email was accepted by the mail server; a repeat
// keeps the first record and returns it.
func (s *Store) RecordEmail(ctx context.Context, e domain.Email) (domain.Email, error) {
	var out emailRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO emails (message_id, subaccount_id, seq, sent_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			e.MessageID, e.SubaccountID, e.Seq, e.SentAt); err != nil {
			return err
		}
		return tx.GetContext(ctx, &out, emailSelect, e.SubaccountID, e.Seq)
	})
	if err != nil {
		return domain.Email{}, fmt.Errorf("record email: %w", err)
	}
	return out.domain(), nil
}

// SentEmail returns the record of the seq-th email of a subaccount, or domain.ErrNotFound.
func (s *Store) SentEmail(ctx context.Context, subaccountID string, seq int) (domain.Email, error) {
	var e emailRow
	err := s.db.GetContext(ctx, &e, emailSelect, subaccountID, seq)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Email{}, notFound("email %d of %s", seq, subaccountID)
	}
	if err != nil {
		return domain.Email{}, fmt.Errorf("get email: %w", err)
	}
	return e.domain(), nil
}
