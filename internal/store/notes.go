package store

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// Note is the audit event a change records in its own transaction, made
// from the row the change left: the change and its audit row are written
// together or not at all. A nil Note records nothing (seeding, tests).
type Note[T any] func(T) domain.AuditEvent

// note writes n's event for v in tx, when there is a Note.
func note[T any](ctx context.Context, tx *sqlx.Tx, n Note[T], v T) error {
	if n == nil {
		return nil
	}
	return audit(ctx, tx, n(v))
}
