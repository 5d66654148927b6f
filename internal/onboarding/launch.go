package onboarding

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/workflows"
)

// NewCustomer is a customer to onboard.
type NewCustomer struct {
	Name          string
	Email         string
	Cloud         string
	Contact       string
	ConfirmWithin time.Duration // zero: the configured default
}

// Validate checks every field, so that nothing is written for a bad one.
func (c NewCustomer) Validate() error {
	return errors.Join(domain.Validate(c.Name, c.Email, c.Cloud, c.Contact), domain.ValidateConfirmWithin(c.ConfirmWithin))
}

// Launched says what launching one customer did.
type Launched struct {
	OnboardingID string
	RunID        string
	SubaccountID string // the customer record's id, decided at launch
	Launched     bool   // false: it had been launched before
	State        string // when already launched: where it stands
}

// Launch starts the onboarding of one customer unless one is already
// running, or finished with a live subaccount. Repeats are safe at each
// step: the database knows live subaccounts, and the workflow id with
// USE_EXISTING never starts a second run beside a running one. The
// resend settings are fixed into the onboarding here: it keeps those it
// was launched with.
func (s *Service) Launch(ctx context.Context, by domain.Actor, partnerID string, c NewCustomer) (Launched, error) {
	l, err := s.launch(ctx, by, partnerID, c)
	if (l.Launched || l.State == "running") && l.RunID != "" {
		// The record's id follows from the run: known before the record exists.
		l.SubaccountID = workflows.NewRowIDs(l.RunID).Subaccount
	}
	if err == nil && l.Launched {
		// A launch is in the audit log with the record it creates: written
		// by the onboarding's first activity, in that transaction, once.
		return l, nil
	}
	detail := ""
	if err == nil {
		detail = "already launched: " + l.State
	}
	on := audit.Target{PartnerID: partnerID, SubaccountID: l.SubaccountID, OnboardingID: l.OnboardingID}
	if !by.Sees(partnerID) {
		on.PartnerID = by.PartnerID
	}
	return l, s.audit.Record(ctx, by, "add customer", on, detail, err)
}

func (s *Service) launch(ctx context.Context, by domain.Actor, partnerID string, c NewCustomer) (Launched, error) {
	if err := errors.Join(domain.ValidatePartnerID(partnerID), c.Validate()); err != nil {
		return Launched{}, err
	}
	if err := s.CheckPartner(ctx, by, partnerID); err != nil {
		return Launched{}, err
	}
	opts := workflows.StartOptions(s.set.TaskQueue, partnerID, c.Name)
	// A finished onboarding whose customer is live (ACTIVE) must not run again.
	if sa, err := s.store.LiveSubaccount(ctx, partnerID, c.Name); err == nil {
		return Launched{OnboardingID: sa.OnboardingID, RunID: sa.RunID, SubaccountID: sa.ID, State: "subaccount " + sa.Status}, nil
	} else if !errors.Is(err, domain.ErrNotFound) {
		return Launched{}, err
	}
	desc, err := s.temporal.DescribeWorkflow(ctx, opts.ID, "")
	switch {
	case err == nil && desc.Status == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return Launched{OnboardingID: opts.ID, RunID: desc.WorkflowExecution.RunID, State: "running"}, nil
	case err != nil && !request.IsNotFound(err):
		return Launched{}, fmt.Errorf("look up onboarding %q: %w", opts.ID, err)
	}
	within := c.ConfirmWithin
	if within == 0 {
		within = s.set.ConfirmWithin
	}
	run, err := s.temporal.ExecuteWorkflow(ctx, opts, s.workflowType(), workflows.Input{
		PartnerID: partnerID, CustomerName: c.Name, CloudName: c.Cloud, Email: c.Email, Contact: c.Contact,
		ConfirmWithin: within, ResendAfter: s.set.ResendAfter, MaxSends: s.set.MaxSends,
		LaunchedBy: &workflows.Actor{Kind: by.Kind, ID: by.ID, Addr: by.Addr},
	})
	if err != nil {
		return Launched{}, fmt.Errorf("start onboarding %q: %w", opts.ID, err)
	}
	return Launched{OnboardingID: opts.ID, RunID: run.GetRunID(), Launched: true}, nil
}

// CheckPartner refuses what Launch would refuse of a partner: one the
// actor may not act for, an unknown one, one without partner status —
// checked once before many launches. A partner's own actor carries its
// partner's status; an operator's partner is read.
func (s *Service) CheckPartner(ctx context.Context, by domain.Actor, partnerID string) error {
	if err := domain.ValidatePartnerID(partnerID); err != nil {
		return err
	}
	if err := by.Authorize(domain.Write, "add customers"); err != nil {
		return err
	}
	if !by.Sees(partnerID) {
		return domain.UnknownPartner(partnerID)
	}
	if by.Scope() != "" {
		return nil // Authorize checked the actor's own partner's status
	}
	p, err := s.store.Partner(ctx, partnerID)
	switch {
	case err != nil:
		return err
	case !p.PartnerStatus:
		return domain.NoPartnerStatus(partnerID)
	}
	return nil
}

// AwaitRecord waits, at most d, until the customer record of a launched
// onboarding exists, and reports whether it does: the worker creates it
// moments after the launch.
func (s *Service) AwaitRecord(ctx context.Context, by domain.Actor, subaccountID string, d time.Duration) bool {
	deadline := s.now().Add(d)
	for {
		if _, err := s.store.Subaccount(ctx, by.Scope(), subaccountID); err == nil {
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
