package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// RememberLoginCall records the signature of an accepted login-hook call and
// reports whether it is new; a replayed signature reports false. Records
// older than keep are pruned in the same statement.
func (s *Store) RememberLoginCall(ctx context.Context, signature string, at time.Time, keep time.Duration) (bool, error) {
	var one int
	err := s.db.GetContext(ctx, &one, `
		WITH pruned AS (DELETE FROM login_hook_calls WHERE received_at < $3)
		INSERT INTO login_hook_calls (signature, received_at) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING 1`,
		signature, at, at.Add(-keep))
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("remember login call: %w", err)
	}
	return true, nil
}
