// Package activities holds every side effect of an onboarding: Postgres
// writes and SMTP sends. Each is idempotent on ids its caller decides once.
package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/mail"
	"github.com/cloudpartners/onboarding/internal/store"
)

// Store is the part of the system of record the activities use.
type Store interface {
	CreateCustomer(ctx context.Context, c store.NewCustomer) (domain.Subaccount, error)
	Subaccount(ctx context.Context, scope, id string) (domain.Subaccount, error)
	Activate(ctx context.Context, id string, at time.Time) (domain.Subaccount, error)
	Delete(ctx context.Context, id, reason string, at time.Time) (domain.Subaccount, error)
	Expire(ctx context.Context, id string, at time.Time) (domain.Subaccount, error)
	CreateCloud(ctx context.Context, cloudID, subaccountID string) (domain.Cloud, error)
	AddCloud(ctx context.Context, cloudID, subaccountID, name string) (domain.Cloud, bool, error)
	Suspend(ctx context.Context, id, suspensionID, reason string, at, deleteAfter time.Time) (domain.Subaccount, error)
	Resume(ctx context.Context, id string, at time.Time) (domain.Subaccount, error)
	ExpireSuspension(ctx context.Context, id, suspensionID string, at time.Time) (domain.Subaccount, error)
	SentEmail(ctx context.Context, subaccountID string, seq int) (domain.Email, error)
	RecordEmail(ctx context.Context, e domain.Email) (domain.Email, error)
	SettleRequest(ctx context.Context, r domain.Request, e domain.AuditEvent) (domain.Request, error)
}

// Onboarding is the activities the onboarding workflow calls, by these
// method names: the benchmark's ceiling implements them doing nothing, so
// that it runs the onboarding workflow itself.
type Onboarding interface {
	CreateRecord(ctx context.Context, in CreateRecordInput) (Record, error)
	SendConfirmation(ctx context.Context, in SendInput) (Sent, error)
	Activate(ctx context.Context, subaccountID string) (Record, error)
	Delete(ctx context.Context, in DeleteInput) (Record, error)
	Expire(ctx context.Context, subaccountID string) (Record, error)
	CreateCloud(ctx context.Context, in CloudInput) (CloudCreated, error)
	Settle(ctx context.Context, in SettleInput) (Settled, error)
}

var _ Onboarding = (*Activities)(nil)

// Contact is a customer's personal data as onboardings launched before the
// payload codec sealed it into their input (Input.SealedContact): its JSON
// is released and never changes.
type Contact struct {
	Email   string `json:"email"`
	Contact string `json:"contact,omitempty"`
}

// Mailer sends the confirmation email.
type Mailer interface {
	Send(ctx context.Context, c mail.Confirmation) error
}

// Sealer opens the personal data sealed in workflow inputs.
type Sealer interface {
	Open(sealed string, v any) error
}

// Activities are the onboarding's side effects.
type Activities struct {
	Store     Store
	Mailer    Mailer
	Sealer    Sealer
	Links     *links.Signer
	PublicURL string // base URL of the webhook
	Brand     string
	MailHost  string // right-hand side of Message-IDs
	Now       func() time.Time
}

// Error types of the non-retryable failures: the domain's codes of the
// errors retrying cannot fix. The released retry policies name them.
const (
	ErrTypeUnknownPartner = "UnknownPartner"
	ErrTypeNotPartner     = "NotPartner"
	ErrTypeInvalid        = "InvalidInput"
	ErrTypeNameTaken      = "NameTaken"
	ErrTypeRejected       = "EmailRejected"
	ErrTypeDeleted        = "SubaccountDeleted"
	ErrTypeConfirmed      = "AlreadyConfirmed"
	ErrTypeConflict       = "IDConflict"
)

// NonRetryable lists the error types retrying cannot fix, for retry
// policies. Released histories hold this list: it never changes.
var NonRetryable = []string{ErrTypeUnknownPartner, ErrTypeNotPartner, ErrTypeInvalid, ErrTypeNameTaken,
	ErrTypeRejected, ErrTypeDeleted, ErrTypeConfirmed, ErrTypeConflict}

// permanent turns an error retrying cannot fix — its kind says so — into a
// non-retryable application error whose type is its code and whose
// message says what is wrong; any other error passes through, to be
// retried.
func permanent(err error) error {
	if domain.KindOf(err).Permanent() {
		return temporal.NewNonRetryableApplicationError(err.Error(), domain.CodeOf(err), err)
	}
	return err
}

