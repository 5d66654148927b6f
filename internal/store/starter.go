package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/cloudpartners/onboarding/internal/customer"
)

// LiveSubaccount returns the partner's subaccount for a customer name that is
// not deleted (any status but INACTIVE), or ErrNotFound. Names are compared
// as customer.NameKey does, so "ACME  Corp" finds "acme corp".
func (s *Store) LiveSubaccount(ctx context.Context, partnerID, customerName string) (Subaccount, error) {
	var sa Subaccount
	err := s.db.GetContext(ctx, &sa, subaccountSelect+`
		WHERE s.partner_id = $1 AND s.name_key = $2 AND s.status <> 'INACTIVE'
		ORDER BY s.created_at DESC LIMIT 1`, partnerID, customer.NameKey(customerName))
	if errors.Is(err, sql.ErrNoRows) {
		return Subaccount{}, fmt.Errorf("live subaccount %q of partner %q: %w", customerName, partnerID, ErrNotFound)
	}
	if err != nil {
		return Subaccount{}, fmt.Errorf("get live subaccount: %w", err)
	}
	return sa, nil
}
