// Package lifecycle holds the actions on a customer after its onboarding:
// more clouds, stopping its services (suspend) and resuming them. Each is
// carried out by the subaccount's customer workflow, one at a time, and
// each is audited.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
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
}

// Lifecycle is where a customer stands after a suspend or a resume.
type Lifecycle struct {
	SubaccountID  string
	Status        string
	SuspendedAt   *time.Time
	DeleteAfter   *time.Time
	SuspendReason string
	Changed       bool // false: it already stood so
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

// operate sends an operation to the subaccount's customer workflow,
// starting it if this is the first: one workflow per subaccount carries out
// its operations one at a time.
func (s *Service) operate(ctx context.Context, sa domain.Subaccount, what, name string, arg, result any) error {
	if err := s.requests.NeedWorker(ctx, what, s.taskQueue); err != nil {
		return err
	}
	in := workflows.CustomerInput{PartnerID: sa.PartnerID, SubaccountID: sa.ID, CustomerName: sa.Name, Status: sa.Status}
	if sa.SuspensionID != "" && sa.SuspendedAt != nil && sa.DeleteAfter != nil {
		in.Suspension = &workflows.Suspension{ID: sa.SuspensionID, Reason: sa.SuspendReason, At: sa.SuspendedAt.UTC(), DeleteAfter: sa.DeleteAfter.UTC()}
	}
	updateID := name + "-" + uuid.NewString()
	return s.requests.Update(ctx, what, func(ctx context.Context) (client.WorkflowUpdateHandle, error) {
		start := s.temporal.NewWithStartWorkflowOperation(workflows.CustomerStartOptions(s.taskQueue, in), workflows.CustomerWorkflowName, in)
		args := []any{}
		if arg != nil {
			args = append(args, arg)
		}
		return s.temporal.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
			StartWorkflowOperation: start,
			UpdateOptions: client.UpdateWorkflowOptions{WorkflowID: workflows.CustomerWorkflowID(sa.ID), UpdateID: updateID,
				UpdateName: name, Args: args, WaitForStage: client.WorkflowUpdateStageCompleted},
		})
	}, result)
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
// written.
func (s *Service) AddCloud(ctx context.Context, by domain.Actor, ref, name string) (CloudAdded, error) {
	c, sa, err := s.addCloud(ctx, by, ref, name)
	detail := "cloud " + text.Truncate(name, 63)
	if err == nil && !c.Created {
		detail += " (existed)"
	}
	return c, s.audit.Record(ctx, by, "create cloud", target(by, ref, sa), detail, err)
}

func (s *Service) addCloud(ctx context.Context, by domain.Actor, ref, name string) (CloudAdded, domain.Subaccount, error) {
	// Found first, so that a refusal is in the customer's audit log.
	sa, clouds, err := s.record(ctx, by, ref)
	if aerr := by.Authorize(domain.Write, "create a cloud"); aerr != nil {
		return CloudAdded{}, sa, aerr
	}
	if verr := domain.ValidateCloudName(name); verr != nil {
		return CloudAdded{}, sa, verr
	}
	if err != nil {
		return CloudAdded{}, sa, err
	}
	if err := settled(sa, "create a cloud"); err != nil {
		return CloudAdded{}, sa, err
	}
	if sa.Status == domain.StatusSuspended {
		return CloudAdded{}, sa, fmt.Errorf("cannot create a cloud: %w", domain.ErrSuspended)
	}
	for _, c := range clouds {
		if c.Name == name {
			// The organization holds it: the same request again, answered
			// from the record, at no cost in Temporal.
			return CloudAdded{SubaccountID: sa.ID, Cloud: c, Organization: sa.Organization()}, sa, nil
		}
	}
	var res workflows.CloudResult
	// The cloud's id follows from the name, so the same request again, or
	// two at once, create one cloud; the second is told it existed.
	if err := s.operate(ctx, sa, "create cloud", workflows.UpdateAddCloud, workflows.CloudRequest{Name: name}, &res); err != nil {
		return CloudAdded{}, sa, err
	}
	c := domain.Cloud{ID: res.CloudID, OrganizationID: sa.OrganizationID, Name: res.Name, CreatedAt: time.Now().UTC()}
	if !res.Created {
		// It existed (a request that raced this one): its record says when.
		if _, clouds, err := s.store.Customer(ctx, by.Scope(), sa.ID); err == nil {
			for _, have := range clouds {
				if have.Name == name {
					c = have
				}
			}
		}
	}
	return CloudAdded{SubaccountID: sa.ID, Cloud: c, Organization: sa.Organization(), Created: res.Created}, sa, nil
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
func (s *Service) Suspend(ctx context.Context, by domain.Actor, ref, reason string, retention time.Duration) (Lifecycle, error) {
	l, sa, err := s.suspend(ctx, by, ref, reason, retention)
	detail := text.Truncate(reason, 200)
	if err == nil && !l.Changed {
		detail = "already suspended"
	}
	return l, s.audit.Record(ctx, by, "suspend", target(by, ref, sa), detail, err)
}

func (s *Service) suspend(ctx context.Context, by domain.Actor, ref, reason string, retention time.Duration) (Lifecycle, domain.Subaccount, error) {
	sa, _, err := s.record(ctx, by, ref)
	if aerr := by.Authorize(domain.Write, "suspend"); aerr != nil {
		return Lifecycle{}, sa, aerr
	}
	if verr := errors.Join(domain.ValidateSuspendReason(reason), domain.ValidateRetention(retention)); verr != nil {
		return Lifecycle{}, sa, verr
	}
	if err != nil {
		return Lifecycle{}, sa, err
	}
	if err := settled(sa, "suspend"); err != nil {
		return Lifecycle{}, sa, err
	}
	if sa.Status == domain.StatusSuspended {
		return lifecycleOf(sa, false), sa, nil
	}
	if retention == 0 {
		retention = s.retention
	}
	var st workflows.CustomerStatus
	if err := s.operate(ctx, sa, "suspend", workflows.UpdateSuspend, workflows.SuspendRequest{Reason: reason, Retention: retention}, &st); err != nil {
		return Lifecycle{}, sa, err
	}
	return lifecycleOfStatus(st), sa, nil
}

// Resume resumes a SUSPENDED customer's services: ACTIVE again, the
// deletion called off. Resuming an active customer changes nothing; every
// other state is refused.
func (s *Service) Resume(ctx context.Context, by domain.Actor, ref string) (Lifecycle, error) {
	l, sa, err := s.resume(ctx, by, ref)
	detail := ""
	if err == nil && !l.Changed {
		detail = "already active"
	}
	return l, s.audit.Record(ctx, by, "resume", target(by, ref, sa), detail, err)
}

func (s *Service) resume(ctx context.Context, by domain.Actor, ref string) (Lifecycle, domain.Subaccount, error) {
	sa, _, err := s.record(ctx, by, ref)
	if aerr := by.Authorize(domain.Write, "resume"); aerr != nil {
		return Lifecycle{}, sa, aerr
	}
	if err != nil {
		return Lifecycle{}, sa, err
	}
	if err := settled(sa, "resume"); err != nil {
		return Lifecycle{}, sa, err
	}
	if sa.Status == domain.StatusActive {
		return lifecycleOf(sa, false), sa, nil
	}
	var st workflows.CustomerStatus
	if err := s.operate(ctx, sa, "resume", workflows.UpdateResume, nil, &st); err != nil {
		return Lifecycle{}, sa, err
	}
	return lifecycleOfStatus(st), sa, nil
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
