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
	ErrLinkDeclined  = errors.New("the customer declined the invitation")
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
	if err := s.confirmable(sa, claims); err != nil {
		return sa, err
	}
	if sa.Answer != "" {
		// Answered, and the onboarding is carrying the answer out.
		return sa, lost(sa.Answer)
	}
	return sa, nil
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
		switch sa.DeletedReason {
		case customer.ReasonExpired:
			return ErrLinkExpired
		case customer.ReasonDeclined:
			return ErrLinkDeclined
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
// reports a confirmation made earlier, which is harmless. The answer is
// recorded first: of a confirm and a decline racing, exactly one is
// recorded and signalled, and the other is told which.
func (s *Service) Confirm(ctx context.Context, token, via string) (sa store.Subaccount, already bool, err error) {
	return s.answer(ctx, token, customer.AnswerConfirm, workflows.SignalConfirm, workflows.Confirm{Via: via})
}

// Decline declines the invitation a link names: the onboarding ends
// DECLINED and the record is deleted. A link already confirmed, expired or
// cancelled says so and changes nothing; declining twice is harmless.
func (s *Service) Decline(ctx context.Context, token string) (store.Subaccount, bool, error) {
	sa, confirmed, err := s.answer(ctx, token, customer.AnswerDecline, workflows.SignalDecline, workflows.Decline{Via: workflows.ViaLink})
	if confirmed {
		// A decline never overrides a confirmation.
		return sa, false, ErrAlreadyConfirmed
	}
	return sa, false, err
}

// answer records the customer's answer and signals the onboarding with
// it. Of a confirm and a decline racing, the store keeps exactly one: the
// other is told which. The same answer again is signalled again — a page
// retried after a failure delivers it; a second delivery is ignored by
// the workflow — and reported as already given.
func (s *Service) answer(ctx context.Context, token, answer, signal string, payload any) (store.Subaccount, bool, error) {
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
	won, sa, err := s.store.RecordAnswer(ctx, sa.ID, answer, s.now())
	switch {
	case err != nil:
		return sa, false, err
	case won == "":
		// The record left the wait meanwhile (deadline, cancel): say how.
		return s.afterEnd(ctx, sa.ID, claims)
	case won != answer:
		return sa, false, lost(won)
	}
	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	err = s.temporal.SignalWorkflow(sctx, sa.OnboardingID, "", signal, payload)
	if isNotFound(err) {
		// The workflow has completed meanwhile: the row says how.
		return s.afterEnd(ctx, sa.ID, claims)
	}
	if err != nil {
		return sa, false, fmt.Errorf("signal onboarding %s: %w", sa.OnboardingID, err)
	}
	return sa, false, nil
}

// lost is the answer to the customer whose answer came second.
func lost(won string) error {
	if won == customer.AnswerDecline {
		return ErrLinkDeclined
	}
	return ErrAlreadyConfirmed
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