// CreateRecordInput creates one customer record; the ids are decided by the workflow.
type CreateRecordInput struct {
	SubaccountID   string
	OrganizationID string
	OnboardingID   string
	PartnerID      string
	CustomerName   string
	CloudName      string
	Email          string
	Contact        string
	SealedContact  string // onboardings launched before the payload codec: Email and Contact, sealed
	Deadline       time.Time
	// LaunchedBy is who launched the onboarding: the audit event of the
	// launch is written with the record. Nil for onboardings launched
	// before launches carried it.
	LaunchedBy *Actor `json:",omitempty"`
	// The resend rules it was launched with, kept in the record so that a
	// resend too soon or past the limit is refused before it is accepted.
	ResendAfter time.Duration `json:",omitempty"`
	MaxSends    int           `json:",omitempty"`
}

// Actor is who asked for an action, as the audit log names them.
type Actor struct {
	Kind string // a domain.Actor... kind
	ID   string
	Addr string
}

// Record identifies a customer record.
type Record struct {
	SubaccountID   string
	OrganizationID string
	Status         string
	// Answer is the customer's answer the record holds, given by Expire:
	// domain.AnswerConfirm (kept, to be activated), domain.AnswerDecline
	// (deleted as declined) or "" (deleted as expired).
	Answer    string `json:",omitempty"`
	AnswerVia string `json:",omitempty"`
}

// CreateRecord creates the subaccount, its organization and its default role
// bindings in one transaction; a repeat returns the same record.
func (a *Activities) CreateRecord(ctx context.Context, in CreateRecordInput) (Record, error) {
	c := Contact{Email: in.Email, Contact: in.Contact}
	if in.SealedContact != "" {
		if err := a.Sealer.Open(in.SealedContact, &c); err != nil {
			return Record{}, temporal.NewNonRetryableApplicationError("customer contact cannot be decrypted: was it sealed with another ONBOARDING_SECRET?", ErrTypeInvalid, err)
		}
	}
	nc := store.NewCustomer{
		SubaccountID: in.SubaccountID, OrganizationID: in.OrganizationID, OnboardingID: in.OnboardingID,
		RunID:     activity.GetInfo(ctx).WorkflowExecution.RunID,
		PartnerID: in.PartnerID, Name: in.CustomerName, Email: c.Email, Contact: c.Contact,
		CloudName: in.CloudName, Deadline: in.Deadline, ResendAfter: in.ResendAfter, MaxSends: in.MaxSends,
	}
	if by := in.LaunchedBy; by != nil {
		nc.Launch = &domain.AuditEvent{At: a.Now().UTC(), ActorKind: by.Kind, ActorID: by.ID, Addr: by.Addr,
			Action: "add customer", Outcome: domain.OutcomeDone, Detail: "launched"}
	}
	sa, err := a.Store.CreateCustomer(ctx, nc)
	if err != nil {
		return Record{}, permanent(err)
	}
	return Record{SubaccountID: sa.ID, OrganizationID: sa.OrganizationID, Status: sa.Status}, nil
}

// SendInput sends the seq-th confirmation email of a subaccount.
type SendInput struct {
	SubaccountID string
	Seq          int
}

// Sent reports a delivered email.
type Sent struct {
	MessageID string
	SentAt    time.Time
	Repeat    bool // it had already been delivered by an earlier attempt
}

// MessageID is the Message-ID of the seq-th email of a subaccount: fixed
// before sending, so a copy sent again after a crash carries the same id.
func MessageID(mailHost, subaccountID string, seq int) string {
	return fmt.Sprintf("confirm-%s-%d@%s", subaccountID, seq, mailHost)
}

// SendConfirmation emails the confirmation link to the customer's current
// address. A send already recorded as delivered is not sent again.
func (a *Activities) SendConfirmation(ctx context.Context, in SendInput) (Sent, error) {
	id := MessageID(a.MailHost, in.SubaccountID, in.Seq)
	if e, err := a.Store.SentEmail(ctx, in.SubaccountID, in.Seq); err == nil {
		return Sent{MessageID: e.MessageID, SentAt: e.SentAt, Repeat: true}, nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return Sent{}, err
	}
	sa, err := a.Store.Subaccount(ctx, "", in.SubaccountID)
	if err != nil {
		return Sent{}, err
	}
	if sa.Status != domain.StatusAcceptanceRequired {
		err := domain.ErrConfirmed
		if sa.Status == domain.StatusInactive {
			err = domain.ErrDeleted
		}
		return Sent{}, permanent(fmt.Errorf("send confirmation: %w", err))
	}
	token, err := a.Links.Token(sa.ID, sa.ConfirmDeadline)
	if err != nil {
		return Sent{}, err
	}
	err = a.Mailer.Send(ctx, mail.Confirmation{
		MessageID: id, To: sa.Email, Brand: a.Brand, PartnerName: sa.PartnerName, CustomerName: sa.Name,
		Link: links.URL(a.PublicURL, token), Deadline: sa.ConfirmDeadline,
	})
	if err != nil {
		return Sent{}, permanent(err)
	}
	// The mail server has the message; should the worker die before this
	// record, the retry sends a copy with the same Message-ID.
	e, err := a.Store.RecordEmail(ctx, domain.Email{MessageID: id, SubaccountID: sa.ID, Seq: in.Seq, SentAt: a.Now().UTC()})
	if err != nil {
		return Sent{}, err
	}
	activity.GetLogger(ctx).Info("confirmation email sent", "subaccount", sa.ID, "seq", in.Seq)
	return Sent{MessageID: e.MessageID, SentAt: e.SentAt}, nil
}

