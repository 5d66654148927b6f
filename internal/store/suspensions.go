package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

type suspensionRow struct {
	ID           string       `db:"id"`
	SubaccountID string       `db:"subaccount_id"`
	Reason       string       `db:"reason"`
	SuspendedAt  time.Time    `db:"suspended_at"`
	DeleteAfter  time.Time    `db:"delete_after"`
	ResumedAt    sql.NullTime `db:"resumed_at"`
	ExpiredAt    sql.NullTime `db:"expired_at"`
}

func (r suspensionRow) domain() domain.Suspension {
	return domain.Suspension{ID: r.ID, SubaccountID: r.SubaccountID, Reason: r.Reason, SuspendedAt: r.SuspendedAt.UTC(),
		DeleteAfter: r.DeleteAfter.UTC(), ResumedAt: timePtr(r.ResumedAt), ExpiredAt: timePtr(r.ExpiredAt)}
}

// Suspend stops an ACTIVE subaccount's services: it becomes SUSPENDED with
// an open suspension (its id decided by the caller) whose data is kept
// until deleteAfter. Suspending a suspended one returns it unchanged; a
// subaccount that never confirmed is refused with domain.ErrNotConfirmed,
// a deleted one with domain.ErrDeleted.
func (s *Store) Suspend(ctx context.Context, id, suspensionID, reason string, at, deleteAfter time.Time) (domain.Subaccount, error) {
	if err := domain.ValidateSuspendReason(reason); err != nil {
		return domain.Subaccount{}, fmt.Errorf("suspend customer: %w", err)
	}
	if !isUUID(suspensionID) || !deleteAfter.After(at) {
		return domain.Subaccount{}, fmt.Errorf("suspend customer: a suspension id and a deletion time after %s are required: %w", at, domain.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, "", id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case domain.StatusSuspended:
			return nil
		case domain.StatusInactive:
			return domain.ErrDeleted
		case domain.StatusAcceptanceRequired:
			return domain.ErrNotConfirmed
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO suspensions (id, subaccount_id, reason, suspended_at, delete_after) VALUES ($1, $2, $3, $4, $5)`,
			suspensionID, id, reason, at, deleteAfter); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'SUSPENDED', updated_at = now() WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return domain.Subaccount{}, fmt.Errorf("suspend customer: %w", err)
	}
	return s.Subaccount(ctx, "", id)
}

// Resume ends the open suspension: the subaccount is ACTIVE again and its
// deletion called off. Resuming an active one returns it unchanged; a
// deleted one is refused with domain.ErrDeleted, one that never
// confirmed with domain.ErrNotConfirmed.
func (s *Store) Resume(ctx context.Context, id string, at time.Time) (domain.Subaccount, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, "", id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case domain.StatusActive:
			return nil
		case domain.StatusInactive:
			return domain.ErrDeleted
		case domain.StatusAcceptanceRequired:
			return domain.ErrNotConfirmed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE suspensions SET resumed_at = $2 WHERE subaccount_id = $1 AND resumed_at IS NULL AND expired_at IS NULL`, id, at); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'ACTIVE', updated_at = now() WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return domain.Subaccount{}, fmt.Errorf("resume customer: %w", err)
	}
	return s.Subaccount(ctx, "", id)
}

// ExpireSuspension deletes a subaccount whose suspension ran out: status
// INACTIVE with reason SUSPENSION_EXPIRED, its organization deleted and its
// role bindings revoked, the suspension marked expired; every row is kept.
// A repeat returns the deleted subaccount unchanged. If that suspension is
// no longer the open one (the services were resumed), nothing is deleted
// and domain.ErrNotSuspended is returned.
func (s *Store) ExpireSuspension(ctx context.Context, id, suspensionID string, at time.Time) (domain.Subaccount, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, "", id)
		if err != nil {
			return err
		}
		if sa.Status == domain.StatusInactive && sa.DeletedReason == domain.ReasonSuspensionExpired {
			return nil
		}
		if sa.Status != domain.StatusSuspended || sa.SuspensionID != suspensionID {
			return domain.ErrNotSuspended
		}
		if _, err := tx.ExecContext(ctx, `UPDATE suspensions SET expired_at = $2 WHERE id = $1`, suspensionID, at); err != nil {
			return err
		}
		if err := deleteRecord(ctx, tx, id, domain.ReasonSuspensionExpired, at); err != nil {
			return err
		}
		return audit(ctx, tx, domain.AuditEvent{At: at, PartnerID: sa.PartnerID, ActorKind: domain.ActorSystem, ActorID: "customer",
			Action: "delete customer", SubaccountID: id, OnboardingID: sa.OnboardingID, Outcome: domain.OutcomeDone,
			Detail: domain.ReasonSuspensionExpired + ": the services were not resumed in time", Key: "expire/" + suspensionID})
	})
	if err != nil {
		return domain.Subaccount{}, fmt.Errorf("delete suspended customer: %w", err)
	}
	return s.Subaccount(ctx, "", id)
}

// Suspensions lists a subaccount's suspensions, newest first.
func (s *Store) Suspensions(ctx context.Context, subaccountID string) ([]domain.Suspension, error) {
	if !isUUID(subaccountID) {
		return nil, notFound("customer %q", text.Truncate(subaccountID, 80))
	}
	var rows []suspensionRow
	err := s.db.SelectContext(ctx, &rows, `SELECT id, subaccount_id, reason, suspended_at, delete_after, resumed_at, expired_at
		FROM suspensions WHERE subaccount_id = $1 ORDER BY suspended_at DESC, id`, subaccountID)
	if err != nil {
		return nil, fmt.Errorf("list suspensions: %w", err)
	}
	out := make([]domain.Suspension, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}
