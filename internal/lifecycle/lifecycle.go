// Package lifecycle holds the actions on a customer after its onboarding:
// more clouds, stopping its services (suspend) and resuming them. Each is
// carried out by the subaccount's customer workflow, one at a time, and
// each is audited.
package lifecycle

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
	"github.com/cloudpartners/onboarding/workflows"
)

// Service carries out the actions. It is safe for concurrent use.
type Service struct {
	temporal  client.Client
	store     *store.Store
	audit     *audit.Log
	requests  *request.Sender
	taskQueue string
	retention time.Duration // a suspension's retention when the request names none
}

// New returns the actions over a Temporal client, the store and the audit
// log; the customer workflows run on taskQueue, and a suspension keeps the
// data for retention (zero: 60 days) unless it says otherwise.
func New(tc client.Client, st *store.Store, log *audit.Log, requests *request.Sender, taskQueue string, retention time.Duration) *Service {
	if retention == 0 {
		retention = domain.DefaultRetention
	}
	return &Service{temporal: tc, store: st, audit: log, requests: requests, taskQueue: taskQueue, retention: retention}
}

// CloudAdded says what creating a cloud did.
type CloudAdded struct {
	SubaccountID string
	Cloud        domain.Cloud
	Organization domain.Organization
	Created      bool // false: the cloud existed (the same request again)
	// Request is the request sent to the customer's workflow: accepted
	// (pending: Cloud has its name only) or done; zero when the record
	// answered (the cloud existed).
	Request domain.Request
}

// Lifecycle is where a customer stands after a suspend or a resume.
type Lifecycle struct {
	SubaccountID  string
	Status        string
	SuspendedAt   *time.Time
	DeleteAfter   *time.Time
	SuspendReason string
	Changed       bool // false: it already stood so
	// Request is the request sent to the customer's workflow: accepted
	// (pending: the status is still the record's) or done; zero when the
	// record answered (it already stood so).
	Request domain.Request
}

// record is the record of the customer a reference names — its subaccount
// id or onboarding id — among the actor's partner's, in one query.
func (s *Service) record(ctx context.Context, by domain.Actor, ref string) (domain.Subaccount, []domain.Cloud, error) {
	sa, clouds, err := s.store.Customer(ctx, by.Scope(), ref)
	if errors.Is(err, domain.ErrNotFound) {
		if p := workflows.PartnerOf(ref); p != "" && by.Sees(p) && workflows.Carriable(ref) {
			if _, derr := s.temporal.DescribeWorkflow(ctx, ref, ""); derr == nil {
				return domain.Subaccount{}, nil, domain.Errorf(domain.NotYet, domain.ErrNoRecordYet.Code,
					"onboarding %q has no customer record yet; try again in a moment", text.Truncate(ref, 120))
			}
		}
		return domain.Subaccount{}, nil, domain.NotFoundf("no customer or onboarding %q", text.Truncate(ref, 120))
	}
	return sa, clouds, err
}

// settled refuses a customer that is not past onboarding: unconfirmed,
// deleted, or active but still waiting for its first cloud.
func settled(sa domain.Subaccount, what string) error {
	switch {
	case sa.Status == domain.StatusInactive:
		return domain.Errorf(domain.Conflict, domain.ErrDeleted.Code, "cannot %s: the customer of %s has been deleted (%s)", what, sa.OnboardingID, sa.DeletedReason)
	case sa.Status == domain.StatusAcceptanceRequired:
		return domain.Errorf(domain.NotYet, domain.ErrNotActive.Code, "cannot %s: the customer of %s has not confirmed yet (%s)", what, sa.OnboardingID,
			domain.StatusLabel(sa.Status))
	case sa.Clouds == 0:
		return domain.Errorf(domain.NotYet, domain.ErrNotActive.Code,
			"cannot %s yet: the onboarding of %s is still creating the customer's first cloud; try again in a moment", what, sa.OnboardingID)
	}
	return nil
}

// statusPending reports whether a suspend or a resume waits for the
// customer's workflow: the status the record shows may change before the
// workflow takes a new request, so what depends on it — "already
// suspended", "already active", no cloud while suspended — is left to the
// workflow, which takes requests in the order they came.
func statusPending(sa domain.Subaccount) bool {
	for _, r := range sa.Pending {
		if r.Kind == domain.RequestSuspend || r.Kind == domain.RequestResume {
			return true
		}
	}
	return false
}

