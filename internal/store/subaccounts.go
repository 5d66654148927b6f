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

// Subaccount is a customer's billing account under a partner, with its
// organization and, once created, its clouds.
type Subaccount struct {
	ID              string     `db:"id" json:"id"`
	PartnerID       string     `db:"partner_id" json:"partner_id"`
	PartnerName     string     `db:"partner_name" json:"partner_name"`
	OnboardingID    string     `db:"onboarding_id" json:"onboarding_id"`
	RunID           string     `db:"run_id" json:"run_id,omitempty"`
	Name            string     `db:"name" json:"name"`
	Email           string     `db:"email" json:"-"`
	Contact         string     `db:"contact" json:"-"`
	CloudName       string     `db:"cloud_name" json:"cloud_name"`
	Status          string     `db:"status" json:"status"`
	ConfirmDeadline time.Time  `db:"confirm_deadline" json:"confirm_deadline"`
	CreatedAt       time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt       time.Time  `db:"updated_at" json:"updated_at"`
	ActivatedAt     *time.Time `db:"activated_at" json:"activated_at,omitempty"`
	DeletedAt       *time.Time `db:"deleted_at" json:"deleted_at,omitempty"`
	DeletedReason   string     `db:"deleted_reason" json:"deleted_reason,omitempty"`
	OrganizationID  string     `db:"organization_id" json:"organization_id"`
	CloudID         string     `db:"cloud_id" json:"cloud_id,omitempty"` // the first cloud
	Clouds          int        `db:"clouds" json:"clouds"`
	EmailsSent      int        `db:"emails_sent" json:"emails_sent"`
	Answer          string     `db:"answer" json:"answer,omitempty"` // the customer's: CONFIRM or DECLINE
	// The open suspension, while SUSPENDED.
	SuspensionID  string     `db:"suspension_id" json:"suspension_id,omitempty"`
	SuspendedAt   *time.Time `db:"suspended_at" json:"suspended_at,omitempty"`
	DeleteAfter   *time.Time `db:"delete_after" json:"delete_after,omitempty"`
	SuspendReason string     `db:"suspend_reason" json:"suspend_reason,omitempty"`
}

// NewCustomer is everything needed to create a customer record. The ids are
// decided by the caller once, so that a retry finds the rows it wrote.
type NewCustomer struct {
	SubaccountID   string
	OrganizationID string
	OnboardingID   string
	RunID          string // the Temporal run creating the record
	PartnerID      string
	Name           string
	Email          string
	Contact        string
	CloudName      string
	Deadline       time.Time
}

