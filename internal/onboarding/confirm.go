package onboarding

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/workflows"
)

// signalTimeout bounds how long a confirmation waits for Temporal.
const signalTimeout = 10 * time.Second

// Why a link cannot be confirmed; links.ErrMalformed and links.ErrForged
// come from the token itself, domain.ErrNotFound when no record matches.
var (
	ErrNoToken       = domain.New(domain.Invalid, "NoToken", "no token given")
	ErrLinkExpired   = domain.New(domain.Conflict, "LinkExpired", "the confirmation deadline has passed")
	ErrLinkCancelled = domain.New(domain.Conflict, "LinkCancelled", "the partner cancelled the onboarding")
	ErrLinkEnded     = domain.New(domain.Conflict, "LinkEnded", "the onboarding has ended without a confirmation")
	ErrLinkDeclined  = domain.New(domain.Conflict, "LinkDeclined", "the customer declined the invitation")
	// ErrAlreadyConfirmed is not a failure to the customer: the link was
	// used before, and using it again is harmless.
	ErrAlreadyConfirmed = domain.ErrConfirmed
)

// Invitation reads the customer record a confirmation link names, and says
// whether it can be confirmed now: nil, ErrAlreadyConfirmed, or why not.
// It never changes anything: a GET of the link (mail scanners follow
// links) only shows it.
func (s *Service) Invitation(ctx context.Context, token string) (domain.Subaccount, error) {
	claims, err := s.claims(token)
	if err != nil {
		return domain.Subaccount{}, err
	}
	sa, err := s.store.Subaccount(ctx, "", claims.SubaccountID)
	if err != nil {
		return domain.Subaccount{}, err
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

func (s *Service) claims(token string) (links.Claims, error) {
	if token == "" {
		return links.Claims{}, ErrNoToken
	}
	return s.links.Parse(token)
}

// confirmable says whether a subaccount can be confirmed now.
func (s *Service) confirmable(sa domain.Subaccount, claims links.Claims) error {
	switch sa.Status {
	case domain.StatusActive, domain.StatusSuspended:
		return ErrAlreadyConfirmed
	case domain.StatusInactive:
		switch sa.DeletedReason {
		case domain.ReasonExpired:
			return ErrLinkExpired
		case domain.ReasonDeclined:
			return ErrLinkDeclined
		}
		return ErrLinkCancelled
	}
	if claims.Deadline.Unix() != sa.ConfirmDeadline.Unix() {
		return links.ErrForged // a token for another deadline than the record's
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
// recorded first, in one statement: of a confirm and a decline racing,
// exactly one is recorded and signalled, and the other is told which.
func (s *Service) Confirm(ctx context.Context, token, via string) (sa domain.Subaccount, already bool, err error) {
	return s.answer(ctx, token, domain.AnswerConfirm, via, workflows.SignalConfirm, workflows.Confirm{Via: via})
}

// Decline declines the invitation a link names: the onboarding ends
// DECLINED and the record is deleted. A link already confirmed, expired or
// cancelled says so and changes nothing; declining twice is harmless.
func (s *Service) Decline(ctx context.Context, token string) (domain.Subaccount, error) {
	sa, confirmed, err := s.answer(ctx, token, domain.AnswerDecline, domain.ViaLink, workflows.SignalDecline, workflows.Decline{Via: domain.ViaLink})
	if confirmed {
		// A decline never overrides a confirmation.
		return sa, ErrAlreadyConfirmed
	}
	return sa, err
}

// ErrAnswerRecorded says the customer's answer is recorded — durable, the
// customer's for good — but its signal did not reach the onboarding
// (Temporal was away): the workflow carries it out when the same answer
// is given again (a retry delivers it), or at the latest when the
// deadline passes, where the answer in the record wins (the Expire
// activity). An edge answers it as accepted, not as a failure.
var ErrAnswerRecorded = domain.New(domain.NotYet, "AnswerRecorded",
	"your answer is recorded; it takes effect as soon as our systems catch up, by the link's deadline at the latest")

// answer records the customer's answer and signals the onboarding with
// it. The same answer again is signalled again — a page retried after a
// failure delivers it; a second delivery is ignored by the workflow.
func (s *Service) answer(ctx context.Context, token, answer, via, signal string, payload any) (domain.Subaccount, bool, error) {
	claims, err := s.claims(token)
	if err != nil {
		return domain.Subaccount{}, false, err
	}
	sa, _, ok, err := s.store.Answer(ctx, claims.SubaccountID, claims.Deadline, answer, via, s.now())
	if err != nil {
		return sa, false, err
	}
	if !ok {
		// Not recorded: the record says why (confirmed, declined, expired,
		// cancelled, a stale token).
		return s.refusal(sa, claims, answer)
	}
	sctx, cancel := context.WithTimeout(ctx, signalTimeout)
	defer cancel()
	err = s.temporal.SignalWorkflow(sctx, sa.OnboardingID, "", signal, payload)
	if request.IsNotFound(err) {
		// The workflow has completed meanwhile: the row says how.
		return s.afterEnd(ctx, sa.ID, claims)
	}
	if err != nil {
		return sa, false, fmt.Errorf("signal onboarding %s: %w: %w", sa.OnboardingID, ErrAnswerRecorded, err)
	}
	return sa, false, nil
}

// refusal explains an answer the record did not take.
func (s *Service) refusal(sa domain.Subaccount, claims links.Claims, answer string) (domain.Subaccount, bool, error) {
	switch err := s.confirmable(sa, claims); {
	case errors.Is(err, ErrAlreadyConfirmed):
		return sa, true, nil
	case err != nil:
		return sa, false, err
	case sa.Answer != "" && sa.Answer != answer:
		return sa, false, lost(sa.Answer)
	}
	return sa, false, ErrLinkEnded
}

// lost is the answer to the customer whose answer came second.
func lost(won string) error {
	if won == domain.AnswerDecline {
		return ErrLinkDeclined
	}
	return ErrAlreadyConfirmed
}

// afterEnd answers a confirmation whose workflow had already completed.
func (s *Service) afterEnd(ctx context.Context, id string, claims links.Claims) (domain.Subaccount, bool, error) {
	sa, err := s.store.Subaccount(ctx, "", id)
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