// request sends a request to the subaccount's customer workflow,
// starting it if this is the first (signal-with-start): one workflow per
// subaccount carries out its requests one at a time. It is accepted once
// sent, and followed a bounded time (request.Sender.Send).
func (s *Service) request(ctx context.Context, by domain.Actor, sa domain.Subaccount, r request.Payload) (domain.Request, error) {
	in := workflows.CustomerInput{PartnerID: sa.PartnerID, SubaccountID: sa.ID, CustomerName: sa.Name, Status: sa.Status}
	if sa.SuspensionID != "" && sa.SuspendedAt != nil && sa.DeleteAfter != nil {
		in.Suspension = &workflows.Suspension{ID: sa.SuspensionID, Reason: sa.SuspendReason, At: sa.SuspendedAt.UTC(), DeleteAfter: sa.DeleteAfter.UTC()}
	}
	return s.requests.Send(ctx, r, s.taskQueue, func(ctx context.Context, r request.Payload) error {
		_, err := s.temporal.SignalWithStartWorkflow(ctx, workflows.CustomerWorkflowID(sa.ID), workflows.SignalRequest, r,
			workflows.CustomerStartOptions(s.taskQueue, in), workflows.CustomerWorkflowName, in)
		return err
	})
}

// newRequest is a request of kind to the customer's workflow; a bad id is
// refused before anything is sent.
func (s *Service) newRequest(by domain.Actor, sa domain.Subaccount, kind, requestID, summary string) (request.Payload, error) {
	r, err := request.For(by, kind, requestID, workflows.CustomerWorkflowID(sa.ID), sa, time.Now())
	r.Summary = summary
	return r, err
}

func target(by domain.Actor, ref string, sa domain.Subaccount) audit.Target {
	if sa.ID != "" {
		return audit.Target{PartnerID: sa.PartnerID, SubaccountID: sa.ID, OnboardingID: sa.OnboardingID}
	}
	return audit.Target{PartnerID: by.PartnerID, OnboardingID: ref}
}

// AddCloud creates another cloud for an ACTIVE customer, in the customer's
// organization. A name the organization already holds — the first cloud's
// or a later one's — returns that cloud and creates nothing; a customer
// that is not ACTIVE and an unknown customer are refused, with nothing
// written. Otherwise the request goes to the customer's workflow: done,
// or accepted (Request.Pending()) to be carried out when a worker takes
// it. requestID is the idempotency key ("": a new request).
func (s *Service) AddCloud(ctx context.Context, by domain.Actor, ref, name, requestID string) (CloudAdded, error) {
	sa, clouds, err := s.record(ctx, by, ref)
	if got, ok, perr := s.replay(ctx, by, sa, err, domain.RequestAddCloud, requestID, domain.RequestAddCloud+" "+name); ok {
		out := CloudAdded{SubaccountID: sa.ID, Organization: sa.Organization(), Cloud: domain.Cloud{OrganizationID: sa.OrganizationID, Name: name}, Request: got}
		var res workflows.CloudResult
		if perr == nil && got.Status == domain.RequestDone && json.Unmarshal(got.Result, &res) == nil {
			out.Cloud.ID, out.Created = res.CloudID, res.Created
			for _, c := range clouds {
				if c.Name == name {
					out.Cloud = c
				}
			}
		}
		return out, perr
	}
	err = firstOf(by.Authorize(domain.Write, "create a cloud"), domain.ValidateCloudName(name), err)
	if err == nil {
		err = settled(sa, "create a cloud")
	}
	if err == nil && sa.Status == domain.StatusSuspended && !statusPending(sa) {
		err = fmt.Errorf("cannot create a cloud: %w", domain.ErrSuspended)
	}
	if err != nil {
		return CloudAdded{}, s.audit.Record(ctx, by, "create cloud", target(by, ref, sa), "cloud "+text.Truncate(name, 63), err)
	}
	for _, c := range clouds {
		if c.Name == name {
			// The organization holds it: the same request again, answered
			// from the record, at no cost in Temporal.
			return CloudAdded{SubaccountID: sa.ID, Cloud: c, Organization: sa.Organization()},
				s.audit.Record(ctx, by, "create cloud", target(by, ref, sa), "cloud "+name+" (existed)", nil)
		}
	}
	r, err := s.newRequest(by, sa, domain.RequestAddCloud, requestID, "create cloud "+name)
	if err != nil {
		return CloudAdded{}, s.audit.Record(ctx, by, "create cloud", target(by, ref, sa), "cloud "+name, err)
	}
	r.CloudName, r.Fingerprint = name, domain.RequestAddCloud+" "+name
	out := CloudAdded{SubaccountID: sa.ID, Organization: sa.Organization(), Cloud: domain.Cloud{OrganizationID: sa.OrganizationID, Name: name}}
	out.Request, err = s.request(ctx, by, sa, r)
	if err != nil || out.Request.Status != domain.RequestDone {
		return out, s.unsent(ctx, by, ref, sa, "create cloud", err)
	}
	var res workflows.CloudResult
	if err := json.Unmarshal(out.Request.Result, &res); err != nil {
		return out, err
	}
	out.Cloud.ID, out.Created = res.CloudID, res.Created
	out.Cloud.CreatedAt = time.Now().UTC()
	// Its record says when it was created (a request that raced this one made it).
	if _, clouds, err := s.store.Customer(ctx, by.Scope(), sa.ID); err == nil {
		for _, have := range clouds {
			if have.Name == name {
				out.Cloud = have
			}
		}
	}
	return out, nil
}

