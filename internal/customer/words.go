package customer

import (
	"fmt"
	"time"
)

// Subaccount statuses, as in the product.
const (
	StatusAcceptanceRequired = "ACCEPTANCE_REQUIRED"
	StatusActive             = "ACTIVE"
	StatusSuspended          = "SUSPENDED"
	StatusInactive           = "INACTIVE"
)

// Statuses lists the subaccount statuses in the order of a customer's life.
var Statuses = []string{StatusAcceptanceRequired, StatusActive, StatusSuspended, StatusInactive}

// StatusLabel is a status as people read it ("Verification required").
func StatusLabel(status string) string {
	switch status {
	case StatusAcceptanceRequired:
		return "Verification required"
	case StatusActive:
		return "Active"
	case StatusSuspended:
		return "Suspended"
	case StatusInactive:
		return "Inactive"
	}
	return status
}

// Reasons a subaccount was deleted.
const (
	ReasonExpired   = "EXPIRED"
	ReasonCancelled = "CANCELLED"
	ReasonFailed    = "FAILED" // the onboarding could not go on, e.g. the mail server refused the address
)

// Roles granted by default on a new customer record.
const (
	RoleBillingOwner = "billing.accounts.owner"
	RoleOrgOwner     = "organization-manager.organizations.owner"
	RoleAdmin        = "admin"
)

// The product's defaults for one onboarding; configuration may change them
// for the onboardings launched afterwards.
const (
	// DefaultConfirmWithin is how long a customer has to confirm.
	DefaultConfirmWithin = 7 * 24 * time.Hour
	// DefaultResendAfter is the shortest gap between two confirmation emails.
	DefaultResendAfter = 60 * time.Second
	// DefaultMaxSends is the most confirmation emails one onboarding sends, the first included.
	DefaultMaxSends = 5
	// MaxConfirmWithin bounds a confirmation window, so that a typo such as
	// 87600h is caught rather than leaving a customer waiting for ten years.
	MaxConfirmWithin = 365 * 24 * time.Hour
)

// OrganizationName is the name of the organization made for a subaccount.
func OrganizationName(customerName string) string {
	return fmt.Sprintf("For subaccount '%s'", customerName)
}

// Contact is a customer's personal data: the account email and the contact
// person. It never travels through a workflow history in clear.
type Contact struct {
	Email   string `json:"email"`
	Contact string `json:"contact,omitempty"`
}
