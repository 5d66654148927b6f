// Package store is the Postgres system of record: partners, subaccounts,
// organizations, role bindings, clouds and sent emails. Every method runs in
// one transaction and is idempotent on the ids its caller decides.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/cloudpartners/onboarding/internal/customer"
)

// Subaccount statuses, as in the product.
const (
	StatusAcceptanceRequired = "ACCEPTANCE_REQUIRED"
	StatusActive             = "ACTIVE"
	StatusSuspended          = "SUSPENDED"
	StatusInactive           = "INACTIVE"
)

// Reasons a subaccount was deleted.
const (
	ReasonExpired   = "EXPIRED"
	ReasonCancelled = "CANCELLED"
	ReasonFailed    = "FAILED" // the onboarding could not go on, e.g. the mail server refused the address
)

// Roles granted by default on a new customer record.
const (
	RoleBillingOwner = "billing.accounts.owner"
	RoleOrgOwner     = "organization-manager.organizations.owner"
	RoleAdmin        = "admin"
)

// Errors callers tell apart with errors.Is.
var (
	ErrNotFound       = errors.New("not found")
	ErrUnknownPartner = errors.New("unknown partner: register it first with `starter partner add`")
	ErrNotPartner     = errors.New("partner has no partner status, so it may not add customers")
	ErrNameTaken      = errors.New("the partner already has a live subaccount with this customer name")
	ErrNameImmutable  = errors.New("the name of a subaccount cannot be changed (only the customer's contact person may change it)")
	ErrDeleted        = errors.New("the subaccount has been deleted")
	ErrConfirmed      = errors.New("the customer has already confirmed")
	ErrNotConfirmed   = errors.New("the customer has not confirmed yet")
	ErrIDConflict     = errors.New("the id is already used by a different record")
)

// Store is the Postgres system of record.
type Store struct {
	db *sqlx.DB
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int // default 20
}

// Open connects to Postgres, applies the embedded migrations and returns the store.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	db, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 20
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// DB exposes the pool for tests and health checks.
func (s *Store) DB() *sqlx.DB { return s.db }

// Partner is a partner of the cloud provider.
type Partner struct {
	ID            string    `db:"id" json:"id"`
	Name          string    `db:"name" json:"name"`
	PartnerStatus bool      `db:"partner_status" json:"partner_status"`
	CreatedAt     time.Time `db:"created_at" json:"created_at"`
}

// Subaccount is a customer's billing account under a partner, with its
// organization and, once created, its cloud.
type Subaccount struct {
	ID              string     `db:"id" json:"id"`
	PartnerID       string     `db:"partner_id" json:"partner_id"`
	PartnerName     string     `db:"partner_name" json:"partner_name"`
	OnboardingID    string     `db:"onboarding_id" json:"onboarding_id"`
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
	CloudID         string     `db:"cloud_id" json:"cloud_id,omitempty"`
	EmailsSent      int        `db:"emails_sent" json:"emails_sent"`
}

// NewCustomer is everything needed to create a customer record. The ids are
// decided by the caller once, so that a retry finds the rows it wrote.
type NewCustomer struct {
	SubaccountID   string
	OrganizationID string
	OnboardingID   string
	PartnerID      string
	Name           string
	Email          string
	Contact        string
	CloudName      string
	Deadline       time.Time
}

// Cloud is a customer's cloud inside their organization.
type Cloud struct {
	ID             string    `db:"id" json:"id"`
	OrganizationID string    `db:"organization_id" json:"organization_id"`
	Name           string    `db:"name" json:"name"`
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
}

// OrganizationName is the name of the organization made for a subaccount.
func OrganizationName(customerName string) string {
	return fmt.Sprintf("For subaccount '%s'", customerName)
}

// inTx runs fn in a transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// AddPartner registers a partner with partner status; registering an
// existing id again returns the existing partner unchanged.
func (s *Store) AddPartner(ctx context.Context, id, name string) (Partner, error) {
	var p Partner
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO partners (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, id, name); err != nil {
			return err
		}
		return tx.GetContext(ctx, &p, `SELECT id, name, partner_status, created_at FROM partners WHERE id = $1`, id)
	})
	if err != nil {
		if isCode(err, "23514") {
			return Partner{}, &customer.InvalidError{Field: "partner", Reason: "want an id of lower-case letters, digits, '-' or '_' (at most 63) and a name of 1-200 characters"}
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
		return fmt.Errorf("set partner status %q: %w", id, ErrUnknownPartner)
	}
	return nil
}

