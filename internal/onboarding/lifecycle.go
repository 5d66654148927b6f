package onboarding

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// CloudAdded says what creating a cloud did.
type CloudAdded struct {
	SubaccountID string `json:"subaccount_id"`
	CloudID      string `json:"cloud_id"`
	Name         string `json:"name"`
	Organization string `json:"organization"`
	Created      bool   `json:"created"` // false: the cloud existed (the same request again)
}

// Lifecycle is where a customer stands after a suspend or a resume.
type Lifecycle struct {
	SubaccountID  string     `json:"subaccount_id"`
	Status        string     `json:"status"`
	SuspendedAt   *time.Time `json:"suspended_at,omitempty"`
	DeleteAfter   *time.Time `json:"delete_after,omitempty"`
	SuspendReason string     `json:"suspend_reason,omitempty"`
	Changed       bool       `json:"changed"` // false: it already stood so
}

// customerRecord is the record of the customer an id names, which must exist.
func (s *Service) customerRecord(ctx context.Context, by Actor, id string) (store.Subaccount, error) {
	t, err := s.resolve(ctx, by, id)
	if err != nil {
		return store.Subaccount{}, err
	}
	if t.sa != nil {
		return *t.sa, nil
	}
	sa, err := s.store.SubaccountByOnboarding(ctx, t.id)
	if errors.Is(err, customer.ErrNotFound) {
		if _, derr := s.describe(ctx, t.id, ""); derr != nil {
			return store.Subaccount{}, derr
		}
		return store.Subaccount{}, refuse("onboarding %q has no customer record yet; try again in a moment", t.id)
	}
	return sa, err
}

// settled refuses a customer that is not past onboarding: unconfirmed,
// deleted, or active but still waiting for its first cloud.
func settled(sa store.Subaccount, what string) error {
	switch {
	case sa.Status == customer.StatusInactive:
		return fmt.Errorf("cannot %s: the subaccount of %s has been deleted (%s): %w", what, sa.OnboardingID, sa.DeletedReason, customer.ErrDeleted)
	case sa.Status == customer.StatusAcceptanceRequired:
		return fmt.Errorf("cannot %s: the customer of %s has not confirmed yet (%s): %w", what, sa.OnboardingID,
			customer.StatusLabel(sa.Status), customer.ErrNotActive)
	case sa.Clouds == 0:
		return fmt.Errorf("cannot %s yet: the onboarding of %s is still creating the customer's first cloud; try again in a moment: %w",
			what, sa.OnboardingID, customer.ErrNotActive)
	}
	return nil
}

