package onboarding

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/workflows"
)

// NewCustomer is a customer to onboard.
type NewCustomer struct {
	Name          string
	Email         string
	Cloud         string
	Contact       string
	ConfirmWithin time.Duration // zero: CONFIRM_WITHIN
}

// Validate checks every field, so that nothing is written for a bad one.
func (c NewCustomer) Validate() error {
	return errors.Join(customer.Validate(c.Name, c.Email, c.Cloud, c.Contact), customer.ValidateConfirmWithin(c.ConfirmWithin))
}

// Launched says what launching one customer did.
type Launched struct {
	OnboardingID string `json:"onboarding_id"`
	RunID        string `json:"run_id,omitempty"`
	SubaccountID string `json:"subaccount_id,omitempty"` // the customer record's id, decided at launch
	Launched     bool   `json:"launched"`                // false: it had been launched before
	State        string `json:"state,omitempty"`         // when already launched: where it stands
}

// Launch starts the onboarding of one customer unless one is already
// running, or finished with a live subaccount. Repeats are safe at each
// step: the database knows live subaccounts, and the workflow id with
// USE_EXISTING never starts a second run beside a running one. The
// resend settings (RESEND_MIN_INTERVAL, RESEND_MAX) are fixed into the
// onboarding here: it keeps those it was launched with.
func (s *Service) Launch(ctx context.Context, by Actor, partnerID string, c NewCustomer) (Launched, error) {
	if err := errors.Join(customer.ValidatePartnerID(partnerID), c.Validate()); err != nil {
		return Launched{}, err
	}
	if !by.sees(partnerID) {
		return Launched{}, fmt.Errorf("partner %q: %w", partnerID, customer.ErrUnknownPartner)
	}
	if err := s.authorize(ctx, by, permWrite, "add a customer"); err != nil {
		return Launched{}, err
	}
	if err := s.checkPartner(ctx, partnerID); err != nil {
		return Launched{}, err
	}
	l, err := s.launch(ctx, partnerID, c)
	if l.Launched || l.State == "running" {
		// The record's id follows from the run: known before the record exists.
		l.SubaccountID = workflows.NewRowIDs(l.RunID).Subaccount
	}
	detail := "launched"
	if !l.Launched {
		detail = "already launched: " + l.State
	}
	return l, s.audit(ctx, by, "add customer", partnerID, l.SubaccountID, l.OnboardingID, detail, err)
}

// AwaitRecord waits, at most d, until the customer record of a launched
// onboarding exists, and reports whether it does: the worker creates it
// moments after the launch.
func (s *Service) AwaitRecord(ctx context.Context, subaccountID string, d time.Duration) bool {
	deadline := s.now().Add(d)
	for {
		if _, err := s.store.Subaccount(ctx, subaccountID); err == nil {
			return true
		}
		if s.now().After(deadline) || ctx.Err() != nil {
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// launch starts the onboarding unless it runs already.
func (s *Service) launch(ctx context.Context, partnerID string, c NewCustomer) (Launched, error) {
	opts := workflows.StartOptions(s.taskQueue(), partnerID, c.Name)
	// A finished onboarding whose customer is live (ACTIVE) must not run again.
	if sa, err := s.store.LiveSubaccount(ctx, partnerID, c.Name); err == nil {
		return Launched{OnboardingID: sa.OnboardingID, RunID: sa.RunID, SubaccountID: sa.ID, State: "subaccount " + sa.Status}, nil
	} else if !errors.Is(err, customer.ErrNotFound) {
		return Launched{}, err
	}
	desc, err := s.temporal.DescribeWorkflow(ctx, opts.ID, "")
	switch {
	case err == nil && desc.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return Launched{OnboardingID: opts.ID, RunID: desc.WorkflowExecution.RunID, State: "running"}, nil
	case err != nil && !isNotFound(err):
		return Launched{}, fmt.Errorf("look up onboarding %q: %w", opts.ID, err)
	}
	within := c.ConfirmWithin
	if within == 0 {
		within = s.cfg.ConfirmWithin
	}
	run, err := s.temporal.ExecuteWorkflow(ctx, opts, s.workflowType(), workflows.Input{
		PartnerID: partnerID, CustomerName: c.Name, CloudName: c.Cloud, Email: c.Email, Contact: c.Contact,
		ConfirmWithin: within, ResendAfter: s.cfg.ResendAfter, MaxSends: s.cfg.MaxSends,
	})
	if err != nil {
		return Launched{}, fmt.Errorf("start onboarding %q: %w", opts.ID, err)
	}
	return Launched{OnboardingID: opts.ID, RunID: run.GetRunID(), Launched: true}, nil
}

// Yardstick returns a copy of the service that launches another workflow
// type on another task queue with exactly the same start: the benchmark's
// ceiling workflow, measured against the real one.
func (s *Service) Yardstick(taskQueue, workflowType string) *Service {
	c := *s
	c.queue, c.wfType = taskQueue, workflowType
	return &c
}

func (s *Service) taskQueue() string {
	if s.queue != "" {
		return s.queue
	}
	return s.cfg.TaskQueue
}

func (s *Service) workflowType() string {
	if s.wfType != "" {
		return s.wfType
	}
	return workflows.WorkflowName
}
