package onboarding

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// signalTimeout bounds how long a confirmation waits for Temporal.
const signalTimeout = 10 * time.Second

// Why a link cannot be confirmed; links.ErrMalformed and links.ErrForged
// come from the token itself, customer.ErrNotFound when no record matches.
var (
	ErrNoToken       = errors.New("no token given")
	ErrLinkExpired   = errors.New("the confirmation deadline has passed")
	ErrLinkCancelled = errors.New("the partner cancelled the onboarding")
	ErrLinkEnded     = errors.New("the onboarding has ended without a confirmation")
	// ErrAlreadyConfirmed is not a failure: the link was used before, and
	// using it again is harmless.
	ErrAlreadyConfirmed = errors.New("already confirmed")
)

// Invitation reads the customer record a confirmation link names, and says
// whether it can be confirmed now: nil, ErrAlreadyConfirmed, or why not.
// It never changes anything: a GET of the link (mail scanners follow
// links) only shows it.
func (s *Service) Invitation(ctx context.Context, token string) (store.Subaccount, error) {
	claims, sa, err := s.invitation(ctx, token)
	if err != nil {
		return sa, err
	}
	return sa, s.confirmable(sa, claims)
}

// invitation verifies a token and reads its subaccount.
func (s *Service) invitation(ctx context.Context, token string) (links.Claims, store.Subaccount, error) {
	if token == "" {
		return links.Claims{}, store.Subaccount{}, ErrNoToken
	}
	claims, err := s.links.Parse(token)
	if err != nil {
		return links.Claims{}, store.Subaccount{}, err
	}
	sa, err := s.store.Subaccount(ctx, claims.SubaccountID)
	if err != nil {
		return links.Claims{}, store.Subaccount{}, err
	}
	return claims, sa, nil
}

// confirmable says whether a subaccount can be confirmed now.
func (s *Service) confirmable(sa store.Subaccount, claims links.Claims) error {
	switch sa.Status {
	case customer.StatusActive, customer.StatusSuspended:
		return ErrAlreadyConfirmed
	case customer.StatusInactive:
		if sa.DeletedReason == customer.ReasonExpired {
			return ErrLinkExpired
		}
		return ErrLinkCancelled
	}
	// The token carries whole seconds; the row is exact. Either one passed
	// means the link is dead (the workflow allows a few seconds of grace for
	// a confirmation accepted here just in time).
	now := s.now()
	if now.Truncate(time.Second).After(claims.Deadline) || now.After(sa.ConfirmDeadline) {
		return ErrLinkExpired
	}
	return nil
}

// Confirm confirms the onboarding a link names — via the link's page or
// the identity system's login hook — by signalling its workflow. already
// reports a confirmation made earlier, which is harmless.
func (s *Service) Confirm(ctx context.Context, token, via string) (sa store.Subaccount, already bool, err error) {
	claims, sa, err := s.invitation(ctx, token)
	if err == nil {
		err = s.confirmable(sa, claims)
	}
	if errors.Is(err, ErrAlreadyConfirmed) {
		return sa, true, nil
	}
	if err != nil {
		return sa, false, err
	}
	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	err = s.temporal.SignalWorkflow(sctx, sa.OnboardingID, "", workflows.SignalConfirm, workflows.Confirm{Via: via})
	if isNotFound(err) {
		// The workflow has completed meanwhile: the row says how.
		return s.afterEnd(ctx, sa.ID, claims)
	}
	if err != nil {
		return sa, false, fmt.Errorf("signal onboarding %s: %w", sa.OnboardingID, err)
	}
	return sa, false, nil
}

// afterEnd answers a confirmation whose workflow had already completed.
func (s *Service) afterEnd(ctx context.Context, id string, claims links.Claims) (store.Subaccount, bool, error) {
	sa, err := s.store.Subaccount(ctx, id)
	if err != nil {
		return sa, false, err
	}
	switch err := s.confirmable(sa, claims); {
	case errors.Is(err, ErrAlreadyConfirmed):
		return sa, true, nil
	case err != nil:
		return sa, false, err
	}
	// Still awaiting confirmation without a workflow: the onboarding failed.
	return sa, false, ErrLinkEnded
}
