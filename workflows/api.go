package workflows

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
)

// Names the starter, the webhook, the worker and the tests share.
const (
	// TaskQueue is the default task queue of the onboarding worker (TASK_QUEUE).
	TaskQueue = domain.DefaultTaskQueue
	// WorkflowName is the registered name of the onboarding workflow type.
	WorkflowName = "Onboarding"
	// SignalConfirm confirms an onboarding (payload Confirm).
	SignalConfirm = "confirm"
	// SignalDecline declines the invitation: the customer does not want to
	// work with the partner (payload Decline).
	SignalDecline = "decline"
	// UpdateResend sends the confirmation email again (no payload; returns Status).
	UpdateResend = "resend"
	// UpdateCancel deletes the unconfirmed subaccount (no payload; returns Result).
	UpdateCancel = "cancel"
	// QueryStatus answers where the onboarding stands (returns Status).
	QueryStatus = "status"
	// SignalRequest carries a partner's request (payload Request) to an
	// onboarding — resend, cancel — or to a customer workflow — add a
	// cloud, suspend, resume. A signal is in the history once the server
	// answers: the request is accepted then, whatever fails next, and the
	// workflow settles it, done or refused, exactly once.
	SignalRequest = "request"
)

// Request is the payload of SignalRequest.
type Request = activities.Request

// Actor is who asked for an action, as the audit log names them.
type Actor = activities.Actor

// Custom search attributes, registered by `make up` (scripts/stack.sh).
var (
	AttrPartner = temporal.NewSearchAttributeKeyKeyword("OnboardingPartner")
	AttrStage   = temporal.NewSearchAttributeKeyKeyword("OnboardingStage")
	AttrOutcome = temporal.NewSearchAttributeKeyKeyword("OnboardingOutcome")
)

// SearchAttributes lists the custom search attributes the workflow uses.
var SearchAttributes = []temporal.SearchAttributeKey{AttrPartner, AttrStage, AttrOutcome}

// Stages an onboarding moves through: the domain's, published as the
// OnboardingStage search attribute.
const (
	StageCreating   = domain.StageCreating
	StageSending    = domain.StageSending
	StageAwaiting   = domain.StageAwaiting
	StageActivating = domain.StageActivating
	StageDeleting   = domain.StageDeleting
	StageDone       = domain.StageDone
	StageFailed     = domain.StageFailed
)

// Outcomes: an onboarding ends in exactly one.
const (
	OutcomeActive    = domain.OutcomeActive
	OutcomeExpired   = domain.OutcomeExpired
	OutcomeCancelled = domain.OutcomeCancelled
	OutcomeDeclined  = domain.OutcomeDeclined
)

// Changes to the released onboarding workflow, each introduced with
// workflow.GetVersion under its own id; see docs/design.md, "Changing a
// released workflow".
const (
	// ChangeDecline added the decline branch to the wait (version 1).
	ChangeDecline = "decline"
	// ChangeRequests added durable requests (SignalRequest) to both
	// workflows (version 1), taken when the first request arrives.
	ChangeRequests = "durable-requests"
	// ChangeAnswerOfRecord makes the customer's answer in the record win
	// over the deadline (version 1): a confirm or decline taken by the
	// store whose signal never arrived is carried out when the deadline
	// passes (the Expire activity), taken when the deadline passes.
	ChangeAnswerOfRecord = "answer-of-record"
)

// Defaults for Input fields left zero: the product's, in one place.
const (
	DefaultConfirmWithin = domain.DefaultConfirmWithin
	DefaultResendAfter   = domain.DefaultResendAfter
	DefaultMaxSends      = domain.DefaultMaxSends
)

// MaxIDLength is the longest workflow id every Temporal server stores: the
// SQL persistence keeps ids in VARCHAR(255) columns, below the frontend's
// own limit (limit.maxIDLength, 1000). The dev server's SQLite took longer
// ones; a customer launched there with such an id is still found, by its
// record, which names its onboarding.
const MaxIDLength = 255

// idHashLen is how many hex digits of the name's hash end a shortened id:
// 128 bits, so two names never share one.
const idHashLen = 32

