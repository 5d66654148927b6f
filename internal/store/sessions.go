package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// Session is a signed-in member of staff. Its id is known only to the
// browser holding it; the store keeps a hash.
type Session struct {
	StaffID    string
	CSRF       string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func hashSecret(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// CreateSession records a new session for a member of staff, under a
// fresh id the caller made, and prunes the expired ones.
func (s *Store) CreateSession(ctx context.Context, id, staffID, csrf, addr, userAgent string, at, expires time.Time) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, staff_id, csrf, created_at, last_seen_at, expires_at, addr, user_agent)
			VALUES ($1, $2, $3, $4, $4, $5, $6, $7)`, hashSecret(id), staffID, csrf, at, expires, addr, userAgent)
		return err
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// TouchSession returns the live session with this id and its member of
// staff (with the partner's partner status), and marks it seen at `at`
// when its last mark is older than a minute, or than a tenth of the idle
// limit if that is shorter — all in one statement: writes are spared, and
// a session in use is never found idle more than a tenth of the limit
// early. A session past its absolute expiry, idle since before idleSince,
// or whose member was removed is ended and domain.ErrNotFound returned.
func (s *Store) TouchSession(ctx context.Context, id string, at, idleSince time.Time) (Session, domain.Staff, error) {
	var r struct {
		staffRow
		CSRF         string    `db:"csrf"`
		SessCreated  time.Time `db:"session_created_at"`
		LastSeenAt   time.Time `db:"last_seen_at"`
		ExpiresAt    time.Time `db:"expires_at"`
		SessionStaff string    `db:"staff_id"`
	}
	h := hashSecret(id)
	touchBefore := at.Add(-min(time.Minute, at.Sub(idleSince)/10))
	err := s.db.GetContext(ctx, &r, `
		WITH touched AS (
			UPDATE sessions SET last_seen_at = $2
			WHERE id_hash = $1 AND last_seen_at < $4 AND last_seen_at >= $3 AND expires_at > $2)
		SELECT se.staff_id, se.csrf, se.created_at AS session_created_at, se.last_seen_at, se.expires_at, `+staffColumns+`
		FROM sessions se JOIN staff st ON st.id = se.staff_id AND st.removed_at IS NULL JOIN partners p ON p.id = st.partner_id
		WHERE se.id_hash = $1`, h, at, idleSince, touchBefore)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, domain.Staff{}, notFound("session")
	}
	if err != nil {
		return Session{}, domain.Staff{}, fmt.Errorf("get session: %w", err)
	}
	if !at.Before(r.ExpiresAt) || r.LastSeenAt.Before(idleSince) {
		_ = s.EndSession(ctx, id)
		return Session{}, domain.Staff{}, notFound("live session")
	}
	sess := Session{StaffID: r.SessionStaff, CSRF: r.CSRF, CreatedAt: r.SessCreated.UTC(), LastSeenAt: r.LastSeenAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
	if r.LastSeenAt.Before(touchBefore) {
		sess.LastSeenAt = at.UTC() // the statement's update
	}
	return sess, r.staffRow.domain(), nil
}

// EndSession ends a session on the server: its cookie opens nothing
// afterwards, even if it was copied.
func (s *Store) EndSession(ctx context.Context, id string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, hashSecret(id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// SetFlash keeps a flash for the session's next page, in place of any
// flash that waits; sealed is opaque to the store. A session that has
// ended is domain.ErrNotFound.
func (s *Store) SetFlash(ctx context.Context, id string, sealed []byte) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET flash = $2 WHERE id_hash = $1`, hashSecret(id), sealed)
	if err != nil {
		return fmt.Errorf("set flash: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return notFound("session")
	}
	return nil
}

// TakeFlash returns the session's flash and removes it, in one statement:
// of two pages asking at once, one gets it. No flash is domain.ErrNotFound.
func (s *Store) TakeFlash(ctx context.Context, id string) ([]byte, error) {
	var sealed []byte
	// The row is locked first, so that a second taker waits and then finds
	// the flash gone.
	err := s.db.GetContext(ctx, &sealed, `
		WITH old AS (SELECT id_hash, flash FROM sessions WHERE id_hash = $1 FOR UPDATE)
		UPDATE sessions se SET flash = NULL FROM old
		WHERE se.id_hash = old.id_hash AND old.flash IS NOT NULL
		RETURNING old.flash`, hashSecret(id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("flash")
	}
	if err != nil {
		return nil, fmt.Errorf("take flash: %w", err)
	}
	return sealed, nil
}

// Login is one sign-in under way: what the callback must check.
type Login struct {
	State    string
	Verifier string
	Nonce    string
	ReturnTo string
}

type loginRow struct {
	State    string `db:"state"`
	Verifier string `db:"verifier"`
	Nonce    string `db:"nonce"`
	ReturnTo string `db:"return_to"`
}

// StartLogin records a sign-in under way and prunes the stale ones.
func (s *Store) StartLogin(ctx context.Context, l Login, at time.Time, keep time.Duration) error {
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM oidc_logins WHERE created_at < $1`, at.Add(-keep)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO oidc_logins (state, verifier, nonce, return_to, created_at) VALUES ($1, $2, $3, $4, $5)`,
			l.State, l.Verifier, l.Nonce, l.ReturnTo, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("start login: %w", err)
	}
	return nil
}

// FinishLogin takes the sign-in of a state, once: a replayed callback
// finds nothing. Older than keep, it is gone too.
func (s *Store) FinishLogin(ctx context.Context, state string, at time.Time, keep time.Duration) (Login, error) {
	var l loginRow
	err := s.db.GetContext(ctx, &l, `DELETE FROM oidc_logins WHERE state = $1 AND created_at >= $2 RETURNING state, verifier, nonce, return_to`,
		state, at.Add(-keep))
	if errors.Is(err, sql.ErrNoRows) {
		return Login{}, notFound("login")
	}
	if err != nil {
		return Login{}, fmt.Errorf("finish login: %w", err)
	}
	return Login(l), nil
}