// CreateCustomer creates, atomically, the subaccount (ACCEPTANCE_REQUIRED),
// its organization and the four default role bindings. Calling it again with
// the same subaccount id returns the record already written.
func (s *Store) CreateCustomer(ctx context.Context, c NewCustomer) (Subaccount, error) {
	if err := customer.Validate(c.Name, c.Email, c.CloudName, c.Contact); err != nil {
		return Subaccount{}, fmt.Errorf("create customer: %w", err)
	}
	if c.SubaccountID == "" || c.OrganizationID == "" || c.OnboardingID == "" || c.Deadline.IsZero() {
		return Subaccount{}, errors.New("create customer: subaccount id, organization id, onboarding id and deadline are required")
	}
	key := customer.NameKey(c.Name)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkPartner(ctx, tx, c.PartnerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO subaccounts (id, partner_id, onboarding_id, run_id, name, name_key, email, contact, cloud_name, confirm_deadline)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO NOTHING`,
			c.SubaccountID, c.PartnerID, c.OnboardingID, c.RunID, c.Name, key, c.Email, c.Contact, c.CloudName, c.Deadline); err != nil {
			return err
		}
		var owner struct {
			PartnerID string `db:"partner_id"`
			NameKey   string `db:"name_key"`
		}
		if err := tx.GetContext(ctx, &owner, `SELECT partner_id, name_key FROM subaccounts WHERE id = $1`, c.SubaccountID); err != nil {
			return err
		}
		if owner.PartnerID != c.PartnerID || owner.NameKey != key {
			return fmt.Errorf("subaccount %s: %w", c.SubaccountID, customer.ErrIDConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, subaccount_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			c.OrganizationID, c.SubaccountID, customer.OrganizationName(c.Name)); err != nil {
			return err
		}
		var orgID string
		if err := tx.GetContext(ctx, &orgID, `SELECT id FROM organizations WHERE subaccount_id = $1`, c.SubaccountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `
			INSERT INTO role_bindings (subject_type, subject_id, role, resource_type, resource_id, subaccount_id) VALUES
				('partner',  $1, $3, 'subaccount',   $4, $4),
				('partner',  $1, $5, 'organization', $6, $4),
				('customer', $2, $7, 'subaccount',   $4, $4),
				('customer', $2, $5, 'organization', $6, $4)
			ON CONFLICT DO NOTHING`,
			c.PartnerID, c.SubaccountID, customer.RoleBillingOwner, c.SubaccountID, customer.RoleOrgOwner, orgID, customer.RoleAdmin)
		return err
	})
	switch {
	case isConstraint(err, "subaccounts_live_name"):
		// Another transaction may have just written this very record; if so,
		// this call is a repeat and returns it.
		if sa, gerr := s.Subaccount(ctx, c.SubaccountID); gerr == nil && sa.PartnerID == c.PartnerID && customer.NameKey(sa.Name) == key {
			return sa, nil
		}
		return Subaccount{}, fmt.Errorf("create customer %q: %w", c.Name, customer.ErrNameTaken)
	case isCode(err, codeUniqueViolation) && !isConstraint(err, "subaccounts_pkey"):
		return Subaccount{}, fmt.Errorf("create customer: %w", customer.ErrIDConflict)
	case err != nil:
		return Subaccount{}, fmt.Errorf("create customer: %w", err)
	}
	return s.Subaccount(ctx, c.SubaccountID)
}

const subaccountSelect = `
	SELECT s.id, s.partner_id, p.name AS partner_name, s.onboarding_id, s.run_id, s.name, s.email, s.contact,
	       s.cloud_name, s.status, s.confirm_deadline, s.created_at, s.updated_at, s.activated_at,
	       s.deleted_at, COALESCE(s.deleted_reason, '') AS deleted_reason, o.id AS organization_id,
	       COALESCE((SELECT c.id::text FROM clouds c WHERE c.organization_id = o.id ORDER BY c.created_at, c.id LIMIT 1), '') AS cloud_id,
	       (SELECT count(*) FROM clouds c WHERE c.organization_id = o.id) AS clouds,
	       (SELECT count(*) FROM emails e WHERE e.subaccount_id = s.id) AS emails_sent,
	       COALESCE(s.answer, '') AS answer, COALESCE(sp.id::text, '') AS suspension_id,
	       sp.suspended_at, sp.delete_after, COALESCE(sp.reason, '') AS suspend_reason
	FROM subaccounts s
	JOIN partners p ON p.id = s.partner_id
	JOIN organizations o ON o.subaccount_id = s.id
	LEFT JOIN suspensions sp ON sp.subaccount_id = s.id AND sp.resumed_at IS NULL AND sp.expired_at IS NULL`

// Subaccount returns one subaccount with its organization and clouds, or customer.ErrNotFound.
func (s *Store) Subaccount(ctx context.Context, id string) (Subaccount, error) {
	return getSubaccount(ctx, s.db, id)
}

func getSubaccount(ctx context.Context, q sqlx.QueryerContext, id string) (Subaccount, error) {
	if !isUUID(id) {
		return Subaccount{}, fmt.Errorf("subaccount %q: %w", id, customer.ErrNotFound)
	}
	return oneSubaccount(ctx, q, "subaccount "+id, ` WHERE s.id = $1`, id)
}

// oneSubaccount reads the subaccount a condition selects, or customer.ErrNotFound.
func oneSubaccount(ctx context.Context, q sqlx.QueryerContext, what, where string, args ...any) (Subaccount, error) {
	var sa Subaccount
	err := sqlx.GetContext(ctx, q, &sa, subaccountSelect+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return Subaccount{}, fmt.Errorf("%s: %w", what, customer.ErrNotFound)
	}
	if err != nil {
		return Subaccount{}, fmt.Errorf("get subaccount: %w", err)
	}
	return sa, nil
}

// SubaccountByOnboarding returns the newest subaccount created by an onboarding.
func (s *Store) SubaccountByOnboarding(ctx context.Context, onboardingID string) (Subaccount, error) {
	return oneSubaccount(ctx, s.db, fmt.Sprintf("onboarding %q", onboardingID),
		` WHERE s.onboarding_id = $1 ORDER BY s.created_at DESC LIMIT 1`, onboardingID)
}

// LiveSubaccount returns the partner's subaccount for a customer name that is
// not deleted (any status but INACTIVE), or customer.ErrNotFound. Names are
// compared as customer.NameKey does, so "ACME  Corp" finds "acme corp".
func (s *Store) LiveSubaccount(ctx context.Context, partnerID, customerName string) (Subaccount, error) {
	return oneSubaccount(ctx, s.db, fmt.Sprintf("live subaccount %q of partner %q", customerName, partnerID), `
		WHERE s.partner_id = $1 AND s.name_key = $2 AND s.status <> 'INACTIVE'
		ORDER BY s.created_at DESC LIMIT 1`, partnerID, customer.NameKey(customerName))
}

// Edit changes the editable fields of a subaccount; nil means unchanged.
// Name is here only to be refused: the name is immutable.
type Edit struct {
	Name      *string
	Email     *string
	Contact   *string
	CloudName *string
}

// Validate checks every given field: the name is refused, the others must be valid.
func (e Edit) Validate() error {
	if e.Name != nil {
		return customer.ErrNameImmutable
	}
	var errs []error
	if e.Email != nil {
		errs = append(errs, customer.ValidateEmail(*e.Email))
	}
	if e.Contact != nil {
		errs = append(errs, customer.ValidateContact(*e.Contact))
	}
	if e.CloudName != nil {
		errs = append(errs, customer.ValidateCloudName(*e.CloudName))
	}
	return errors.Join(errs...)
}

// EditSubaccount changes every given field but the name, which it refuses.
// Role bindings never change. Editing a deleted subaccount is refused.
func (s *Store) EditSubaccount(ctx context.Context, id string, e Edit) (Subaccount, error) {
	if err := e.Validate(); err != nil {
		return Subaccount{}, fmt.Errorf("edit subaccount: %w", err)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if sa.Status == customer.StatusInactive {
			return customer.ErrDeleted
		}
		if e.CloudName != nil && sa.CloudID != "" && *e.CloudName != sa.CloudName {
			return customer.Invalid("cloud", "the cloud has already been created; its name can no longer change")
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE subaccounts SET email = COALESCE($2, email), contact = COALESCE($3, contact),
			       cloud_name = COALESCE($4, cloud_name), updated_at = now()
			WHERE id = $1`, id, e.Email, e.Contact, e.CloudName)
		return err
	})
	if err != nil {
		return Subaccount{}, fmt.Errorf("edit subaccount: %w", err)
	}
	return s.Subaccount(ctx, id)
}