// WorkflowID is the onboarding id: derived from the business key, so that
// launching the same customer twice finds the same onboarding. The Temporal
// client carries the id in a gRPC header, which takes printable ASCII only,
// so other bytes (and '%') are percent-escaped: "Société" → "soci%C3%A9t%C3%A9".
//
// A valid name of up to 200 characters can escape to more than MaxIDLength
// bytes (each CJK character takes nine, each ASCII one at least one). Such an id keeps as much of the
// escaped name as fits, then "~" and the first 128 bits of the SHA-256 of
// the whole normalized name: still readable, still one id per domain. An
// id that fits is never shortened, so every customer keeps the id it had
// before this rule existed.
func WorkflowID(partnerID, customerName string) string {
	key := domain.NameKey(customerName)
	var b strings.Builder
	b.WriteString("onboarding/" + partnerID + "/")
	for i := 0; i < len(key); i++ {
		if c := key[i]; c < 0x20 || c > 0x7e || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	id := b.String()
	if len(id) <= MaxIDLength {
		return id
	}
	sum := sha256.Sum256([]byte(key))
	tag := "~" + hex.EncodeToString(sum[:])[:idHashLen]
	cut := MaxIDLength - len(tag)
	// Never cut inside an escape: "%E6%9D%B1" is kept whole or not at all.
	if i := strings.LastIndexByte(id[max(0, cut-2):cut], '%'); i >= 0 {
		cut = max(0, cut-2) + i
	}
	return id[:cut] + tag
}

// PartnerOf is the partner an onboarding id names ("onboarding/PARTNER/name"),
// or "" for what is not an onboarding id.
func PartnerOf(onboardingID string) string {
	rest, ok := strings.CutPrefix(onboardingID, "onboarding/")
	if !ok {
		return ""
	}
	p, _, _ := strings.Cut(rest, "/")
	return p
}

// Carriable reports whether a workflow id can travel in the gRPC header the
// Temporal client puts it in — printable ASCII only — so could name an
// onboarding at all.
func Carriable(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return id != ""
}

// StartOptions are the options every onboarding starts with, whoever
// launches it: the id from the business key; a new run allowed once an
// earlier one has closed (a deleted customer may be onboarded again), and
// the running one returned instead of a second run while it runs; the
// partner and the first stage as search attributes, so that the Web UI finds
// it at once; and a summary naming customer and partner.
func StartOptions(taskQueue, partnerID, customerName string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       WorkflowID(partnerID, customerName),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    temporal.NewSearchAttributes(AttrPartner.ValueSet(partnerID), AttrStage.ValueSet(StageCreating)),
		StaticSummary:            fmt.Sprintf("Onboard %s for partner %s", customerName, partnerID),
	}
}

// Contact is the customer's personal data that Input.SealedContact carries.
type Contact = activities.Contact

// Input starts one onboarding. Like every payload, it is encrypted by the
// payload codec (internal/codec) before it reaches Temporal: the history
// and the Web UI show it only to operators through the codec server.
type Input struct {
	PartnerID    string
	CustomerName string
	CloudName    string
	Email        string // the customer's account email
	Contact      string // the customer's contact person
	// SealedContact is how onboardings launched before the payload codec
	// carried Email and Contact: a Contact sealed with the server secret.
	// Launches no longer set it; runs that have it still use it.
	SealedContact string
	ConfirmWithin time.Duration // default DefaultConfirmWithin
	ResendAfter   time.Duration // shortest gap between two sends; default DefaultResendAfter
	MaxSends      int           // most emails, the first included; default DefaultMaxSends
	// LaunchedBy is who launched it, for the audit event written with the
	// record; nil in onboardings launched before launches carried it.
	LaunchedBy *Actor `json:",omitempty"`
}

// Confirm is the payload of SignalConfirm.
type Confirm struct {
	Via string // "link" (the confirmation page) or "login" (the identity system's hook)
}

// Decline is the payload of SignalDecline.
type Decline struct {
	Via string // "link": the confirmation page's Decline button
}

// Ways a confirmation arrives.
const (
	ViaLink  = domain.ViaLink
	ViaLogin = domain.ViaLogin
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
