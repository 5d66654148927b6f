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
		// Names are unique in an organization: the cloud of this name is the one.
		return tx.GetContext(ctx, &c, `SELECT id, organization_id, name, created_at FROM clouds WHERE organization_id = $1 AND name = $2`, sa.OrganizationID, sa.CloudName)
	})
	if err != nil {
		return Cloud{}, fmt.Errorf("create cloud: %w", err)
	}
	return c, nil
}

// AddCloud creates one more cloud, named name, in an ACTIVE subaccount's
// organization, with the id the caller decided. Names are unique in an
// organization: a repeat with the same id returns the cloud created, and a
// name another cloud holds is refused with customer.ErrCloudNameTaken. A
// suspended subaccount is refused with customer.ErrSuspended, one that never
// confirmed with customer.ErrNotConfirmed, a deleted one with
// customer.ErrDeleted. created reports whether this call created it.
func (s *Store) AddCloud(ctx context.Context, cloudID, subaccountID, name string) (c Cloud, created bool, err error) {
	if err := customer.ValidateCloudName(name); err != nil {
		return Cloud{}, false, fmt.Errorf("add cloud: %w", err)
	}
	if !isUUID(cloudID) {
		return Cloud{}, false, fmt.Errorf("add cloud: cloud id %q: %w", cloudID, customer.ErrInvalid)
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, subaccountID)
		if err != nil {
			return err
		}
		switch sa.Status {
		case customer.StatusSuspended:
			return customer.ErrSuspended
		case customer.StatusInactive:
			return customer.ErrDeleted
		case customer.StatusAcceptanceRequired:
			return customer.ErrNotConfirmed
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO clouds (id, organization_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			cloudID, sa.OrganizationID, name)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		created = n == 1
		if err := tx.GetContext(ctx, &c, `SELECT id, organization_id, name, created_at FROM clouds WHERE organization_id = $1 AND name = $2`, sa.OrganizationID, name); err != nil {
			return err
		}
		if c.ID != cloudID {
			return fmt.Errorf("cloud %q: %w", name, customer.ErrCloudNameTaken)
		}
		return nil
	})
	if err != nil {
		return Cloud{}, false, fmt.Errorf("add cloud: %w", err)
	}
	return c, created, nil
}

// Clouds lists a subaccount's clouds, oldest first.
func (s *Store) Clouds(ctx context.Context, subaccountID string) ([]Cloud, error) {
	if !isUUID(subaccountID) {
		return nil, fmt.Errorf("subaccount %q: %w", subaccountID, customer.ErrNotFound)
	}
	out := []Cloud{}
	err := s.db.SelectContext(ctx, &out, `SELECT c.id, c.organization_id, c.name, c.created_at
		FROM clouds c JOIN organizations o ON o.id = c.organization_id WHERE o.subaccount_id = $1 ORDER BY c.created_at, c.id`, subaccountID)
	if err != nil {
		return nil, fmt.Errorf("list clouds: %w", err)
	}
	return out, nil
}
