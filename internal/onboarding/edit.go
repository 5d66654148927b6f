package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// Link is a customer's confirmation link, for the partner to send by other means.
type Link struct {
	OnboardingID string    `json:"onboarding_id"`
	SubaccountID string    `json:"subaccount_id"`
	URL          string    `json:"link"`
	ValidUntil   time.Time `json:"valid_until"`
}

// Link returns the confirmation link of an onboarding that waits for
// confirmation; refused in every other state.
func (s *Service) Link(ctx context.Context, by Actor, id string) (Link, error) {
	l, err := s.link(ctx, by, id)
	return l, s.auditOn(ctx, by, "copy link", id, "", err)
}

func (s *Service) link(ctx context.Context, by Actor, id string) (Link, error) {
	if err := s.authorize(ctx, by, permWrite, "copy the link"); err != nil {
		return Link{}, err
	}
	v, sa, err := s.lookup(ctx, by, id)
	if err != nil {
		return Link{}, err
	}
	notAwaiting := func(why string) error {
		return refuse("onboarding %q is not awaiting confirmation: %s", v.OnboardingID, why)
	}
	switch {
	case !v.Running():
		return Link{}, errEnded(v, "confirm")
	case v.Stage == workflows.StageCreating || v.Stage == workflows.StageSending || sa == nil:
		return Link{}, notAwaiting(fmt.Sprintf("it is still starting (stage %s); try again in a moment", dash(v.Stage)))
	case sa.Status == customer.StatusActive || sa.Status == customer.StatusSuspended:
		return Link{}, notAwaiting("the customer has already confirmed")
	case sa.Status == customer.StatusInactive:
		return Link{}, notAwaiting(fmt.Sprintf("the subaccount has been deleted (%s)", sa.DeletedReason))
	case v.Stage != workflows.StageAwaiting:
		return Link{}, notAwaiting(fmt.Sprintf("it is at stage %s", v.Stage))
	case !s.now().Before(sa.ConfirmDeadline):
		return Link{}, notAwaiting("the confirmation deadline has passed")
	}
	token, err := s.links.Token(sa.ID, sa.ConfirmDeadline)
	if err != nil {
		return Link{}, err
	}
	return Link{OnboardingID: v.OnboardingID, SubaccountID: sa.ID, URL: links.URL(s.cfg.PublicURL, token), ValidUntil: sa.ConfirmDeadline.UTC()}, nil
}

// Edit changes the customer's account email, contact person or cloud name.
// The name is refused: only the customer's contact person may rename a
// subaccount, outside this system. A deleted subaccount cannot be edited,
// nor the cloud name once the cloud exists. Role bindings never change.
func (s *Service) Edit(ctx context.Context, by Actor, id string, e store.Edit) (store.Subaccount, error) {
	sa, err := s.edit(ctx, by, id, e)
	var changed []string
	for _, f := range []struct {
		name string
		set  bool
	}{{"name", e.Name != nil}, {"email", e.Email != nil}, {"contact", e.Contact != nil}, {"cloud name", e.CloudName != nil}} {
		if f.set {
			changed = append(changed, f.name)
		}
	}
	// The values are personal data: the log says which fields, not what they became.
	return sa, s.auditOn(ctx, by, "edit", id, strings.Join(changed, ", "), err)
}

func (s *Service) edit(ctx context.Context, by Actor, id string, e store.Edit) (store.Subaccount, error) {
	if err := s.authorize(ctx, by, permWrite, "edit a customer"); err != nil {
		return store.Subaccount{}, err
	}
	if e.Name != nil {
		return store.Subaccount{}, fmt.Errorf("--name refused: %w; nothing was changed", customer.ErrNameImmutable)
	}
	if e.Email == nil && e.Contact == nil && e.CloudName == nil {
		return store.Subaccount{}, customer.Invalid("edit", "nothing to change: give an email, a contact or a cloud name")
	}
	if err := e.Validate(); err != nil {
		return store.Subaccount{}, fmt.Errorf("%w; nothing was changed", err)
	}
	t, err := s.resolve(ctx, by, id)
	if err != nil {
		return store.Subaccount{}, err
	}
	sa := t.sa
	if sa == nil {
		row, err := s.store.SubaccountByOnboarding(ctx, t.id)
		if errors.Is(err, customer.ErrNotFound) {
			// Tell an unknown id from an onboarding that has no record yet.
			info, derr := s.describe(ctx, t.id, "")
			if derr != nil {
				return store.Subaccount{}, derr
			}
			var v View
			v.applyExecution(info)
			if !by.sees(v.PartnerID) {
				return store.Subaccount{}, notFound(id)
			}
			return store.Subaccount{}, refuse("onboarding %q has no customer record yet (stage %s); try again in a moment", t.id, dash(v.Stage))
		}
		if err != nil {
			return store.Subaccount{}, err
		}
		sa = &row
	}
	edited, err := s.store.EditSubaccount(ctx, sa.ID, e)
	switch {
	case errors.Is(err, customer.ErrDeleted):
		return store.Subaccount{}, fmt.Errorf("onboarding %q has already ended %s: %w, so it cannot be edited; launch the customer again with `starter add`",
			sa.OnboardingID, sa.DeletedReason, customer.ErrDeleted)
	case err != nil:
		return store.Subaccount{}, fmt.Errorf("%w; nothing was changed", err)
	}
	return edited, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
