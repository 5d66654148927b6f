package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
	"github.com/cloudpartners/onboarding/workflows"
)

// Link is a customer's confirmation link, for the partner to send by other means.
type Link struct {
	OnboardingID string
	SubaccountID string
	URL          string
	ValidUntil   time.Time
}

// Link returns the confirmation link of an onboarding that waits for
// confirmation; refused in every other state.
func (s *Service) Link(ctx context.Context, by domain.Actor, ref string) (Link, error) {
	l, f, err := s.link(ctx, by, ref)
	return l, s.audit.Record(ctx, by, "copy link", target(by, ref, f.sa), "", err)
}

func (s *Service) link(ctx context.Context, by domain.Actor, ref string) (Link, found, error) {
	f, err := s.find(ctx, by, ref)
	if aerr := by.Authorize(domain.Write, "copy the link"); aerr != nil {
		return Link{}, f, aerr
	}
	if err != nil {
		return Link{}, found{}, err
	}
	v, err := s.view(ctx, by, f)
	if err != nil {
		return Link{}, f, err
	}
	sa := f.sa
	notAwaiting := func(why string) error {
		return domain.Errorf(domain.Conflict, domain.ErrRefused.Code, "onboarding %q is not awaiting confirmation: %s", v.OnboardingID, why)
	}
	switch {
	case !v.Running():
		return Link{}, f, ended(v, "confirm")
	case v.Stage == workflows.StageCreating || v.Stage == workflows.StageSending || sa == nil:
		return Link{}, f, domain.Errorf(domain.NotYet, domain.ErrNoRecordYet.Code,
			"onboarding %q is still starting (%s); try again in a moment", v.OnboardingID, strings.ToLower(domain.StageText(v.Stage)))
	case sa.Status == domain.StatusActive || sa.Status == domain.StatusSuspended:
		return Link{}, f, notAwaiting("the customer has already confirmed")
	case sa.Status == domain.StatusInactive:
		return Link{}, f, notAwaiting(fmt.Sprintf("the customer has been deleted (%s)", sa.DeletedReason))
	case v.Stage != workflows.StageAwaiting:
		return Link{}, f, notAwaiting(fmt.Sprintf("it is at stage %s", v.Stage))
	case !s.now().Before(sa.ConfirmDeadline):
		return Link{}, f, notAwaiting("the confirmation deadline has passed")
	}
	token, err := s.links.Token(sa.ID, sa.ConfirmDeadline)
	if err != nil {
		return Link{}, f, err
	}
	return Link{OnboardingID: v.OnboardingID, SubaccountID: sa.ID, URL: links.URL(s.set.PublicURL, token), ValidUntil: sa.ConfirmDeadline.UTC()}, f, nil
}

// Edit changes the customer's account email, contact person or cloud name.
// The name is refused: only the customer's contact person may rename a
// subaccount, outside this system. A deleted subaccount cannot be edited,
// nor the cloud name once the cloud exists. Role bindings never change.
func (s *Service) Edit(ctx context.Context, by domain.Actor, ref string, e domain.Edit) (domain.Subaccount, error) {
	// The values are personal data: the log says which fields, not what they became.
	detail := strings.Join(e.Fields(), ", ")
	sa, f, err := s.edit(ctx, by, ref, e, func(sa domain.Subaccount) domain.AuditEvent {
		return s.audit.Done(by, "edit", target(by, ref, &sa), detail)
	})
	return sa, s.audit.Unless(ctx, by, "edit", target(by, ref, f.sa), detail, err)
}

func (s *Service) edit(ctx context.Context, by domain.Actor, ref string, e domain.Edit, n store.Note[domain.Subaccount]) (domain.Subaccount, found, error) {
	f, err := s.find(ctx, by, ref)
	if aerr := by.Authorize(domain.Write, "edit a customer"); aerr != nil {
		return domain.Subaccount{}, f, aerr
	}
	if verr := e.Validate(); verr != nil {
		return domain.Subaccount{}, f, verr
	}
	if err != nil {
		return domain.Subaccount{}, found{}, err
	}
	if f.sa == nil {
		// An onboarding of the actor's partner that has no record yet, or none at all.
		if _, err := s.describe(ctx, f.id, ""); err != nil {
			return domain.Subaccount{}, f, err
		}
		return domain.Subaccount{}, f, domain.Errorf(domain.NotYet, domain.ErrNoRecordYet.Code,
			"onboarding %q has no customer record yet; try again in a moment", text.Truncate(f.id, 120))
	}
	edited, err := s.store.EditSubaccount(ctx, by.Scope(), f.sa.ID, e, n)
	if errors.Is(err, domain.ErrDeleted) {
		return domain.Subaccount{}, f, domain.Errorf(domain.Conflict, domain.ErrDeleted.Code,
			"onboarding %q has already ended %s: the customer is deleted, so it cannot be edited", f.sa.OnboardingID, f.sa.DeletedReason)
	}
	return edited, f, err
}
