package domain

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/cloudpartners/onboarding/internal/text"
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
	ReasonDeclined  = "DECLINED"
	// ReasonSuspensionExpired: suspended, and not resumed within the retention period.
	ReasonSuspensionExpired = "SUSPENSION_EXPIRED"
)

// Reasons lists every reason a subaccount may be deleted.
var Reasons = []string{ReasonExpired, ReasonCancelled, ReasonFailed, ReasonDeclined, ReasonSuspensionExpired}

// ReasonText says in a partner's words why a customer was deleted; the
// onboarding outcomes other than ACTIVE are reasons too.
func ReasonText(reason string) string {
	switch reason {
	case ReasonExpired:
		return "the customer did not confirm in time"
	case ReasonCancelled:
		return "the partner cancelled the onboarding before the customer confirmed"
	case ReasonFailed:
		return "the onboarding could not go on"
	case ReasonDeclined:
		return "the customer declined the invitation"
	case ReasonSuspensionExpired:
		return "the services were stopped and not resumed in time"
	}
	return reason
}

// The customer's answer to the invitation.
const (
	AnswerConfirm = "CONFIRM"
	AnswerDecline = "DECLINE"
)

// Ways an answer arrives.
const (
	ViaLink  = "link"  // the confirmation page's buttons
	ViaLogin = "login" // the identity system's signed login hook: the customer logged in through the link
)

// AnswerViaText says in a partner's words how the customer's answer came.
func AnswerViaText(via string) string {
	switch via {
	case ViaLink:
		return "with the link in the confirmation email"
	case ViaLogin:
		return "by signing in through the link in the confirmation email"
	}
	return via
}

// MaxRetention is the longest a suspended subaccount's data is kept before
// it is deleted, unless services are resumed: 60 days; it is also the
// default.
const (
	MaxRetention     = 60 * 24 * time.Hour
	DefaultRetention = MaxRetention
)

// MaxSuspendReason bounds the reason a partner gives for a suspension.
const MaxSuspendReason = 500

// Roles granted by default on a new customer record.
const (
	RoleBillingOwner = "billing.accounts.owner"
	RoleOrgOwner     = "organization-manager.organizations.owner"
	RoleAdmin        = "admin"
)

// Roles of a partner's staff in the portal (and of API keys).
const (
	StaffOwner  = "owner"  // everything, staff and API keys too
	StaffEditor = "editor" // add, edit, resend, copy link, delete unconfirmed, clouds, suspend, resume
	StaffViewer = "viewer" // read only
)

// StaffRoles lists the staff roles, the most powerful first.
var StaffRoles = []string{StaffOwner, StaffEditor, StaffViewer}

// ValidateRole checks a staff role.
func ValidateRole(role string) error {
	for _, r := range StaffRoles {
		if role == r {
			return nil
		}
	}
	return Invalidf("role", "%q is not a role; want owner, editor or viewer", text.Truncate(role, 40))
}

// ValidateStaff checks a person to add to a partner's staff.
func ValidateStaff(email, role string) error {
	return errors.Join(ValidateEmail(email), ValidateRole(role))
}

// DefaultTaskQueue is the task queue the onboarding and customer workflows
// run on unless TASK_QUEUE says otherwise.
const DefaultTaskQueue = "onboarding"

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

// ValidateRetention checks a per-suspension retention period; zero means
// the default. The product keeps a suspended customer's data at most 60 days.
func ValidateRetention(d time.Duration) error {
	if d != 0 && (d < time.Second || d > MaxRetention) {
		return Invalidf("retention", "%s is out of range: want a duration from 1s to %s (60 days), such as 720h", text.Duration(d), text.Duration(MaxRetention))
	}
	return nil
}

// ValidateSuspendReason checks the reason given for a suspension.
func ValidateSuspendReason(reason string) error {
	if !utf8.ValidString(reason) || utf8.RuneCountInString(reason) > MaxSuspendReason || strings.ContainsAny(reason, "\r\n") {
		return Invalidf("reason", "want one line of at most %d characters", MaxSuspendReason)
	}
	return nil
}

// OrganizationName is the name of the organization made for a subaccount.
func OrganizationName(customerName string) string {
	return fmt.Sprintf("For subaccount '%s'", customerName)
}

// DisplayStatus is a subaccount's status as the partner reads it: a
// deleted one says why, where the reason is the customer's or the
// deadline's ("Declined", "Expired", "Cancelled").
func DisplayStatus(status, reason string) string {
	if status == StatusInactive {
		switch reason {
		case ReasonDeclined:
			return "Declined"
		case ReasonExpired:
			return "Expired"
		case ReasonCancelled:
			return "Cancelled"
		}
	}
	return StatusLabel(status)
}

// MaskEmail hides an email address but for its first letters:
// "owner@acme.example" → "o•••@a•••.example". For people without the
// personal-data permission.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return maskWord(email)
	}
	domain := email[at+1:]
	tld := ""
	if dot := strings.LastIndexByte(domain, '.'); dot > 0 {
		domain, tld = domain[:dot], domain[dot:]
	}
	return maskWord(email[:at]) + "@" + maskWord(domain) + tld
}

// MaskText hides a free text, a contact person's name, but for the first
// letter of each word.
func MaskText(s string) string {
	words := strings.Fields(s)
	for i, w := range words {
		words[i] = maskWord(w)
	}
	return strings.Join(words, " ")
}

func maskWord(w string) string {
	for _, r := range w {
		return string(r) + "•••"
	}
	return ""
}
