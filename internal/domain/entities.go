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
	// The resend rules the onboarding was launched with (zero: not known,
	// for records written before they were kept).
	ResendAfter time.Duration
	MaxSends    int
	// Pending are the requests accepted and not yet carried out, oldest
	// first (read with the customer's page only).
	Pending []Request
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
	// Key makes an event written by a workflow's activity, or with the
	// change it records, unique: a retry writes it once ("" for none).
	Key string
}

// How an action ended, in the audit log.
const (
	OutcomeDone    = "done"
	OutcomeRefused = "refused" // nothing changed
	OutcomeFailed  = "failed"  // something went wrong on our side
)

// Request is a request to an onboarding or a customer that its workflow
// carries out: accepted once the workflow has it (its signal is in the
// history), then done or refused with the reason, by the workflow. Its id
// is the idempotency key: the same request again is this one.
type Request struct {
	ID           string
	PartnerID    string
	SubaccountID string
	OnboardingID string
	WorkflowID   string
	Kind         string // a Request... kind
	Summary      string // what was asked, in a partner's words
	Fingerprint  string // the arguments: the same id with others is refused
	ActorKind    string
	ActorID      string
	Addr         string
	Status       string // RequestAccepted, RequestDone or RequestRefused
	Reason       string // why it was refused
	Result       []byte // the workflow's answer, JSON, once done
	CreatedAt    time.Time
	FinishedAt   *time.Time
}

// Kinds of requests, and where a request stands.
const (
	RequestResend   = "resend"
	RequestCancel   = "cancel"
	RequestAddCloud = "add-cloud"
	RequestSuspend  = "suspend"
	RequestResume   = "resume"

	RequestAccepted = "accepted" // durable, not carried out yet
	RequestDone     = "done"
	RequestRefused  = "refused" // nothing changed
)

// RequestAction is the audit log's name of a request's action.
func RequestAction(kind string) string {
	switch kind {
	case RequestCancel:
		return "delete unconfirmed customer"
	case RequestAddCloud:
		return "create cloud"
	}
	return kind
}

// Pending reports whether the request is accepted and not carried out yet.
func (r Request) Pending() bool { return r.Status == RequestAccepted }
