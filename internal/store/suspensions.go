package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/customer"
)

// Suspension is one stop of a customer's services.
type Suspension struct {
	ID           string     `db:"id" json:"id"`
	SubaccountID string     `db:"subaccount_id" json:"subaccount_id"`
	Reason       string     `db:"reason" json:"reason,omitempty"`
	SuspendedAt  time.Time  `db:"suspended_at" json:"suspended_at"`
	DeleteAfter  time.Time  `db:"delete_after" json:"delete_after"`
	ResumedAt    *time.Time `db:"resumed_at" json:"resumed_at,omitempty"`
	ExpiredAt    *time.Time `db:"expired_at" json:"expired_at,omitempty"`
}

// Suspend stops an ACTIVE subaccount's services: it becomes SUSPENDED with
// an open suspension (its id decided by the caller) whose data is kept
// until deleteAfter. Suspending a suspended one returns it unchanged; a
// subaccount that never confirmed is refused with customer.ErrNotConfirmed,
// a deleted one with customer.ErrDeleted.
func (s *Store) Suspend(ctx context.Context, id, suspensionID, reason string, at, deleteAfter time.Time) (Subaccount, error) {
	if err := customer.ValidateSuspendReason(reason); err != nil {
		return Subaccount{}, fmt.Errorf("suspend subaccount: %w", err)
	}
	if !isUUID(suspensionID) || !deleteAfter.After(at) {
		return Subaccount{}, fmt.Errorf("suspend subaccount: a suspension id and a deletion time after %s are required: %w", at, customer.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case customer.StatusSuspended:
			return nil
		case customer.StatusInactive:
			return customer.ErrDeleted
		case customer.StatusAcceptanceRequired:
			return customer.ErrNotConfirmed
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO suspensions (id, subaccount_id, reason, suspended_at, delete_after) VALUES ($1, $2, $3, $4, $5)`,
			suspensionID, id, reason, at, deleteAfter); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'SUSPENDED', updated_at = now() WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return Subaccount{}, fmt.Errorf("suspend subaccount: %w", err)
	}
	return s.Subaccount(ctx, id)
}

// Resume ends the open suspension: the subaccount is ACTIVE again and its
// deletion called off. Resuming an active one returns it unchanged; a
// deleted one is refused with customer.ErrDeleted, one that never
// confirmed with customer.ErrNotConfirmed.
func (s *Store) Resume(ctx context.Context, id string, at time.Time) (Subaccount, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case customer.StatusActive:
			return nil
		case customer.StatusInactive:
			return customer.ErrDeleted
		case customer.StatusAcceptanceRequired:
			return customer.ErrNotConfirmed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE suspensions SET resumed_at = $2 WHERE subaccount_id = $1 AND resumed_at IS NULL AND expired_at IS NULL`, id, at); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'ACTIVE', updated_at = now() WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return Subaccount{}, fmt.Errorf("resume subaccount: %w", err)
	}
	return s.Subaccount(ctx, id)
}

// ExpireSuspension deletes a subaccount whose suspension ran out: status
// INACTIVE with reason SUSPENSION_EXPIRED, its organization deleted and its
// role bindings revoked, the suspension marked expired; every row is kept.
// A repeat returns the deleted subaccount unchanged. If that suspension is
// no longer the open one (the services were resumed), nothing is deleted
// and customer.ErrNotSuspended is returned.
func (s *Store) ExpireSuspension(ctx context.Context, id, suspensionID string, at time.Time) (Subaccount, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if sa.Status == customer.StatusInactive && sa.DeletedReason == customer.ReasonSuspensionExpired {
			return nil
		}
		if sa.Status != customer.StatusSuspended || sa.SuspensionID != suspensionID {
			return customer.ErrNotSuspended
		}
		if _, err := tx.ExecContext(ctx, `UPDATE suspensions SET expired_at = $2 WHERE id = $1`, suspensionID, at); err != nil {
			return err
		}
		return deleteRecord(ctx, tx, id, customer.ReasonSuspensionExpired, at)
	})
	if err != nil {
		return Subaccount{}, fmt.Errorf("delete suspended subaccount: %w", err)
	}
	return s.Subaccount(ctx, id)
}

// Suspensions lists a subaccount's suspensions, newest first.
func (s *Store) Suspensions(ctx context.Context, subaccountID string) ([]Suspension, error) {
	if !isUUID(subaccountID) {
		return nil, fmt.Errorf("subaccount %q: %w", subaccountID, customer.ErrNotFound)
	}
	out := []Suspension{}
	err := s.db.SelectContext(ctx, &out, `SELECT id, subaccount_id, reason, suspended_at, delete_after, resumed_at, expired_at
		FROM suspensions WHERE subaccount_id = $1 ORDER BY suspended_at DESC, id`, subaccountID)
	if err != nil {
		return nil, fmt.Errorf("list suspensions: %w", err)
	}
	return out, nil
}