// Activate marks the subaccount ACTIVE; a repeat is harmless.
func (a *Activities) Activate(ctx context.Context, subaccountID string) (Record, error) {
	sa, err := a.Store.Activate(ctx, subaccountID, a.Now().UTC())
	if err != nil {
		return Record{}, permanent(err)
	}
	return Record{SubaccountID: sa.ID, OrganizationID: sa.OrganizationID, Status: sa.Status}, nil
}

// DeleteInput deletes an unconfirmed subaccount.
type DeleteInput struct {
	SubaccountID string
	Reason       string // a domain.Reason...
}

// Delete deletes the unconfirmed subaccount, its organization and bindings;
// a repeat is harmless.
func (a *Activities) Delete(ctx context.Context, in DeleteInput) (Record, error) {
	sa, err := a.Store.Delete(ctx, in.SubaccountID, in.Reason, a.Now().UTC())
	if err != nil {
		return Record{}, permanent(err)
	}
	return Record{SubaccountID: sa.ID, OrganizationID: sa.OrganizationID, Status: sa.Status}, nil
}

// Expire is the deletion at the confirmation deadline, unless the
// customer's answer is in the record (store.Expire): the answer in the
// row wins over the deadline, even when its signal was lost.
func (a *Activities) Expire(ctx context.Context, subaccountID string) (Record, error) {
	sa, err := a.Store.Expire(ctx, subaccountID, a.Now().UTC())
	if err != nil {
		return Record{}, permanent(err)
	}
	return Record{SubaccountID: sa.ID, OrganizationID: sa.OrganizationID, Status: sa.Status, Answer: sa.Answer, AnswerVia: sa.AnswerVia}, nil
}

// CloudInput creates the cloud of an active subaccount; the id is decided by the workflow.
type CloudInput struct {
	CloudID      string
	SubaccountID string
}

// CloudCreated identifies the cloud.
type CloudCreated struct {
	CloudID string
	Name    string
	Created bool // false: it existed already (a repeat)
}

// CreateCloud creates the customer's cloud in their organization; a repeat
// returns the cloud already created.
func (a *Activities) CreateCloud(ctx context.Context, in CloudInput) (CloudCreated, error) {
	c, err := a.Store.CreateCloud(ctx, in.CloudID, in.SubaccountID)
	if err != nil {
		return CloudCreated{}, permanent(err)
	}
	return CloudCreated{CloudID: c.ID, Name: c.Name}, nil
}

// AddCloudInput creates one more cloud of an active subaccount; the id is
// decided by the workflow.
type AddCloudInput struct {
	CloudID      string
	SubaccountID string
	Name         string
}

// AddCloud creates one more cloud in the customer's organization; a repeat
// returns the cloud created. A name another cloud holds, a suspended, an
// unconfirmed or a deleted subaccount are refused for good.
func (a *Activities) AddCloud(ctx context.Context, in AddCloudInput) (CloudCreated, error) {
	c, created, err := a.Store.AddCloud(ctx, in.CloudID, in.SubaccountID, in.Name)
	if err != nil {
		return CloudCreated{}, permanent(err)
	}
	return CloudCreated{CloudID: c.ID, Name: c.Name, Created: created}, nil
}

// Account is a subaccount's state after a lifecycle operation.
type Account struct {
	SubaccountID string
	Status       string
	SuspensionID string    // the open suspension, while SUSPENDED
	DeleteAfter  time.Time // when it is deleted unless resumed, while SUSPENDED
}

func account(sa domain.Subaccount) Account {
	acc := Account{SubaccountID: sa.ID, Status: sa.Status, SuspensionID: sa.SuspensionID}
	if sa.DeleteAfter != nil {
		acc.DeleteAfter = sa.DeleteAfter.UTC()
	}
	return acc
}

// SuspendInput stops an active subaccount's services; the suspension's id
// and times are decided by the workflow.
type SuspendInput struct {
	SubaccountID string
	SuspensionID string
	Reason       string
	At           time.Time
	DeleteAfter  time.Time
}