// Partner returns one partner.
func (s *Store) Partner(ctx context.Context, id string) (Partner, error) {
	var p Partner
	err := s.db.GetContext(ctx, &p, `SELECT id, name, partner_status, created_at FROM partners WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Partner{}, fmt.Errorf("partner %q: %w", id, ErrUnknownPartner)
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
		return fmt.Errorf("partner %q: %w", id, ErrUnknownPartner)
	}
	if err != nil {
		return err
	}
	if !status {
		return fmt.Errorf("partner %q: %w", id, ErrNotPartner)
	}
	return nil
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
			INSERT INTO subaccounts (id, partner_id, onboarding_id, name, name_key, email, contact, cloud_name, confirm_deadline)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
			ON CONFLICT (id) DO NOTHING`,
			c.SubaccountID, c.PartnerID, c.OnboardingID, c.Name, key, c.Email, c.Contact, c.CloudName, c.Deadline); err != nil {
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
			return fmt.Errorf("subaccount %s: %w", c.SubaccountID, ErrIDConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, subaccount_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			c.OrganizationID, c.SubaccountID, OrganizationName(c.Name)); err != nil {
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
			c.PartnerID, c.SubaccountID, RoleBillingOwner, c.SubaccountID, RoleOrgOwner, orgID, RoleAdmin)
		return err
	})
	switch {
	case isConstraint(err, "subaccounts_live_name"):
		// Another transaction may have just written this very record; if so,
		// this call is a repeat and returns it.
		if sa, gerr := s.Subaccount(ctx, c.SubaccountID); gerr == nil && sa.PartnerID == c.PartnerID && customer.NameKey(sa.Name) == key {
			return sa, nil
		}
		return Subaccount{}, fmt.Errorf("create customer %q: %w", c.Name, ErrNameTaken)
	case isCode(err, "23505") && !isConstraint(err, "subaccounts_pkey"):
		return Subaccount{}, fmt.Errorf("create customer: %w", ErrIDConflict)
	case err != nil:
		return Subaccount{}, fmt.Errorf("create customer: %w", err)
	}
	return s.Subaccount(ctx, c.SubaccountID)
}

const subaccountSelect = `
	SELECT s.id, s.partner_id, p.name AS partner_name, s.onboarding_id, s.name, s.email, s.contact,
	       s.cloud_name, s.status, s.confirm_deadline, s.created_at, s.updated_at, s.activated_at,
	       s.deleted_at, COALESCE(s.deleted_reason, '') AS deleted_reason, o.id AS organization_id,
	       COALESCE((SELECT c.id::text FROM clouds c WHERE c.organization_id = o.id ORDER BY c.created_at LIMIT 1), '') AS cloud_id,
	       (SELECT count(*) FROM emails e WHERE e.subaccount_id = s.id) AS emails_sent
	FROM subaccounts s
	JOIN partners p ON p.id = s.partner_id
	JOIN organizations o ON o.subaccount_id = s.id`

// Subaccount returns one subaccount with its organization and cloud.
func (s *Store) Subaccount(ctx context.Context, id string) (Subaccount, error) {
	return getSubaccount(ctx, s.db, id)
}

func getSubaccount(ctx context.Context, q sqlx.QueryerContext, id string) (Subaccount, error) {
	var sa Subaccount
	if !isUUID(id) {
		return Subaccount{}, fmt.Errorf("subaccount %q: %w", id, ErrNotFound)
	}
	err := sqlx.GetContext(ctx, q, &sa, subaccountSelect+` WHERE s.id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return Subaccount{}, fmt.Errorf("subaccount %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Subaccount{}, fmt.Errorf("get subaccount: %w", err)
	}
	return sa, nil
}

// SubaccountByOnboarding returns the newest subaccount created by an onboarding.
func (s *Store) SubaccountByOnboarding(ctx context.Context, onboardingID string) (Subaccount, error) {
	var sa Subaccount
	err := s.db.GetContext(ctx, &sa, subaccountSelect+` WHERE s.onboarding_id = $1 ORDER BY s.created_at DESC LIMIT 1`, onboardingID)
	if errors.Is(err, sql.ErrNoRows) {
		return Subaccount{}, fmt.Errorf("onboarding %q: %w", onboardingID, ErrNotFound)
	}
	if err != nil {
		return Subaccount{}, fmt.Errorf("get subaccount: %w", err)
	}
	return sa, nil
}

// Filter narrows ListSubaccounts; empty fields match everything.
type Filter struct {
	PartnerID string
	Status    string
	Limit     int // default 1000
}

// ListSubaccounts lists subaccounts, newest first.
func (s *Store) ListSubaccounts(ctx context.Context, f Filter) ([]Subaccount, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	var out []Subaccount
	err := s.db.SelectContext(ctx, &out, subaccountSelect+`
		WHERE ($1 = '' OR s.partner_id = $1) AND ($2 = '' OR s.status = $2)
		ORDER BY s.created_at DESC, s.id LIMIT $3`, f.PartnerID, f.Status, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("list subaccounts: %w", err)
	}
	return out, nil
}

// Edit changes the editable fields of a subaccount; nil means unchanged.
// Name is here only to be refused: the name is immutable.
type Edit struct {
	Name      *string
	Email     *string
	Contact   *string
	CloudName *string
}

// EditSubaccount changes every given field but the name, which it refuses.
// Role bindings never change. Editing a deleted subaccount is refused.
func (s *Store) EditSubaccount(ctx context.Context, id string, e Edit) (Subaccount, error) {
	if e.Name != nil {
		return Subaccount{}, fmt.Errorf("edit subaccount: %w", ErrNameImmutable)
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
	if err := errors.Join(errs...); err != nil {
		return Subaccount{}, fmt.Errorf("edit subaccount: %w", err)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		if sa.Status == StatusInactive {
			return ErrDeleted
		}
		if e.CloudName != nil && sa.CloudID != "" && *e.CloudName != sa.CloudName {
			return &customer.InvalidError{Field: "cloud", Reason: "the cloud has already been created; its name can no longer change"}
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
		return Subaccount{}, fmt.Errorf("subaccount %q: %w", id, ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM subaccounts WHERE id = $1 FOR UPDATE`, id); err != nil {
		return Subaccount{}, err
	}
	return getSubaccount(ctx, tx, id)
}