// unsent audits a request that was not sent: refused (a key reused) or not
// delivered. A request sent is audited by its workflow when it settles it.
func (s *Service) unsent(ctx context.Context, by domain.Actor, ref string, sa domain.Subaccount, action string, err error) error {
	if errors.Is(err, request.ErrReused) {
		return s.audit.Record(ctx, by, action, target(by, ref, sa), "", err)
	}
	return err
}

// firstOf is the first error that is not nil: a refusal of the role wins
// over a bad argument, which wins over a customer not found.
func firstOf(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Clouds lists a customer's clouds, oldest (the onboarding's) first.
func (s *Service) Clouds(ctx context.Context, by domain.Actor, ref string) ([]domain.Cloud, error) {
	if err := by.Authorize(domain.Read, "list clouds"); err != nil {
		return nil, err
	}
	_, clouds, err := s.record(ctx, by, ref)
	return clouds, err
}

// Suspend stops an ACTIVE customer's services: the subaccount becomes
// SUSPENDED and is deleted after the retention period (zero: the
// configured default, 60 days at most) unless resumed. Suspending a
// suspended customer changes nothing; every other state is refused.
func (s *Service) Suspend(ctx context.Context, by domain.Actor, ref, reason string, retention time.Duration, requestID string) (Lifecycle, error) {
	sa, _, err := s.record(ctx, by, ref)
	if retention == 0 {
		retention = s.retention
	}
	if got, ok, perr := s.replay(ctx, by, sa, err, domain.RequestSuspend, requestID, suspendPrint(retention, reason)); ok {
		return s.answered(sa, got, perr)
	}
	err = firstOf(by.Authorize(domain.Write, "suspend"), errors.Join(domain.ValidateSuspendReason(reason), domain.ValidateRetention(retention)), err)
	if err == nil {
		err = settled(sa, "suspend")
	}
	detail := text.Truncate(reason, 200)
	switch {
	case err != nil:
		return Lifecycle{}, s.audit.Record(ctx, by, "suspend", target(by, ref, sa), detail, err)
	case sa.Status == domain.StatusSuspended && !statusPending(sa):
		return lifecycleOf(sa, false), s.audit.Record(ctx, by, "suspend", target(by, ref, sa), "already suspended", nil)
	}
	r, err := s.newRequest(by, sa, domain.RequestSuspend, requestID, "stop the services")
	if err != nil {
		return Lifecycle{}, s.audit.Record(ctx, by, "suspend", target(by, ref, sa), detail, err)
	}
	r.SuspendReason, r.Retention, r.Fingerprint = reason, retention, suspendPrint(retention, reason)
	return s.lifecycleRequest(ctx, by, ref, sa, r, "suspend")
}

