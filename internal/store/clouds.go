package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/customer"
)

// Cloud is a customer's cloud inside their organization.
type Cloud struct {
	ID             string    `db:"id" json:"id"`
	OrganizationID string    `db:"organization_id" json:"organization_id"`
	Name           string    `db:"name" json:"name"`
	CreatedAt      time.Time `db:"created_at" json:"created_at"`
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
		if sa.Status != customer.StatusActive {
			if sa.Status == customer.StatusInactive {
				return customer.ErrDeleted
			}
			return customer.ErrNotConfirmed
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
