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

// subaccountRow is one subaccount as subaccountSelect reads it.
type subaccountRow struct {
	ID              string         `db:"id"`
	PartnerID       string         `db:"partner_id"`
	PartnerName     string         `db:"partner_name"`
	OnboardingID    string         `db:"onboarding_id"`
	RunID           string         `db:"run_id"`
	Name            string         `db:"name"`
	Email           string         `db:"email"`
	Contact         string         `db:"contact"`
	CloudName       string         `db:"cloud_name"`
	Status          string         `db:"status"`
	ConfirmDeadline time.Time      `db:"confirm_deadline"`
	CreatedAt       time.Time      `db:"created_at"`
	UpdatedAt       time.Time      `db:"updated_at"`
	ActivatedAt     sql.NullTime   `db:"activated_at"`
	DeletedAt       sql.NullTime   `db:"deleted_at"`
	DeletedReason   string         `db:"deleted_reason"`
	OrganizationID  string         `db:"organization_id"`
	CloudID         string         `db:"cloud_id"`
	Clouds          int            `db:"clouds"`
	EmailsSent      int            `db:"emails_sent"`
	LastSentAt      sql.NullTime   `db:"last_sent_at"`
	Answer          string         `db:"answer"`
	AnswerVia       string         `db:"answer_via"`
	AnsweredAt      sql.NullTime   `db:"answered_at"`
	SuspensionID    string         `db:"suspension_id"`
	SuspendedAt     sql.NullTime   `db:"suspended_at"`
	DeleteAfter     sql.NullTime   `db:"delete_after"`
	SuspendReason   string         `db:"suspend_reason"`
	ResendAfterMS   int64          `db:"resend_after_ms"`
	MaxSends        int            `db:"max_sends"`
	CloudList       sql.NullString `db:"cloud_list"`   // only in the detail: the clouds as JSON
	PendingList     sql.NullString `db:"pending_list"` // only in the detail: the pending requests as JSON
}

func (r subaccountRow) domain() domain.Subaccount {
	return domain.Subaccount{
		ID: r.ID, PartnerID: r.PartnerID, PartnerName: r.PartnerName, OnboardingID: r.OnboardingID, RunID: r.RunID,
		Name: r.Name, Email: r.Email, Contact: r.Contact, CloudName: r.CloudName, Status: r.Status,
		ConfirmDeadline: r.ConfirmDeadline.UTC(), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		ActivatedAt: timePtr(r.ActivatedAt), DeletedAt: timePtr(r.DeletedAt), DeletedReason: r.DeletedReason,
		OrganizationID: r.OrganizationID, CloudID: r.CloudID, Clouds: r.Clouds, EmailsSent: r.EmailsSent,
		LastSentAt: timePtr(r.LastSentAt), Answer: r.Answer, AnswerVia: r.AnswerVia, AnsweredAt: timePtr(r.AnsweredAt),
		SuspensionID: r.SuspensionID, SuspendedAt: timePtr(r.SuspendedAt), DeleteAfter: timePtr(r.DeleteAfter),
		SuspendReason: r.SuspendReason, ResendAfter: time.Duration(r.ResendAfterMS) * time.Millisecond, MaxSends: r.MaxSends,
	}
}

// subaccountColumns are the columns of a subaccount with its partner's
// name, organization, first cloud, counts, answer and open suspension.
const subaccountColumns = `
	s.id, s.partner_id, p.name AS partner_name, s.onboarding_id, s.run_id, s.name, s.email, s.contact,
	s.cloud_name, s.status, s.confirm_deadline, s.created_at, s.updated_at, s.activated_at,
	s.deleted_at, COALESCE(s.deleted_reason, '') AS deleted_reason, o.id AS organization_id,
	COALESCE((SELECT c.id::text FROM clouds c WHERE c.organization_id = o.id ORDER BY c.created_at, c.id LIMIT 1), '') AS cloud_id,
	(SELECT count(*) FROM clouds c WHERE c.organization_id = o.id) AS clouds,
	(SELECT count(*) FROM emails e WHERE e.subaccount_id = s.id) AS emails_sent,
	(SELECT max(e.sent_at) FROM emails e WHERE e.subaccount_id = s.id) AS last_sent_at,
	COALESCE(s.answer, '') AS answer, COALESCE(s.answer_via, '') AS answer_via, s.answered_at,
	COALESCE(sp.id::text, '') AS suspension_id, sp.suspended_at, sp.delete_after, COALESCE(sp.reason, '') AS suspend_reason,
	COALESCE(s.resend_after_ms, 0) AS resend_after_ms, COALESCE(s.max_sends, 0) AS max_sends`

