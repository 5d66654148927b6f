package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
)

type cloudRow struct {
	ID             string    `db:"id"`
	OrganizationID string    `db:"organization_id"`
	Name           string    `db:"name"`
	CreatedAt      time.Time `db:"created_at"`
}

func (r cloudRow) domain() domain.Cloud {
	return domain.Cloud{ID: r.ID, OrganizationID: r.OrganizationID, Name: r.Name, CreatedAt: r.CreatedAt.UTC()}
}

const cloudByName = `SELECT id, organization_id, name, created_at FROM clouds WHERE organization_id = $1 AND name = $2`

// CreateCloud creates the first cloud of an active subaccount, named as the
// subaccount's cloud name, inside its organization. A repeat returns the
// cloud already created.
func (s *Store) CreateCloud(ctx context.Context, cloudID, subaccountID string) (domain.Cloud, error) {
	var c cloudRow
	err := s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, "", subaccountID)
		if err != nil {
			return err
		}
		if sa.Status != domain.StatusActive {
			if sa.Status == domain.StatusInactive {
				return domain.ErrDeleted
			}
			return domain.ErrNotConfirmed
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO clouds (id, organization_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			cloudID, sa.OrganizationID, sa.CloudName); err != nil {
			return err
		}
		// Names are unique in an organization: the cloud of this name is the one.
		return tx.GetContext(ctx, &c, cloudByName, sa.OrganizationID, sa.CloudName)
	})
	if err != nil {
		return domain.Cloud{}, fmt.Errorf("create cloud: %w", err)
	}
	return c.domain(), nil
}

// AddCloud creates one more cloud, named name, in an ACTIVE subaccount's
// organization, with the id the caller decided. Names are unique in an
// organization, and every cloud follows one rule: asking again for a name
// the organization already holds returns that cloud and creates nothing
// (created false) — the first cloud's name as much as a later one's. A
// suspended subaccount is refused with domain.ErrSuspended, one that never
// confirmed with domain.ErrNotConfirmed, a deleted one with
// domain.ErrDeleted.
func (s *Store) AddCloud(ctx context.Context, cloudID, subaccountID, name string) (c domain.Cloud, created bool, err error) {
	if err := domain.ValidateCloudName(name); err != nil {
		return domain.Cloud{}, false, fmt.Errorf("add cloud: %w", err)
	}
	if !isUUID(cloudID) {
		return domain.Cloud{}, false, fmt.Errorf("add cloud: cloud id %q: %w", cloudID, domain.ErrInvalid)
	}
	var row cloudRow
	err = s.inTx(ctx, func(tx *sqlx.Tx) error {
		sa, err := lockSubaccount(ctx, tx, "", subaccountID)
		if err != nil {
			return err
		}
		switch sa.Status {
		case domain.StatusSuspended:
			return domain.ErrSuspended
		case domain.StatusInactive:
			return domain.ErrDeleted
		case domain.StatusAcceptanceRequired:
			return domain.ErrNotConfirmed
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO clouds (id, organization_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			cloudID, sa.OrganizationID, name)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		created = n == 1
		return tx.GetContext(ctx, &row, cloudByName, sa.OrganizationID, name)
	})
	if err != nil {
		return domain.Cloud{}, false, fmt.Errorf("add cloud: %w", err)
	}
	return row.domain(), created, nil
}

// Clouds lists one of the partner's subaccounts' clouds (scope "": any
// partner's), oldest first; domain.ErrNotFound for an unknown subaccount.
func (s *Store) Clouds(ctx context.Context, scope, subaccountID string) ([]domain.Cloud, error) {
	_, clouds, err := s.Customer(ctx, scope, subaccountID)
	return clouds, err
}
