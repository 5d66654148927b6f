package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

type staffRow struct {
	ID            string       `db:"id"`
	PartnerID     string       `db:"partner_id"`
	Email         string       `db:"email"`
	Name          string       `db:"name"`
	Role          string       `db:"role"`
	PersonalData  bool         `db:"personal_data"`
	CreatedAt     time.Time    `db:"created_at"`
	CreatedBy     string       `db:"created_by"`
	LastLoginAt   sql.NullTime `db:"last_login_at"`
	PartnerName   string       `db:"partner_name"`
	PartnerStatus bool         `db:"partner_status"`
}

func (r staffRow) domain() domain.Staff {
	return domain.Staff{ID: r.ID, PartnerID: r.PartnerID, PartnerName: r.PartnerName, PartnerStatus: r.PartnerStatus,
		Email: r.Email, Name: r.Name, Role: r.Role, PersonalData: r.PersonalData, CreatedAt: r.CreatedAt.UTC(),
		CreatedBy: r.CreatedBy, LastLoginAt: timePtr(r.LastLoginAt)}
}

const staffColumns = `st.id, st.partner_id, st.email, st.name, st.role, st.personal_data, st.created_at, st.created_by,
	st.last_login_at, p.name AS partner_name, p.partner_status`

const staffSelect = `SELECT ` + staffColumns + ` FROM staff st JOIN partners p ON p.id = st.partner_id`

// NewStaff is a person to add to a partner's staff.
type NewStaff struct {
	ID           string // decided by the caller
	PartnerID    string
	Email        string
	Role         string
	PersonalData bool
	CreatedBy    string
}

// emailKey is how staff emails are compared: case does not matter.
func emailKey(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// AddStaff adds a person to a partner's staff. Adding the same email to the
// same partner again changes the role and the personal-data permission; an
// email on another partner's staff is refused with domain.ErrStaffTaken.
func (s *Store) AddStaff(ctx context.Context, n NewStaff, nt Note[domain.Staff]) (domain.Staff, error) {
	if err := domain.ValidateStaff(n.Email, n.Role); err != nil {
		return domain.Staff{}, fmt.Errorf("add staff: %w", err)
	}
	var added domain.Staff
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		id, err := addStaff(ctx, tx, n)
		if err != nil {
			return err
		}
		if added, err = oneStaff(ctx, tx, liveStaff, id, n.PartnerID); err != nil {
			return err
		}
		return note(ctx, tx, nt, added)
	})
	switch {
	case isConstraint(err, "staff_partner_id_fkey"):
		return domain.Staff{}, domain.UnknownPartner(n.PartnerID)
	case isConstraint(err, "staff_email"):
		return domain.Staff{}, fmt.Errorf("add staff: %w", domain.ErrStaffTaken)
	case err != nil:
		return domain.Staff{}, fmt.Errorf("add staff: %w", err)
	}
	return added, nil
}

// addStaff inserts the person, or changes the partner's member with their
// email, and returns the member's id.
func addStaff(ctx context.Context, tx *sqlx.Tx, n NewStaff) (string, error) {
	var id string
	err := func() error {
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM partners WHERE id = $1 FOR SHARE`, n.PartnerID); err != nil {
			return err
		}
		var cur struct {
			ID        string `db:"id"`
			PartnerID string `db:"partner_id"`
		}
		err := tx.GetContext(ctx, &cur, `SELECT id, partner_id FROM staff WHERE email_key = $1 AND removed_at IS NULL FOR UPDATE`, emailKey(n.Email))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			id = n.ID
			_, err = tx.ExecContext(ctx, `INSERT INTO staff (id, partner_id, email, email_key, role, personal_data, created_by)
				VALUES ($1, $2, $3, $4, $5, $6, $7)`, n.ID, n.PartnerID, strings.TrimSpace(n.Email), emailKey(n.Email), n.Role, n.PersonalData, n.CreatedBy)
			return err
		case err != nil:
			return err
		case cur.PartnerID != n.PartnerID:
			return domain.ErrStaffTaken
		}
		id = cur.ID
		_, err = tx.ExecContext(ctx, `UPDATE staff SET role = $2, personal_data = $3 WHERE id = $1`, cur.ID, n.Role, n.PersonalData)
		return err
	}()
	return id, err
}

// liveStaff selects a member by id ($1) who has not been removed, in a
// partner's scope ($2; "": any partner's).
const liveStaff = ` WHERE st.id = $1 AND st.removed_at IS NULL AND ($2 = '' OR st.partner_id = $2)`

// StaffByID returns one of the partner's members of staff (scope "": any
// partner's) who has not been removed, or domain.ErrNotFound.
func (s *Store) StaffByID(ctx context.Context, scope, id string) (domain.Staff, error) {
	if !isUUID(id) {
		return domain.Staff{}, notFound("staff %q", text.Truncate(id, 80))
	}
	return oneStaff(ctx, s.db, liveStaff, id, scope)
}

func oneStaff(ctx context.Context, q sqlx.QueryerContext, where string, args ...any) (domain.Staff, error) {
	var st staffRow
	err := sqlx.GetContext(ctx, q, &st, staffSelect+where, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.Staff{}, notFound("staff")
	}
	if err != nil {
		return domain.Staff{}, fmt.Errorf("get staff: %w", err)
	}
	return st.domain(), nil
}

// SignIn finds the member of staff an identity provider vouched for: by the
// subject recorded at an earlier sign-in, else by verified email — and
// then records the subject, so that a later change of email at the
// provider does not lock the person out, and a reused email cannot take
// over another's account. domain.ErrNotFound when the person is on no
// partner's staff.
func (s *Store) SignIn(ctx context.Context, issuer, subject, email string, at time.Time, n Note[domain.Staff]) (domain.Staff, error) {
	var id string
	var st domain.Staff
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &id, `SELECT id FROM staff WHERE issuer = $1 AND subject = $2 AND removed_at IS NULL`, issuer, subject)
		if errors.Is(err, sql.ErrNoRows) {
			err = tx.GetContext(ctx, &id, `SELECT id FROM staff WHERE email_key = $1 AND subject IS NULL AND removed_at IS NULL FOR UPDATE`, emailKey(email))
		}
		if errors.Is(err, sql.ErrNoRows) {
			return domain.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE staff SET issuer = $2, subject = $3, last_login_at = $4 WHERE id = $1`, id, issuer, subject, at); err != nil {
			return err
		}
		if st, err = oneStaff(ctx, tx, liveStaff, id, ""); err != nil {
			return err
		}
		return note(ctx, tx, n, st)
	})
	if err != nil {
		return domain.Staff{}, fmt.Errorf("sign in: %w", err)
	}
	return st, nil
}

