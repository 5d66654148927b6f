package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/customer"
)

// Names the starter, the webhook, the worker and the tests share.
const (
	// TaskQueue is the default task queue of the onboarding worker.
	TaskQueue = "onboarding"
	// WorkflowName is the registered name of the onboarding workflow type.
	WorkflowName = "Onboarding"
	// SignalConfirm confirms an onboarding (payload Confirm).
	SignalConfirm = "confirm"
	// UpdateResend sends the confirmation email again (no payload; returns Status).
	UpdateResend = "resend"
	// UpdateCancel deletes the unconfirmed subaccount (no payload; returns Result).
	UpdateCancel = "cancel"
	// QueryStatus answers where the onboarding stands (returns Status).
	QueryStatus = "status"
)

// Custom search attributes, registered by `make up` (scripts/stack.sh).
var (
	AttrPartner = temporal.NewSearchAttributeKeyKeyword("OnboardingPartner")
	AttrStage   = temporal.NewSearchAttributeKeyKeyword("OnboardingStage")
	AttrOutcome = temporal.NewSearchAttributeKeyKeyword("OnboardingOutcome")
)

// SearchAttributes lists the custom search attributes the workflow uses.
var SearchAttributes = []temporal.SearchAttributeKey{AttrPartner, AttrStage, AttrOutcome}

// Stages an onboarding moves through.
const (
	StageCreating   = "CREATING_RECORD"
	StageSending    = "SENDING_EMAIL"
	StageAwaiting   = "AWAITING_CONFIRMATION"
	StageActivating = "ACTIVATING"
	StageDeleting   = "DELETING"
	StageDone       = "DONE"
	StageFailed     = "FAILED"
)

// Outcomes: an onboarding ends in exactly one.
const (
	OutcomeActive    = "ACTIVE"
	OutcomeExpired   = "EXPIRED"
	OutcomeCancelled = "CANCELLED"
)

// Defaults for Input fields left zero.
const (
	DefaultConfirmWithin = 7 * 24 * time.Hour
	DefaultResendAfter   = 60 * time.Second
	DefaultMaxSends      = 5
)

// WorkflowID is the onboarding id: derived from the business key, so that
// launching the same customer twice finds the same onboarding. The Temporal
// client carries the id in a gRPC header, which takes printable ASCII only,
// so other bytes (and '%') are percent-escaped: "Société" → "soci%C3%A9t%C3%A9".
func WorkflowID(partnerID, customerName string) string {
	key := customer.NameKey(customerName)
	var b strings.Builder
	b.WriteString("onboarding/" + partnerID + "/")
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// Input starts one onboarding. The customer's email and contact travel only
// sealed (encrypted), so the history and the Web UI never show them.
type Input struct {
	PartnerID     string
	CustomerName  string
	CloudName     string
	SealedContact string        // activities.Contact sealed with the server secret
	ConfirmWithin time.Duration // default DefaultConfirmWithin
	ResendAfter   time.Duration // shortest gap between two sends; default DefaultResendAfter
	MaxSends      int           // most emails, the first included; default DefaultMaxSends
}

// Confirm is the payload of SignalConfirm.
type Confirm struct {
	Via string // "link" (the confirmation page) or "login" (the identity system's hook)
}

// Ways a confirmation arrives.
const (
	ViaLink  = "link"
	ViaLogin = "login"
)

// Ignored records a request that came after the outcome was decided.
type Ignored struct {
	What string    // e.g. "confirm via link"
	At   time.Time // when the workflow saw it
	Why  string
}

// Status is the answer to QueryStatus.
type Status struct {
	Stage          string
	Outcome        string
	SubaccountID   string
	OrganizationID string
	CloudID        string
	Deadline       time.Time
	EmailsSent     int
	LastSentAt     time.Time
	NextResendAt   time.Time // zero when no more resends are allowed
	ResendsRefused int       // resends refused as too soon, over the limit or overlapping
	ConfirmedVia   string
	Ignored        []Ignored // the latest late requests, at most maxIgnored
	IgnoredCount   int
	Failure        string
}

// Result is what a finished onboarding returns.
type Result struct {
	Outcome        string
	SubaccountID   string
	OrganizationID string
	CloudID        string
	EmailsSent     int
	StartedAt      time.Time
	Deadline       time.Time
	DecidedAt      time.Time
	FinishedAt     time.Time
}
