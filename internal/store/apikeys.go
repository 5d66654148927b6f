package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

type apiKeyRow struct {
	ID         string       `db:"id"`
	PartnerID  string       `db:"partner_id"`
	Name       string       `db:"name"`
	Role       string       `db:"role"`
	Prefix     string       `db:"prefix"`
	CreatedBy  string       `db:"created_by"`
	CreatedAt  time.Time    `db:"created_at"`
	LastUsedAt sql.NullTime `db:"last_used_at"`
	RevokedAt  sql.NullTime `db:"revoked_at"`
}

func (r apiKeyRow) domain() domain.APIKey {
	return domain.APIKey{ID: r.ID, PartnerID: r.PartnerID, Name: r.Name, Role: r.Role, Prefix: r.Prefix, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt.UTC(), LastUsedAt: timePtr(r.LastUsedAt), RevokedAt: timePtr(r.RevokedAt)}
}

const apiKeyColumns = `k.id, k.partner_id, k.name, k.role, k.prefix, k.created_by, k.created_at, k.last_used_at, k.revoked_at`

// CreateAPIKey records a key by the hash of its secret; the secret itself
// is never stored.
func (s *Store) CreateAPIKey(ctx context.Context, k domain.APIKey, secret string, n Note[domain.APIKey]) (domain.APIKey, error) {
	if err := domain.ValidateRole(k.Role); err != nil {
		return domain.APIKey{}, err
	}
	var out apiKeyRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &out, `INSERT INTO api_keys AS k (id, partner_id, name, role, hash, prefix, created_by)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+apiKeyColumns, k.ID, k.PartnerID, k.Name, k.Role, hashSecret(secret), k.Prefix, k.CreatedBy); err != nil {
			return err
		}
		return note(ctx, tx, n, out.domain())
	})
	if isCode(err, codeCheckViolation) {
		return domain.APIKey{}, domain.Invalidf("name", "want a name of 1-100 characters")
	}
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("create API key: %w", err)
	}
	return out.domain(), nil
}

// APIKeyBySecret returns the live key a secret opens, with its partner's
// partner status, and records its use (at most once a minute) — in one
// statement; domain.ErrNotFound for an unknown or revoked key.
func (s *Store) APIKeyBySecret(ctx context.Context, secret string, at time.Time) (domain.APIKey, bool, error) {
	var k struct {
		apiKeyRow
		PartnerStatus bool `db:"partner_status"`
	}
	err := s.db.GetContext(ctx, &k, `
		WITH used AS (
			UPDATE api_keys SET last_used_at = $2
			WHERE hash = $1 AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < $2::timestamptz - interval '1 minute'))
		SELECT `+apiKeyColumns+`, p.partner_status FROM api_keys k JOIN partners p ON p.id = k.partner_id
		WHERE k.hash = $1 AND k.revoked_at IS NULL`, hashSecret(secret), at)
	if errors.Is(err, sql.ErrNoRows) {
		return domain.APIKey{}, false, fmt.Errorf("API key: %w", domain.ErrNotFound)
	}
	if err != nil {
		return domain.APIKey{}, false, fmt.Errorf("get API key: %w", err)
	}
	return k.domain(), k.PartnerStatus, nil
}

// ListAPIKeys lists a partner's keys, newest first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, partnerID string) ([]domain.APIKey, error) {
	var rows []apiKeyRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+apiKeyColumns+` FROM api_keys k WHERE k.partner_id = $1 ORDER BY k.created_at DESC, k.id`, partnerID); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	out := make([]domain.APIKey, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}

// RevokeAPIKey revokes a partner's key; revoking it again changes nothing.
func (s *Store) RevokeAPIKey(ctx context.Context, partnerID, id string, at time.Time, n Note[domain.APIKey]) (domain.APIKey, error) {
	if !isUUID(id) {
		return domain.APIKey{}, notFound("API key %q", text.Truncate(id, 80))
	}
	var k apiKeyRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &k, `UPDATE api_keys AS k SET revoked_at = COALESCE(k.revoked_at, $3) WHERE k.id = $1 AND k.partner_id = $2 RETURNING `+apiKeyColumns,
			id, partnerID, at); err != nil {
			return err
		}
		return note(ctx, tx, n, k.domain())
	})
	if errors.Is(err, sql.ErrNoRows) {
		return domain.APIKey{}, notFound("API key %q", id)
	}
	if err != nil {
		return domain.APIKey{}, fmt.Errorf("revoke API key: %w", err)
	}
	return k.domain(), nil
}