const subaccountFrom = `
	FROM subaccounts s
	JOIN partners p ON p.id = s.partner_id
	JOIN organizations o ON o.subaccount_id = s.id
	LEFT JOIN suspensions sp ON sp.subaccount_id = s.id AND sp.resumed_at IS NULL AND sp.expired_at IS NULL`

const subaccountSelect = `SELECT ` + subaccountColumns + subaccountFrom

// inScope is the partner scope of every read by id: $n is the partner, or
// ” for every partner (operators, and the system's own work).
func inScope(n int) string { return fmt.Sprintf(" AND ($%d = '' OR s.partner_id = $%d)", n, n) }

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
	// The resend rules the onboarding was launched with (zero: not known).
	ResendAfter time.Duration
	MaxSends    int
	// Launch is the audit event of the launch that asked for the record
	// (its partner, customer and key filled in here), written with it;
	// nil for onboardings launched before launches carried it.
	Launch *domain.AuditEvent
}

// CreateCustomer creates, atomically, the subaccount (ACCEPTANCE_REQUIRED),
// its organization, the four default role bindings and the launch's audit
// event. Calling it again with
// the same subaccount id returns the record already written.
func (s *Store) CreateCustomer(ctx context.Context, c NewCustomer) (domain.Subaccount, error) {
	if err := domain.Validate(c.Name, c.Email, c.CloudName, c.Contact); err != nil {
		return domain.Subaccount{}, fmt.Errorf("create customer: %w", err)
	}
	if c.SubaccountID == "" || c.OrganizationID == "" || c.OnboardingID == "" || c.Deadline.IsZero() {
		return domain.Subaccount{}, fmt.Errorf("create customer: subaccount id, organization id, onboarding id and deadline are required: %w", domain.ErrInvalid)
	}
	key := domain.NameKey(c.Name)
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkPartner(ctx, tx, c.PartnerID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO subaccounts (id, partner_id, onboarding_id, run_id, name, name_key, email, contact, cloud_name, confirm_deadline,
			                         resend_after_ms, max_sends)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULLIF($11, 0), NULLIF($12, 0))
			ON CONFLICT (id) DO NOTHING`,
			c.SubaccountID, c.PartnerID, c.OnboardingID, c.RunID, c.Name, key, c.Email, c.Contact, c.CloudName, c.Deadline,
			c.ResendAfter.Milliseconds(), c.MaxSends); err != nil {
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
			return fmt.Errorf("subaccount %s: %w", c.SubaccountID, domain.ErrIDConflict)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO organizations (id, subaccount_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			c.OrganizationID, c.SubaccountID, domain.OrganizationName(c.Name)); err != nil {
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
			c.PartnerID, c.SubaccountID, domain.RoleBillingOwner, c.SubaccountID, domain.RoleOrgOwner, orgID, domain.RoleAdmin)
		if err != nil || c.Launch == nil {
			return err
		}
		e := *c.Launch
		e.PartnerID, e.SubaccountID, e.OnboardingID, e.Key = c.PartnerID, c.SubaccountID, c.OnboardingID, "create/"+c.SubaccountID
		return audit(ctx, tx, e)
	})
	switch {
	case isConstraint(err, "subaccounts_live_name"):
		// Another transaction may have just written this very record; if so,
		// this call is a repeat and returns it.
		if sa, gerr := s.Subaccount(ctx, "", c.SubaccountID); gerr == nil && sa.PartnerID == c.PartnerID && domain.NameKey(sa.Name) == key {
			return sa, nil
		}
		return domain.Subaccount{}, fmt.Errorf("create customer %q: %w", c.Name, domain.ErrNameTaken)
	case isCode(err, codeUniqueViolation) && !isConstraint(err, "subaccounts_pkey"):
		return domain.Subaccount{}, fmt.Errorf("create customer: %w", domain.ErrIDConflict)
	case err != nil:
		return domain.Subaccount{}, fmt.Errorf("create customer: %w", err)
	}
	return s.Subaccount(ctx, "", c.SubaccountID)
}

// Subaccount returns one subaccount of the partner (scope "": of any
// partner), or domain.ErrNotFound — for another partner's id too, from
// the WHERE itself.
func (s *Store) Subaccount(ctx context.Context, scope, id string) (domain.Subaccount, error) {
	return getSubaccount(ctx, s.db, scope, id)
}

func getSubaccount(ctx context.Context, q sqlx.QueryerContext, scope, id string) (domain.Subaccount, error) {
	if !isUUID(id) {
		return domain.Subaccount{}, notFound("customer %q", text.Truncate(id, 80))
	}
	return oneSubaccount(ctx, q, "customer "+id, subaccountSelect+` WHERE s.id = $1`+inScope(2), id, scope)
}

// oneSubaccount reads the subaccount a query selects, or domain.ErrNotFound.
func oneSubaccount(ctx context.Context, q sqlx.QueryerContext, what, query string, args ...any) (domain.Subaccount, error) {
	var r subaccountRow
	err := sqlx.GetContext(ctx, q, &r, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Subaccount{}, notFound("%s", what)
	}
	if err != nil {
		return domain.Subaccount{}, fmt.Errorf("get customer: %w", err)
	}
	return r.domain(), nil
}

// Customer returns the subaccount a reference names — its id, or the
// onboarding id that created it (the newest such) — among the partner's
// (scope "": any partner's), with its clouds and its pending requests, in
// one query; or domain.ErrNotFound.
func (s *Store) Customer(ctx context.Context, scope, ref string) (domain.Subaccount, []domain.Cloud, error) {
	query := `SELECT ` + subaccountColumns + `,
		(SELECT json_agg(json_build_object('id', c.id, 'organization_id', c.organization_id, 'name', c.name, 'created_at', c.created_at)
		        ORDER BY c.created_at, c.id) FROM clouds c WHERE c.organization_id = o.id) AS cloud_list, ` + pendingList + subaccountFrom
	if isUUID(ref) {
		query += ` WHERE s.id = $1` + inScope(2)
	} else {
		query += ` WHERE s.onboarding_id = $1` + inScope(2) + ` ORDER BY s.created_at DESC LIMIT 1`
	}
	var r subaccountRow
	err := s.db.GetContext(ctx, &r, query, ref, scope)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Subaccount{}, nil, notFound("customer %q", text.Truncate(ref, 80))
	}
	if err != nil {
		return domain.Subaccount{}, nil, fmt.Errorf("get customer: %w", err)
	}
	clouds := []domain.Cloud{}
	if r.CloudList.Valid {
		var rows []struct {
			ID             string    `json:"id"`
			OrganizationID string    `json:"organization_id"`
			Name           string    `json:"name"`
			CreatedAt      time.Time `json:"created_at"`
		}
		if err := json.Unmarshal([]byte(r.CloudList.String), &rows); err != nil {
			return domain.Subaccount{}, nil, fmt.Errorf("get customer: clouds: %w", err)
		}
		for _, c := range rows {
			clouds = append(clouds, domain.Cloud{ID: c.ID, OrganizationID: c.OrganizationID, Name: c.Name, CreatedAt: c.CreatedAt.UTC()})
		}
	}
	sa := r.domain()
	if sa.Pending, err = pendingOf(r.PendingList, sa.ID); err != nil {
		return domain.Subaccount{}, nil, fmt.Errorf("get customer: %w", err)
	}
	return sa, clouds, nil
}

// SubaccountByOnboarding returns the newest subaccount an onboarding
// created, among the partner's (scope "": any partner's).
func (s *Store) SubaccountByOnboarding(ctx context.Context, scope, onboardingID string) (domain.Subaccount, error) {
	return oneSubaccount(ctx, s.db, fmt.Sprintf("onboarding %q", text.Truncate(onboardingID, 80)),
		subaccountSelect+` WHERE s.onboarding_id = $1`+inScope(2)+` ORDER BY s.created_at DESC LIMIT 1`, onboardingID, scope)
}

// LiveSubaccount returns the partner's subaccount for a customer name that is
// not deleted (any status but INACTIVE), or domain.ErrNotFound. Names are
// compared as domain.NameKey does, so "ACME  Corp" finds "acme corp".
func (s *Store) LiveSubaccount(ctx context.Context, partnerID, customerName string) (domain.Subaccount, error) {
	return oneSubaccount(ctx, s.db, fmt.Sprintf("live customer %q of partner %q", text.Truncate(customerName, 80), partnerID), subaccountSelect+`
		WHERE s.partner_id = $1 AND s.name_key = $2 AND s.status <> 'INACTIVE'
		ORDER BY s.created_at DESC LIMIT 1`, partnerID, domain.NameKey(customerName))
}

// EditSubaccount changes every given field but the name, which it refuses,
// of one of the partner's subaccounts (scope "": any partner's). Role
// bindings never change. Editing a deleted subaccount is refused, and so
// is the cloud name once the cloud exists.
func (s *Store) EditSubaccount(ctx context.Context, scope, id string, e domain.Edit, n Note[domain.Subaccount]) (domain.Subaccount, error) {
	if err := e.Validate(); err != nil {
		return domain.Subaccount{}, fmt.Errorf("edit customer: %w", err)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, scope, id)
		if err != nil {
			return err
		}
		if sa.Status == domain.StatusInactive {
			return domain.ErrDeleted
		}
		if e.CloudName != nil && sa.CloudID != "" && *e.CloudName != sa.CloudName {
			return domain.Invalidf("cloud", "the cloud has already been created; its name can no longer change")
		}
		if _, err = tx.ExecContext(ctx, `
			UPDATE subaccounts SET email = COALESCE($2, email), contact = COALESCE($3, contact),
			       cloud_name = COALESCE($4, cloud_name), updated_at = now()
			WHERE id = $1`, sa.ID, e.Email, e.Contact, e.CloudName); err != nil {
			return err
		}
		return note(ctx, tx, n, sa)
	})
	if err != nil {
		return domain.Subaccount{}, fmt.Errorf("edit customer: %w", err)
	}
	return s.Subaccount(ctx, scope, id)
}

// lockSubaccount locks one of the partner's subaccount rows for the
// transaction and reads it.
func lockSubaccount(ctx context.Context, tx *sqlx.Tx, scope, id string) (domain.Subaccount, error) {
	if !isUUID(id) {
		return domain.Subaccount{}, notFound("customer %q", text.Truncate(id, 80))
	}
	var locked int
	err := tx.GetContext(ctx, &locked, `SELECT 1 FROM subaccounts s WHERE s.id = $1`+inScope(2)+` FOR UPDATE`, id, scope)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Subaccount{}, notFound("customer %s", id)
	}
	if err != nil {
		return domain.Subaccount{}, err
	}
	return getSubaccount(ctx, tx, scope, id)
}

// Activate marks a confirmed subaccount ACTIVE. Activating an active one
// returns it unchanged; a deleted one is refused with domain.ErrDeleted.
func (s *Store) Activate(ctx context.Context, id string, at time.Time) (domain.Subaccount, error) {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, "", id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case domain.StatusActive, domain.StatusSuspended:
			return nil
		case domain.StatusInactive:
			return domain.ErrDeleted
		}
		_, err = tx.ExecContext(ctx, `UPDATE subaccounts SET status = 'ACTIVE', activated_at = $2, updated_at = now() WHERE id = $1`, id, at)
		return err
	})
	if err != nil {
		return domain.Subaccount{}, fmt.Errorf("activate customer: %w", err)
	}
	return s.Subaccount(ctx, "", id)
}

// Delete deletes an unconfirmed subaccount: status INACTIVE, its organization
// deleted and its role bindings revoked, each marked with the time; rows stay
// for audit. Deleting a deleted one returns it unchanged; a confirmed one is
// refused with domain.ErrConfirmed.
func (s *Store) Delete(ctx context.Context, id, reason string, at time.Time) (domain.Subaccount, error) {
	return s.deleteUnconfirmed(ctx, id, reason, at, false)
}

// Expire is the deletion at the confirmation deadline, unless the customer
// answered: the answer in the row is the customer's, taken before the
// deadline, even if its signal never reached the workflow (Temporal was
// away when they pressed the button). A confirmation recorded keeps the
// subaccount (Answer says so, and the workflow carries it out); a decline
// recorded deletes it as DECLINED; no answer deletes it as EXPIRED.
func (s *Store) Expire(ctx context.Context, id string, at time.Time) (domain.Subaccount, error) {
	return s.deleteUnconfirmed(ctx, id, domain.ReasonExpired, at, true)
}

func (s *Store) deleteUnconfirmed(ctx context.Context, id, reason string, at time.Time, unlessAnswered bool) (domain.Subaccount, error) {
	switch reason {
	case domain.ReasonExpired, domain.ReasonCancelled, domain.ReasonFailed, domain.ReasonDeclined:
	default:
		return domain.Subaccount{}, fmt.Errorf("delete customer: reason %q: %w", reason, domain.ErrInvalid)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, "", id)
		if err != nil {
			return err
		}
		switch sa.Status {
		case domain.StatusInactive:
			return nil
		case domain.StatusActive, domain.StatusSuspended:
			return domain.ErrConfirmed
		}
		if unlessAnswered {
			switch sa.Answer {
			case domain.AnswerConfirm:
				return nil // kept: the workflow activates it
			case domain.AnswerDecline:
				reason = domain.ReasonDeclined // audited with the answer
			}
		}
		if err := deleteRecord(ctx, tx, id, reason, at); err != nil {
			return err
		}
		// A deletion nobody asked for is the system's action, in the log
		// with it: the partner's cancel and the customer's decline are
		// recorded with the request and the answer that caused them.
		if reason != domain.ReasonExpired && reason != domain.ReasonFailed {
			return nil
		}
		what := map[string]string{domain.ReasonExpired: "the customer did not confirm in time",
			domain.ReasonFailed: "the onboarding failed"}[reason]
		return audit(ctx, tx, domain.AuditEvent{At: at, PartnerID: sa.PartnerID, ActorKind: domain.ActorSystem, ActorID: "onboarding",
			Action: "delete customer", SubaccountID: id, OnboardingID: sa.OnboardingID, Outcome: domain.OutcomeDone,
			Detail: reason + ": " + what, Key: "delete/" + id})
	})
	if err != nil {
		return domain.Subaccount{}, fmt.Errorf("delete customer: %w", err)
	}
	return s.Subaccount(ctx, "", id)
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

// Answer records the customer's answer to an invitation — CONFIRM or
// DECLINE, via the link or the login hook — in one statement: the token's
// subaccount and deadline, the state (awaiting confirmation, deadline not
// passed, no other answer) and the decision are all in its WHERE, so of a
// confirm and a decline racing exactly one is recorded. The same answer
// again is recorded as the first (first false), so that a page retried
// after a failure delivers it. When nothing is recorded, ok is false and
// the subaccount is returned as it stands, for the caller to say why
// (domain.ErrNotFound when there is none).
func (s *Store) Answer(ctx context.Context, id string, tokenDeadline time.Time, answer, via string, at time.Time) (sa domain.Subaccount, first, ok bool, err error) {
	if (answer != domain.AnswerConfirm && answer != domain.AnswerDecline) || (via != domain.ViaLink && via != domain.ViaLogin) {
		return domain.Subaccount{}, false, false, fmt.Errorf("record answer %q via %q: %w", answer, via, domain.ErrInvalid)
	}
	if !isUUID(id) {
		return domain.Subaccount{}, false, false, notFound("customer %q", text.Truncate(id, 80))
	}
	var r struct {
		subaccountRow
		First bool `db:"first"`
	}
	// The customer's answer is their action: its audit event is written by
	// the same statement, once (its key), when the answer is first taken.
	err = s.db.GetContext(ctx, &r, `
		WITH a AS (
			UPDATE subaccounts s SET answer = $2, answer_via = COALESCE(s.answer_via, $3), answered_at = COALESCE(s.answered_at, $4)
			FROM partners p
			WHERE s.id = $1 AND p.id = s.partner_id AND s.status = 'ACCEPTANCE_REQUIRED' AND (s.answer IS NULL OR s.answer = $2)
			  AND s.confirm_deadline > $4 AND floor(extract(epoch FROM s.confirm_deadline)) = $5
			RETURNING s.id, s.partner_id, p.name AS partner_name, s.onboarding_id, s.run_id, s.name, s.cloud_name, s.status,
			          s.confirm_deadline, s.created_at, s.updated_at, s.answer, COALESCE(s.answer_via, '') AS answer_via, s.answered_at,
			          s.answered_at = $4 AS first),
		logged AS (
			INSERT INTO audit_events (at, partner_id, actor_kind, actor_id, action, subaccount_id, onboarding_id, outcome, detail, key)
			SELECT $4, a.partner_id, 'customer', 'the customer', lower($2), a.id, a.onboarding_id, 'done', 'via ' || $3, 'answer/' || a.id
			FROM a WHERE a.first
			ON CONFLICT (key) WHERE key IS NOT NULL DO NOTHING)
		SELECT * FROM a`, id, answer, via, at, tokenDeadline.Unix())
	switch {
	case err == nil:
		return r.domain(), r.First, true, nil
	case !errors.Is(err, sql.ErrNoRows):
		return domain.Subaccount{}, false, false, fmt.Errorf("record answer: %w", err)
	}
	sa, err = s.Subaccount(ctx, "", id)
	return sa, false, false, err
}