// Resume resumes a SUSPENDED customer's services: ACTIVE again, the
// deletion called off. Resuming an active customer changes nothing; every
// other state is refused.
func (s *Service) Resume(ctx context.Context, by domain.Actor, ref, requestID string) (Lifecycle, error) {
	sa, _, err := s.record(ctx, by, ref)
	if got, ok, perr := s.replay(ctx, by, sa, err, domain.RequestResume, requestID, domain.RequestResume); ok {
		return s.answered(sa, got, perr)
	}
	err = firstOf(by.Authorize(domain.Write, "resume"), err)
	if err == nil {
		err = settled(sa, "resume")
	}
	switch {
	case err != nil:
		return Lifecycle{}, s.audit.Record(ctx, by, "resume", target(by, ref, sa), "", err)
	case sa.Status == domain.StatusActive && !statusPending(sa):
		return lifecycleOf(sa, false), s.audit.Record(ctx, by, "resume", target(by, ref, sa), "already active", nil)
	}
	r, err := s.newRequest(by, sa, domain.RequestResume, requestID, "resume the services")
	if err != nil {
		return Lifecycle{}, s.audit.Record(ctx, by, "resume", target(by, ref, sa), "", err)
	}
	return s.lifecycleRequest(ctx, by, ref, sa, r, "resume")
}

// suspendPrint is what a suspend request asked, to tell a retry from
// another request under the same id.
func suspendPrint(retention time.Duration, reason string) string {
	return fmt.Sprintf("%s %s %q", domain.RequestSuspend, retention, reason)
}

// replay answers a request id used before as its first request was
// answered (request.Sender.Prior), before anything else is checked. ok is
// false for a new id, and for what is not the actor's to ask.
func (s *Service) replay(ctx context.Context, by domain.Actor, sa domain.Subaccount, findErr error, kind, requestID, fingerprint string) (domain.Request, bool, error) {
	if requestID == "" || findErr != nil || by.Authorize(domain.Write, kind) != nil {
		return domain.Request{}, false, nil
	}
	r, err := s.newRequest(by, sa, kind, requestID, "")
	if err != nil {
		return domain.Request{}, false, nil // refused with the request, below
	}
	r.Fingerprint = fingerprint
	return s.requests.Prior(ctx, r, s.taskQueue)
}

// answered is where a customer stands after a suspend or a resume request:
// as the workflow answered once done; as the record says, with the
// request pending, once accepted.
func (s *Service) answered(sa domain.Subaccount, got domain.Request, err error) (Lifecycle, error) {
	if err != nil {
		return Lifecycle{Request: got}, err
	}
	if got.Status != domain.RequestDone {
		l := lifecycleOf(sa, false)
		l.Request = got
		return l, nil
	}
	var st workflows.CustomerStatus
	if err := json.Unmarshal(got.Result, &st); err != nil {
		return Lifecycle{Request: got}, err
	}
	l := lifecycleOfStatus(st)
	l.Request = got
	return l, nil
}

// lifecycleRequest sends a suspend or a resume and says where the
// customer stands: as the workflow answered once done; as the record
// says, with the request pending, once accepted.
func (s *Service) lifecycleRequest(ctx context.Context, by domain.Actor, ref string, sa domain.Subaccount, r request.Payload, action string) (Lifecycle, error) {
	got, err := s.request(ctx, by, sa, r)
	if err != nil {
		return Lifecycle{Request: got}, s.unsent(ctx, by, ref, sa, action, err)
	}
	return s.answered(sa, got, nil)
}

func lifecycleOf(sa domain.Subaccount, changed bool) Lifecycle {
	return Lifecycle{SubaccountID: sa.ID, Status: sa.Status, SuspendedAt: sa.SuspendedAt, DeleteAfter: sa.DeleteAfter,
		SuspendReason: sa.SuspendReason, Changed: changed}
}

func lifecycleOfStatus(st workflows.CustomerStatus) Lifecycle {
	l := Lifecycle{SubaccountID: st.SubaccountID, Status: st.Status, Changed: true}
	if st.Suspension != nil {
		at, del := st.Suspension.At.UTC(), st.Suspension.DeleteAfter.UTC()
		l.SuspendedAt, l.DeleteAfter, l.SuspendReason = &at, &del, st.Suspension.Reason
	}
	return l
}
