package domain

import "time"

// Partner is a partner of the cloud provider: an integrator or reseller
// who adds customers.
type Partner struct {
	ID            string
	Name          string
	PartnerStatus bool // only a partner with partner status may act
	CreatedAt     time.Time
}

// Subaccount is a customer's billing account under a partner — the
// customer record — with what the store knows of its organization, clouds,
// emails, answer and open suspension.
type Subaccount struct {
	ID              string
	PartnerID       string
	PartnerName     string
	OnboardingID    string // the onboarding that created it
	RunID           string // the exact Temporal run that created it ("" before that was recorded)
	Name            string // never changes
	Email           string // personal data
	Contact         string // personal data
	CloudName       string // the cloud the onboarding creates
	Status          string // a Status...
	ConfirmDeadline time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
	ActivatedAt     *time.Time
	DeletedAt       *time.Time
	DeletedReason   string // a Reason..., when INACTIVE
	OrganizationID  string
	CloudID         string // the first cloud, once created
	Clouds          int
	EmailsSent      int
	LastSentAt      *time.Time
	// The customer's answer to the invitation: AnswerConfirm or
	// AnswerDecline, how it came (ViaLink, ViaLogin) and when.
	Answer     string
	AnswerVia  string
	AnsweredAt *time.Time
	// The open suspension, while SUSPENDED.
	SuspensionID  string
	SuspendedAt   *time.Time
	DeleteAfter   *time.Time
	SuspendReason string
}

// Organization is the organization made for a subaccount, named
// OrganizationName(customer name).
func (s Subaccount) Organization() Organization {
	return Organization{ID: s.OrganizationID, SubaccountID: s.ID, Name: OrganizationName(s.Name)}
}

// Live reports whether the customer has not been deleted.
func (s Subaccount) Live() bool { return s.Status != StatusInactive }

// Organization is where a customer's clouds live.
type Organization struct {
	ID           string
	SubaccountID string
	Name         string
}

// Cloud is one of a customer's clouds, inside their organization.
type Cloud struct {
	ID             string
	OrganizationID string
	Name           string
	CreatedAt      time.Time
}

// Suspension is one stop of a customer's services.
type Suspension struct {
	ID           string
	SubaccountID string
	Reason       string
	SuspendedAt  time.Time
	DeleteAfter  time.Time
	ResumedAt    *time.Time
	ExpiredAt    *time.Time
}

// Email is a confirmation email the mail server accepted.
type Email struct {
	MessageID    string
	SubaccountID string
	Seq          int // 1 for the first, then each resend
	SentAt       time.Time
}

// Staff is a person of a partner who signs in to the portal, with a role.
type Staff struct {
	ID            string
	PartnerID     string
	PartnerName   string
	PartnerStatus bool // the partner's, read with the person: every request checks it
	Email         string
	Name          string
	Role          string // StaffOwner, StaffEditor or StaffViewer
	PersonalData  bool   // may see customers' email and contact
	CreatedAt     time.Time
	CreatedBy     string
	LastLoginAt   *time.Time
}

// APIKey is a machine's key to a partner's API. Its secret is shown once
// and never stored; Prefix tells keys apart.
type APIKey struct {
	ID         string
	PartnerID  string
	Name       string
	Role       string
	Prefix     string
	CreatedBy  string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// AuditEvent is one action taken: by whom, what, on which customer, when,
// from where, and how it ended.
type AuditEvent struct {
	ID           int64
	At           time.Time
	PartnerID    string
	ActorKind    string
	ActorID      string
	Action       string
	SubaccountID string // "" when the action is on no customer
	OnboardingID string
	Addr         string
	Outcome      string // an Outcome...
	Detail       string
}

// How an action ended, in the audit log.
const (
	OutcomeDone    = "done"
	OutcomeRefused = "refused" // nothing changed
	OutcomeFailed  = "failed"  // something went wrong on our side
)