// Suspend makes an active subaccount SUSPENDED until it is resumed or
// deleted after in.DeleteAfter; a repeat returns it as it is.
func (a *Activities) Suspend(ctx context.Context, in SuspendInput) (Account, error) {
	sa, err := a.Store.Suspend(ctx, in.SubaccountID, in.SuspensionID, in.Reason, in.At, in.DeleteAfter)
	if err != nil {
		return Account{}, permanent(err)
	}
	activity.GetLogger(ctx).Info("services stopped", "subaccount", sa.ID, "delete_after", in.DeleteAfter)
	return account(sa), nil
}

// Resume makes a suspended subaccount ACTIVE again; a repeat is harmless.
func (a *Activities) Resume(ctx context.Context, subaccountID string) (Account, error) {
	sa, err := a.Store.Resume(ctx, subaccountID, a.Now().UTC())
	if err != nil {
		return Account{}, permanent(err)
	}
	activity.GetLogger(ctx).Info("services resumed", "subaccount", sa.ID)
	return account(sa), nil
}

// ExpireInput deletes a subaccount whose suspension ran out.
type ExpireInput struct {
	SubaccountID string
	SuspensionID string
}

// ExpireSuspension deletes the subaccount whose suspension ran out, as
// every deletion does (INACTIVE, organization deleted, bindings revoked,
// rows kept); a repeat is harmless.
func (a *Activities) ExpireSuspension(ctx context.Context, in ExpireInput) (Account, error) {
	sa, err := a.Store.ExpireSuspension(ctx, in.SubaccountID, in.SuspensionID, a.Now().UTC())
	if err != nil {
		return Account{}, permanent(err)
	}
	activity.GetLogger(ctx).Info("suspended subaccount deleted: the retention period ran out", "subaccount", sa.ID)
	return account(sa), nil
}

// Request is a request to an onboarding or a customer as its workflow
// receives it — the payload of workflows.SignalRequest — and settles it.
// The edge decides its id (the idempotency key) and checks, before
// sending it, everything it can: the customer, its state, the actor's role.
type Request struct {
	ID           string
	Kind         string // a domain.Request... kind
	PartnerID    string
	SubaccountID string
	OnboardingID string
	WorkflowID   string
	Summary      string
	Fingerprint  string
	By           Actor
	At           time.Time
	// The arguments of the kinds that take some.
	CloudName     string        `json:",omitempty"` // add-cloud
	SuspendReason string        `json:",omitempty"` // suspend
	Retention     time.Duration `json:",omitempty"` // suspend; zero: the default
}

// Domain is the request as the domain records it, accepted.
func (r Request) Domain() domain.Request {
	return domain.Request{ID: r.ID, PartnerID: r.PartnerID, SubaccountID: r.SubaccountID, OnboardingID: r.OnboardingID,
		WorkflowID: r.WorkflowID, Kind: r.Kind, Summary: r.Summary, Fingerprint: r.Fingerprint, ActorKind: r.By.Kind,
		ActorID: r.By.ID, Addr: r.By.Addr, Status: domain.RequestAccepted, CreatedAt: r.At.UTC()}
}

// SettleInput says how a request ended: done, with the workflow's answer
// as JSON, or refused with the reason.
type SettleInput struct {
	Request Request
	Done    bool
	Reason  string // why it was refused
	Result  []byte // JSON, when done
	Detail  string // for the audit log, when done
}

// Settled is the request as recorded.
type Settled struct {
	ID     string
	Status string
}

// Settle records how a request ended and its audit event, in one
// transaction, keyed by the request's id: a retry changes nothing.
func (a *Activities) Settle(ctx context.Context, in SettleInput) (Settled, error) {
	r := in.Request.Domain()
	now := a.Now().UTC()
	r.FinishedAt = &now
	e := domain.AuditEvent{At: now, PartnerID: r.PartnerID, ActorKind: r.ActorKind, ActorID: r.ActorID, Action: domain.RequestAction(r.Kind),
		SubaccountID: r.SubaccountID, OnboardingID: r.OnboardingID, Addr: r.Addr, Key: "request/" + r.ID}
	if in.Done {
		r.Status, r.Result, e.Outcome, e.Detail = domain.RequestDone, in.Result, domain.OutcomeDone, in.Detail
	} else {
		r.Status, r.Reason, e.Outcome, e.Detail = domain.RequestRefused, in.Reason, domain.OutcomeRefused, in.Reason
	}
	got, err := a.Store.SettleRequest(ctx, r, e)
	if err != nil {
		return Settled{}, permanent(err)
	}
	return Settled{ID: got.ID, Status: got.Status}, nil
}
