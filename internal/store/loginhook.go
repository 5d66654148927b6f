package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

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
