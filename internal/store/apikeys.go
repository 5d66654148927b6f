package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/cloudpartners/onboarding/internal/customer"
)

// APIKey is a machine's key to a partner's API, without its secret.
type APIKey struct {
	ID         string     `db:"id" json:"id"`
	PartnerID  string     `db:"partner_id" json:"partner_id"`
	Name       string     `db:"name" json:"name"`
	Role       string     `db:"role" json:"role"`
	Prefix     string     `db:"prefix" json:"prefix"` // the key's first characters, to tell keys apart
	CreatedBy  string     `db:"created_by" json:"created_by"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at" json:"last_used_at,omitempty"`
	RevokedAt  *time.Time `db:"revoked_at" json:"revoked_at,omitempty"`
}

const apiKeyColumns = `id, partner_id, name, role, prefix, created_by, created_at, last_used_at, revoked_at`

// CreateAPIKey records a key by the hash of its secret; the secret itself
// is never stored.
func (s *Store) CreateAPIKey(ctx context.Context, k APIKey, secret string) (APIKey, error) {
	if err := customer.ValidateRole(k.Role); err != nil {
		return APIKey{}, err
	}
	var out APIKey
	err := s.db.GetContext(ctx, &out, `INSERT INTO api_keys (id, partner_id, name, role, hash, prefix, created_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING `+apiKeyColumns, k.ID, k.PartnerID, k.Name, k.Role, hashSecret(secret), k.Prefix, k.CreatedBy)
	if isCode(err, codeCheckViolation) {
		return APIKey{}, customer.Invalid("name", "want a name of 1-100 characters")
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("create API key: %w", err)
	}
	return out, nil
}

// APIKeyBySecret returns the live key a secret opens and records its use
// (at most once a minute), or customer.ErrNotFound for an unknown or
// revoked key.
func (s *Store) APIKeyBySecret(ctx context.Context, secret string, at time.Time) (APIKey, error) {
	var k APIKey
	err := s.db.GetContext(ctx, &k, `SELECT `+apiKeyColumns+` FROM api_keys WHERE hash = $1 AND revoked_at IS NULL`, hashSecret(secret))
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, fmt.Errorf("API key: %w", customer.ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("get API key: %w", err)
	}
	if k.LastUsedAt == nil || at.Sub(*k.LastUsedAt) > time.Minute {
		if _, err := s.db.ExecContext(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, k.ID, at); err != nil {
			return APIKey{}, fmt.Errorf("record API key use: %w", err)
		}
		k.LastUsedAt = &at
	}
	return k, nil
}

// ListAPIKeys lists a partner's keys, newest first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, partnerID string) ([]APIKey, error) {
	out := []APIKey{}
	if err := s.db.SelectContext(ctx, &out, `SELECT `+apiKeyColumns+` FROM api_keys WHERE partner_id = $1 ORDER BY created_at DESC, id`, partnerID); err != nil {
		return nil, fmt.Errorf("list API keys: %w", err)
	}
	return out, nil
}

// RevokeAPIKey revokes a partner's key; revoking it again changes nothing.
func (s *Store) RevokeAPIKey(ctx context.Context, partnerID, id string, at time.Time) (APIKey, error) {
	if !isUUID(id) {
		return APIKey{}, fmt.Errorf("API key %q: %w", id, customer.ErrNotFound)
	}
	var k APIKey
	err := s.db.GetContext(ctx, &k, `UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND partner_id = $2 RETURNING `+apiKeyColumns,
		id, partnerID, at)
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, fmt.Errorf("API key %q: %w", id, customer.ErrNotFound)
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("revoke API key: %w", err)
	}
	return k, nil
}