func lockSubaccount(ctx context.Context, tx *sqlx.Tx, id string) (Subaccount, error) {
	if !isUUID(id) {
		return Subaccount{}, fmt.Errorf("subaccount %q: %w", id, customer.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM subaccounts WHERE id = $1 FOR UPDATE`, id); err != nil {
		return Subaccount{}, err
	}
	return getSubaccount(ctx, tx, id)
}

// Activate marks a confirmed subaccount ACTIVE. Activating an active one
// returns it unchanged; a deleted one is refused with customer.ErrDeleted.
func (s *Store) Activate(ctx context.Context, id string, at time.Time) (Subaccount, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case customer.StatusActive, customer.StatusSuspended:
			return nil
		case customer.StatusInactive:
			return customer.ErrDeleted
		}
		_, err = tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'ACTIVE', activated_at = $2, updated_at = now() WHERE id = $1`, id, at)
		return err
	})
	if err != nil {
		return Subaccount{}, fmt.Errorf("activate subaccount: %w", err)
	}
	return s.Subaccount(ctx, id)
}

// Delete deletes an unconfirmed subaccount: status INACTIVE, its organization
// deleted and its role bindings revoked, each marked with the time; rows stay
// for audit. Deleting a deleted one returns it unchanged; a confirmed one is
// refused with customer.ErrConfirmed.
func (s *Store) Delete(ctx context.Context, id, reason string, at time.Time) (Subaccount, error) {
	switch reason {
	case customer.ReasonExpired, customer.ReasonCancelled, customer.ReasonFailed, customer.ReasonDeclined:
	default:
		return Subaccount{}, fmt.Errorf("delete subaccount: reason %q: %w", reason, customer.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case customer.StatusInactive:
			return nil
		case customer.StatusActive, customer.StatusSuspended:
			return customer.ErrConfirmed
		}
		return deleteRecord(ctx, tx, id, reason, at)
	})
	if err != nil {
		return Subaccount{}, fmt.Errorf("delete subaccount: %w", err)
	}
	return s.Subaccount(ctx, id)
}

// deleteRecord marks a subaccount INACTIVE, its organization deleted and
// its role bindings revoked, at one time, keeping every row.
func deleteRecord(ctx context.Context, tx *sqlx.Tx, id, reason string, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'INACTIVE', deleted_at = $2, deleted_reason = $3, updated_at = now() WHERE id = $1`, id, at, reason); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE organizations SET deleted_at = $2 WHERE subaccount_id = $1 AND deleted_at IS NULL`, id, at); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE role_bindings SET revoked_at = $2 WHERE subaccount_id = $1 AND revoked_at IS NULL`, id, at)
	return err
}

// RecordAnswer records the customer's answer to the invitation (CONFIRM or
// DECLINE) unless one is recorded already, and returns the answer that
// stands: of two racing, exactly one is recorded. Only a subaccount that
// awaits confirmation takes an answer; otherwise the one recorded (or none)
// is returned with the subaccount as it is.
func (s *Store) RecordAnswer(ctx context.Context, id, answer string, at time.Time) (string, Subaccount, error) {
	if answer != customer.AnswerConfirm && answer != customer.AnswerDecline {
		return "", Subaccount{}, fmt.Errorf("record answer: %q: %w", answer, customer.ErrInvalid)
	}
	var sa Subaccount
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		if sa, err = lockSubaccount(ctx, tx, id); err != nil {
			return err
		}
		if sa.Answer != "" || sa.Status != customer.StatusAcceptanceRequired {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subaccounts SET answer = $2, answered_at = $3 WHERE id = $1`, id, answer, at); err != nil {
			return err
		}
		sa.Answer = answer
		return nil
	})
	if err != nil {
		return "", Subaccount{}, fmt.Errorf("record answer: %w", err)
	}
	return sa.Answer, sa, nil
}