// operate sends an operation to the subaccount's customer workflow,
// starting it if this is the first: one workflow per subaccount carries out
// its operations one at a time.
func (s *Service) operate(ctx context.Context, sa store.Subaccount, what, name, updateID string, arg, result any) error {
	if err := s.needWorker(ctx, what, s.cfg.TaskQueue); err != nil {
		return err
	}
	in := workflows.CustomerInput{PartnerID: sa.PartnerID, SubaccountID: sa.ID, CustomerName: sa.Name, Status: sa.Status}
	if sa.SuspensionID != "" && sa.SuspendedAt != nil && sa.DeleteAfter != nil {
		in.Suspension = &workflows.Suspension{ID: sa.SuspensionID, Reason: sa.SuspendReason, At: sa.SuspendedAt.UTC(), DeleteAfter: sa.DeleteAfter.UTC()}
	}
	if updateID == "" {
		updateID = name + "-" + uuid.NewString()
	}
	return s.await(ctx, what, sa.OnboardingID, func(ctx context.Context) (client.WorkflowUpdateHandle, error) {
		start := s.temporal.NewWithStartWorkflowOperation(workflows.CustomerStartOptions(s.cfg.TaskQueue, in), workflows.CustomerWorkflowName, in)
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

// AddCloud creates another cloud for an ACTIVE customer, in the customer's
// organization. The same name again returns the same cloud and creates
// nothing; a name another cloud of the organization holds, a customer that
// is not ACTIVE and an unknown customer are refused, with nothing written.
func (s *Service) AddCloud(ctx context.Context, by Actor, id, name string) (CloudAdded, error) {
	c, err := s.addCloud(ctx, by, id, name)
	detail := "cloud " + truncate(name, 63)
	if err == nil && !c.Created {
		detail += " (existed)"
	}
	return c, s.auditOn(ctx, by, "create cloud", id, detail, err)
}

func (s *Service) addCloud(ctx context.Context, by Actor, id, name string) (CloudAdded, error) {
	if err := s.authorize(ctx, by, permWrite, "create a cloud"); err != nil {
		return CloudAdded{}, err
	}
	if err := customer.ValidateCloudName(name); err != nil {
		return CloudAdded{}, err
	}
	sa, err := s.customerRecord(ctx, by, id)
	if err != nil {
		return CloudAdded{}, err
	}
	if err := settled(sa, "create a cloud"); err != nil {
		return CloudAdded{}, err
	}
	if sa.Status == customer.StatusSuspended {
		return CloudAdded{}, fmt.Errorf("cannot create a cloud: %w", customer.ErrSuspended)
	}
	var res workflows.CloudResult
	// The cloud's id follows from the name, so the same request again, or
	// two at once, create one cloud; the second is told it existed.
	if err := s.operate(ctx, sa, "create cloud", workflows.UpdateAddCloud, "", workflows.CloudRequest{Name: name}, &res); err != nil {
		return CloudAdded{}, err
	}
	return CloudAdded{SubaccountID: sa.ID, CloudID: res.CloudID, Name: res.Name, Organization: customer.OrganizationName(sa.Name), Created: res.Created}, nil
}

// Clouds lists a customer's clouds, oldest (the onboarding's) first.
func (s *Service) Clouds(ctx context.Context, by Actor, id string) ([]store.Cloud, error) {
	if err := s.authorize(ctx, by, permRead, "list clouds"); err != nil {
		return nil, err
	}
	sa, err := s.customerRecord(ctx, by, id)
	if err != nil {
		return nil, err
	}
	return s.store.Clouds(ctx, sa.ID)
}

// Suspend stops an ACTIVE customer's services: the subaccount becomes
// SUSPENDED and is deleted after the retention period (zero:
// SUSPEND_RETENTION, by default 60 days) unless resumed. Suspending a suspended customer changes nothing; every
// other state is refused.
func (s *Service) Suspend(ctx context.Context, by Actor, id, reason string, retention time.Duration) (Lifecycle, error) {
	l, err := s.suspend(ctx, by, id, reason, retention)
	detail := truncate(reason, 200)
	if err == nil && !l.Changed {
		detail = "already suspended"
	}
	return l, s.auditOn(ctx, by, "suspend", id, detail, err)
}

func (s *Service) suspend(ctx context.Context, by Actor, id, reason string, retention time.Duration) (Lifecycle, error) {
	if err := s.authorize(ctx, by, permWrite, "suspend"); err != nil {
		return Lifecycle{}, err
	}
	if err := errors.Join(customer.ValidateSuspendReason(reason), customer.ValidateRetention(retention)); err != nil {
		return Lifecycle{}, err
	}
	sa, err := s.customerRecord(ctx, by, id)
	if err != nil {
		return Lifecycle{}, err
	}
	if err := settled(sa, "suspend"); err != nil {
		return Lifecycle{}, err
	}
	if sa.Status == customer.StatusSuspended {
		return lifecycleOf(sa, false), nil
	}
	if retention == 0 {
		retention = s.cfg.SuspendRetention
	}
	var st workflows.CustomerStatus
	if err := s.operate(ctx, sa, "suspend", workflows.UpdateSuspend, "", workflows.SuspendRequest{Reason: reason, Retention: retention}, &st); err != nil {
		return Lifecycle{}, err
	}
	return lifecycleOfStatus(st), nil
}

// Resume resumes a SUSPENDED customer's services: ACTIVE again, the
// deletion called off. Resuming an active customer changes nothing; every
// other state is refused.
func (s *Service) Resume(ctx context.Context, by Actor, id string) (Lifecycle, error) {
	l, err := s.resume(ctx, by, id)
	detail := ""
	if err == nil && !l.Changed {
		detail = "already active"
	}
	return l, s.auditOn(ctx, by, "resume", id, detail, err)
}

func (s *Service) resume(ctx context.Context, by Actor, id string) (Lifecycle, error) {
	if err := s.authorize(ctx, by, permWrite, "resume"); err != nil {
		return Lifecycle{}, err
	}
	sa, err := s.customerRecord(ctx, by, id)
	if err != nil {
		return Lifecycle{}, err
	}
	if err := settled(sa, "resume"); err != nil {
		return Lifecycle{}, err
	}
	if sa.Status == customer.StatusActive {
		return lifecycleOf(sa, false), nil
	}
	var st workflows.CustomerStatus
	if err := s.operate(ctx, sa, "resume", workflows.UpdateResume, "", nil, &st); err != nil {
		return Lifecycle{}, err
	}
	return lifecycleOfStatus(st), nil
}

func lifecycleOf(sa store.Subaccount, changed bool) Lifecycle {
	return Lifecycle{SubaccountID: sa.ID, Status: sa.Status, SuspendedAt: sa.SuspendedAt, DeleteAfter: sa.DeleteAfter,
		SuspendReason: sa.SuspendReason, Changed: changed}
}

func lifecycleOfStatus(st workflows.CustomerStatus) Lifecycle {
	l := Lifecycle{SubaccountID: st.SubaccountID, Status: st.Status, Changed: true}
	if st.Suspension != nil {
		l.SuspendedAt, l.DeleteAfter, l.SuspendReason = timePtr(st.Suspension.At), timePtr(st.Suspension.DeleteAfter), st.Suspension.Reason
	}
	return l
}
