package stack

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// SeedAudit writes n audit events of a partner by one actor in a single
// INSERT … SELECT over generate_series: one a second from start on, each
// with a detail of size bytes. A large log in seconds, for the export's
// benchmark and its streaming test.
func SeedAudit(ctx context.Context, db *sqlx.DB, partner, actor string, n int, start time.Time, size int) error {
	_, err := db.ExecContext(ctx, `INSERT INTO audit_events (at, partner_id, actor_kind, actor_id, action, outcome, detail)
		SELECT $1::timestamptz + g * interval '1 second', $2, 'user', $3, 'edit', 'done', repeat('x', $5)
		FROM generate_series(1, $4) g`, start, partner, actor, n, size)
	if err != nil {
		return fmt.Errorf("seed %d audit events: %w", n, err)
	}
	return nil
}