// ListStaff lists a partner's staff by email.
func (s *Store) ListStaff(ctx context.Context, partnerID string) ([]domain.Staff, error) {
	var rows []staffRow
	if err := s.db.SelectContext(ctx, &rows, staffSelect+` WHERE st.partner_id = $1 AND st.removed_at IS NULL ORDER BY st.email_key`, partnerID); err != nil {
		return nil, fmt.Errorf("list staff: %w", err)
	}
	out := make([]domain.Staff, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}

// RemoveStaff removes a member of a partner's staff and ends their sessions;
// the row stays for audit. Removing the partner's last owner is refused
// with domain.ErrLastOwner. It returns who was removed.
func (s *Store) RemoveStaff(ctx context.Context, partnerID, id string, at time.Time, n Note[domain.Staff]) (domain.Staff, error) {
	if !isUUID(id) {
		return domain.Staff{}, notFound("staff %q", text.Truncate(id, 80))
	}
	var st staffRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &st, staffSelect+` WHERE st.id = $1 AND st.partner_id = $2 AND st.removed_at IS NULL FOR UPDATE OF st`, id, partnerID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("staff %s", id)
		}
		if err != nil {
			return err
		}
		if err := keepAnOwner(ctx, tx, partnerID, id, st.Role); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE staff SET removed_at = $2 WHERE id = $1`, id, at); err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE staff_id = $1`, id); err != nil {
			return err
		}
		return note(ctx, tx, n, st.domain())
	})
	if err != nil {
		return domain.Staff{}, fmt.Errorf("remove staff: %w", err)
	}
	return st.domain(), nil
}

// keepAnOwner refuses to take away the partner's last owner.
func keepAnOwner(ctx context.Context, tx *sqlx.Tx, partnerID, id, role string) error {
	if role != domain.StaffOwner {
		return nil
	}
	var others int
	if err := tx.GetContext(ctx, &others, `SELECT count(*) FROM staff WHERE partner_id = $1 AND role = 'owner' AND removed_at IS NULL AND id <> $2`,
		partnerID, id); err != nil {
		return err
	}
	if others == 0 {
		return domain.ErrLastOwner
	}
	return nil
}

// SetStaffRole changes a member's role and personal-data permission. Taking
// the owner role from the partner's last owner is refused with
// domain.ErrLastOwner.
func (s *Store) SetStaffRole(ctx context.Context, partnerID, id, role string, personalData bool, n Note[domain.Staff]) (domain.Staff, error) {
	if !isUUID(id) {
		return domain.Staff{}, notFound("staff %q", text.Truncate(id, 80))
	}
	if err := domain.ValidateRole(role); err != nil {
		return domain.Staff{}, err
	}
	var changed domain.Staff
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		var cur string
		err := tx.GetContext(ctx, &cur, `SELECT role FROM staff WHERE id = $1 AND partner_id = $2 AND removed_at IS NULL FOR UPDATE`, id, partnerID)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("staff %s", id)
		}
		if err != nil {
			return err
		}
		if role != domain.StaffOwner {
			if err := keepAnOwner(ctx, tx, partnerID, id, cur); err != nil {
				return err
			}
		}
		if _, err = tx.ExecContext(ctx, `UPDATE staff SET role = $2, personal_data = $3 WHERE id = $1`, id, role, personalData); err != nil {
			return err
		}
		if changed, err = oneStaff(ctx, tx, liveStaff, id, partnerID); err != nil {
			return err
		}
		return note(ctx, tx, n, changed)
	})
	if err != nil {
		return domain.Staff{}, fmt.Errorf("set staff role: %w", err)
	}
	return changed, nil
}