// Activate marks a confirmed subaccount ACTIVE. Activating an active one
// returns it unchanged; a deleted one is refused with ErrDeleted.
func (s *Store) Activate(ctx context.Context, id string, at time.Time) (Subaccount, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case StatusActive, StatusSuspended:
			return nil
		case StatusInactive:
			return ErrDeleted
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
// refused with ErrConfirmed.
func (s *Store) Delete(ctx context.Context, id, reason string, at time.Time) (Subaccount, error) {
	if reason != ReasonExpired && reason != ReasonCancelled && reason != ReasonFailed {
		return Subaccount{}, fmt.Errorf("delete subaccount: reason %q: %w", reason, customer.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case StatusInactive:
			return nil
		case StatusActive, StatusSuspended:
			return ErrConfirmed
		}
		if _, err := tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'INACTIVE', deleted_at = $2, deleted_reason = $3, updated_at = now() WHERE id = $1`, id, at, reason); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE organizations SET deleted_at = $2 WHERE subaccount_id = $1 AND deleted_at IS NULL`, id, at); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE role_bindings SET revoked_at = $2 WHERE subaccount_id = $1 AND revoked_at IS NULL`, id, at)
		return err
	})
	if err != nil {
		return Subaccount{}, fmt.Errorf("delete subaccount: %w", err)
	}
	return s.Subaccount(ctx, id)
}

// CreateCloud creates the cloud of an active subaccount, named as the
// subaccount's cloud name, inside its organization. A repeat returns the
// cloud already created.
func (s *Store) CreateCloud(ctx context.Context, cloudID, subaccountID string) (Cloud, error) {
	var c Cloud
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, subaccountID)
		if err != nil {
			return err
		}
		if sa.Status != StatusActive {
			if sa.Status == StatusInactive {
				return ErrDeleted
			}
			return ErrNotConfirmed
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO clouds (id, organization_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			cloudID, sa.OrganizationID, sa.CloudName); err != nil {
			return err
		}
		return tx.GetContext(ctx, &c, `SELECT id, organization_id, name, created_at FROM clouds WHERE organization_id = $1 ORDER BY created_at LIMIT 1`, sa.OrganizationID)
	})
	if err != nil {
		return Cloud{}, fmt.Errorf("create cloud: %w", err)
	}
	return c, nil
}

// Email is a confirmation email handed to the mail server.
type Email struct {
	MessageID    string    `db:"message_id"`
	SubaccountID string    `db:"subaccount_id"`
	Seq          int       `db:"seq"`
	SentAt       time.Time `db:"sent_at"`
}

// RecordEmail records that an email was accepted by the mail server; a repeat
// keeps the first record and returns it.
func (s *Store) RecordEmail(ctx context.Context, e Email) (Email, error) {
	var out Email
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO emails (message_id, subaccount_id, seq, sent_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
			e.MessageID, e.SubaccountID, e.Seq, e.SentAt); err != nil {
			return err
		}
		return tx.GetContext(ctx, &out, `SELECT message_id, subaccount_id, seq, sent_at FROM emails WHERE subaccount_id = $1 AND seq = $2`, e.SubaccountID, e.Seq)
	})
	if err != nil {
		return Email{}, fmt.Errorf("record email: %w", err)
	}
	return out, nil
}

// SentEmail returns the record of the seq-th email of a subaccount, or ErrNotFound.
func (s *Store) SentEmail(ctx context.Context, subaccountID string, seq int) (Email, error) {
	var e Email
	err := s.db.GetContext(ctx, &e, `SELECT message_id, subaccount_id, seq, sent_at FROM emails WHERE subaccount_id = $1 AND seq = $2`, subaccountID, seq)
	if errors.Is(err, sql.ErrNoRows) {
		return Email{}, ErrNotFound
	}
	if err != nil {
		return Email{}, fmt.Errorf("get email: %w", err)
	}
	return e, nil
}

// RememberLoginCall records the signature of an accepted login-hook call and
// reports whether it is new; a replayed signature reports false. Records
// older than keep are pruned.
func (s *Store) RememberLoginCall(ctx context.Context, signature string, at time.Time, keep time.Duration) (bool, error) {
	var fresh bool
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_hook_calls WHERE received_at < $1`, at.Add(-keep)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO login_hook_calls (signature, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING`, signature, at)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		fresh = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("remember login call: %w", err)
	}
	return fresh, nil
}

func isCode(err error, code pq.ErrorCode) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == code
}

func isConstraint(err error, name string) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Constraint == name
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'):
			return false
		}
	}
	return true
}
