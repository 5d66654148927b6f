package onboarding

import (
	"context"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
)

// Customer is everything the customer's page shows: where it stands, the
// contact details (masked for those without the personal-data
// permission), and what was done to it.
type Customer struct {
	View
	Email          string             `json:"email"`
	Contact        string             `json:"contact,omitempty"`
	PersonalData   bool               `json:"personal_data_shown"` // false: email and contact are masked
	Organization   string             `json:"organization"`
	OrganizationID string             `json:"organization_id"`
	Display        string             `json:"display_status"` // the status as people read it
	Answer         string             `json:"answer,omitempty"`
	Audit          []store.AuditEvent `json:"audit,omitempty"`
}

// auditShown is how many audit events the customer's page shows.
const auditShown = 100

// Customer reads one customer for its page: status, details, clouds and
// audit log.
func (s *Service) Customer(ctx context.Context, by Actor, id string) (Customer, error) {
	v, err := s.Status(ctx, by, id)
	if err != nil {
		return Customer{}, err
	}
	if v.SubaccountID == "" {
		return Customer{View: v, Display: "Starting"}, nil
	}
	sa, err := s.store.Subaccount(ctx, v.SubaccountID)
	if err != nil {
		return Customer{}, err
	}
	c := Customer{View: v, Email: sa.Email, Contact: sa.Contact, PersonalData: by.PersonalData,
		Organization: customer.OrganizationName(sa.Name), OrganizationID: sa.OrganizationID,
		Display: customer.DisplayStatus(sa.Status, sa.DeletedReason), Answer: sa.Answer}
	if !by.PersonalData {
		c.Email, c.Contact = customer.MaskEmail(sa.Email), customer.MaskText(sa.Contact)
	}
	if c.Audit, err = s.store.AuditLog(ctx, sa.ID, auditShown); err != nil {
		return Customer{}, err
	}
	return c, nil
}
