package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/text"
	"github.com/cloudpartners/onboarding/workflows"
)

// ended is the refusal of an action on an onboarding that has ended.
func ended(v View, what string) error {
	switch {
	case v.Outcome == workflows.OutcomeActive:
		return domain.Errorf(domain.Conflict, domain.ErrConfirmed.Code,
			"onboarding %q has already ended: the customer confirmed and is active, so there is nothing to %s", v.OnboardingID, what)
	case v.Outcome != "":
		return domain.Errorf(domain.Conflict, domain.ErrEnded.Code,
			"onboarding %q has already ended %s: the customer is deleted, so there is nothing to %s", v.OnboardingID, v.Outcome, what)
	default:
		return domain.Errorf(domain.Conflict, domain.ErrEnded.Code,
			"onboarding %q has already ended (%s), so there is nothing to %s", v.OnboardingID, strings.ToLower(v.Workflow), what)
	}
}

// Resent is where an onboarding stands after a resend request: done, with
// the status after the email went out, or accepted, to be carried out
// when a worker takes it (Request.Pending()).
type Resent struct {
	OnboardingID string
	Request      domain.Request
	Status       workflows.Status // once done
}

// Resend asks the onboarding to send the confirmation email again, to the
// customer's current address. Refused before it is sent — nothing changed —
// for a customer who is not waiting for confirmation, when the last email
// went out too recently, when all allowed emails have been sent, or while
// another resend waits; the workflow refuses it, with the reason, for what
// arose later. requestID is the idempotency key ("": a new request).
func (s *Service) Resend(ctx context.Context, by domain.Actor, ref, requestID string) (Resent, error) {
	f, err := s.find(ctx, by, ref)
	out := Resent{OnboardingID: f.id}
	if got, ok, perr := s.replay(ctx, by, f, err, domain.RequestResend, requestID); ok {
		out.Request = got
		return out, doneResult(got, perr, &out.Status)
	}
	sa, err := s.steerable(ctx, by, f, err, "resend")
	if err == nil {
		err = resendable(sa, requestID, s.now())
	}
	if err != nil {
		return out, s.audit.Record(ctx, by, "resend", target(by, ref, f.sa), "", err)
	}
	out.Request, err = s.request(ctx, by, sa, domain.RequestResend, requestID, "resend", "resend the confirmation email")
	return out, doneResult(out.Request, err, &out.Status)
}

// Cancelled is where an onboarding stands after a cancel request: done,
// the customer deleted, or accepted, to be carried out when a worker takes
// it.
type Cancelled struct {
	OnboardingID string
	Request      domain.Request
	Result       workflows.Result // once done
}

// Cancel asks the onboarding to delete the unconfirmed subaccount: its
// status becomes INACTIVE, its organization is deleted, its role bindings
// revoked and the link dies. Refused once the customer has answered.
func (s *Service) Cancel(ctx context.Context, by domain.Actor, ref, requestID string) (Cancelled, error) {
	f, err := s.find(ctx, by, ref)
	out := Cancelled{OnboardingID: f.id}
	if got, ok, perr := s.replay(ctx, by, f, err, domain.RequestCancel, requestID); ok {
		out.Request = got
		return out, doneResult(got, perr, &out.Result)
	}
	sa, err := s.steerable(ctx, by, f, err, "cancel")
	if err != nil {
		return out, s.audit.Record(ctx, by, "delete unconfirmed customer", target(by, ref, f.sa), "", err)
	}
	out.Request, err = s.request(ctx, by, sa, domain.RequestCancel, requestID, "cancel", "delete the unconfirmed customer")
	return out, doneResult(out.Request, err, &out.Result)
}

// doneResult decodes a done request's result into into; err, the
// answer's error, passes through, and a request not yet done has none.
func doneResult(r domain.Request, err error, into any) error {
	if err != nil || r.Status != domain.RequestDone {
		return err
	}
	if uerr := json.Unmarshal(r.Result, into); uerr != nil {
		return fmt.Errorf("request %s: its result: %w", r.ID, uerr)
	}
	return nil
}

// steerable checks what can be checked before a request to an onboarding
// is sent: the actor may, the customer record exists and still waits for
// the customer's answer. what is the request in a verb: "resend".
func (s *Service) steerable(ctx context.Context, by domain.Actor, f found, findErr error, what string) (domain.Subaccount, error) {
	if err := by.Authorize(domain.Write, what); err != nil {
		return domain.Subaccount{}, err
	}
	if findErr != nil {
		return domain.Subaccount{}, findErr
	}
	if f.sa == nil {
		// An onboarding without a record: starting (no worker has taken it
		// yet, say), or nothing at all. A cancel is accepted: the workflow
		// takes it once the record exists; a resend has nothing to resend.
		info, err := s.describe(ctx, f.id, "")
		switch {
		case err != nil:
			return domain.Subaccount{}, err
		case info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
			return domain.Subaccount{}, domain.Errorf(domain.Conflict, domain.ErrEnded.Code,
				"onboarding %q has already ended without a customer record, so there is nothing to %s", f.id, what)
		case what != "cancel":
			return domain.Subaccount{}, domain.Errorf(domain.NotYet, domain.ErrNoRecordYet.Code,
				"onboarding %q has no customer record yet; try again in a moment", f.id)
		}
		// The record's id follows from the run: the request names it already.
		runID := info.GetExecution().GetRunId()
		return domain.Subaccount{ID: workflows.NewRowIDs(runID).Subaccount, PartnerID: workflows.PartnerOf(f.id), OnboardingID: f.id, RunID: runID}, nil
	}
	sa := *f.sa
	id := sa.OnboardingID
	switch {
	case sa.Status == domain.StatusActive || sa.Status == domain.StatusSuspended:
		return sa, domain.Errorf(domain.Conflict, domain.ErrConfirmed.Code,
			"onboarding %q has already ended: the customer confirmed and is active, so there is nothing to %s", id, what)
	case sa.Status == domain.StatusInactive:
		return sa, domain.Errorf(domain.Conflict, domain.ErrEnded.Code,
			"onboarding %q has already ended %s: the customer is deleted, so there is nothing to %s", id, sa.Outcome(), what)
	case sa.Answer == domain.AnswerConfirm:
		return sa, domain.Errorf(domain.Conflict, domain.ErrConfirmed.Code,
			"onboarding %q: the customer has already confirmed, so there is nothing to %s", id, what)
	case sa.Answer == domain.AnswerDecline:
		return sa, domain.Errorf(domain.Conflict, domain.ErrEnded.Code,
			"onboarding %q: the customer has declined, so there is nothing to %s", id, what)
	case !s.now().Before(sa.ConfirmDeadline):
		return sa, domain.Errorf(domain.Conflict, domain.ErrEnded.Code,
			"onboarding %q: the time to confirm has passed, so there is nothing to %s", id, what)
	}
	return sa, nil
}

// replay answers a request id used before as its first request was
// answered (request.Sender.Prior), before anything else is checked: a
// retry is not refused for what the first request did. ok is false for a
// new id, and for everything that is not the actor's own partner's
// customer — the checks that follow then answer.
func (s *Service) replay(ctx context.Context, by domain.Actor, f found, findErr error, kind, requestID string) (domain.Request, bool, error) {
	if requestID == "" || findErr != nil || f.sa == nil || by.Authorize(domain.Write, kind) != nil {
		return domain.Request{}, false, nil
	}
	r, err := request.For(by, kind, requestID, f.sa.OnboardingID, *f.sa, s.now())
	if err != nil {
		return domain.Request{}, false, nil // refused with the request, below
	}
	return s.requests.Prior(ctx, r, s.set.TaskQueue)
}

// resendable refuses, from the record, a resend that comes too soon, past
// the limit, or while another resend waits to be carried out.
func resendable(sa domain.Subaccount, requestID string, now time.Time) error {
	for _, p := range sa.Pending {
		if p.Kind == domain.RequestResend && p.ID != requestID {
			return domain.Errorf(domain.Conflict, domain.ErrRefused.Code, "a resend asked at %s waits to be carried out", p.CreatedAt.Format(time.RFC3339))
		}
	}
	switch {
	case sa.MaxSends > 0 && sa.EmailsSent >= sa.MaxSends:
		return domain.Errorf(domain.Conflict, domain.ErrRefused.Code, "all %d emails allowed have been sent", sa.MaxSends)
	case sa.ResendAfter > 0 && sa.LastSentAt != nil && now.Before(sa.LastSentAt.Add(sa.ResendAfter)):
		wait := sa.LastSentAt.Add(sa.ResendAfter).Sub(now).Round(time.Second)
		return domain.Errorf(domain.NotYet, domain.ErrRefused.Code, "too soon: the last email went out less than %s ago; try again in %s",
			text.Duration(sa.ResendAfter), wait)
	}
	return nil
}

// request sends a request to the onboarding that created the record, its
// exact run, and follows it (request.Sender.Send).
func (s *Service) request(ctx context.Context, by domain.Actor, sa domain.Subaccount, kind, requestID, what, summary string) (domain.Request, error) {
	r, err := request.For(by, kind, requestID, sa.OnboardingID, sa, s.now())
	if err != nil {
		return domain.Request{}, s.audit.Record(ctx, by, domain.RequestAction(kind), target(by, sa.OnboardingID, &sa), "", err)
	}
	r.Summary = summary
	got, err := s.requests.Send(ctx, r, s.set.TaskQueue, func(ctx context.Context, r request.Payload) error {
		return s.temporal.SignalWorkflow(ctx, sa.OnboardingID, sa.RunID, workflows.SignalRequest, r)
	})
	if errors.Is(err, domain.ErrNotFound) {
		// The run has ended since the record was read: the record says how.
		if now, rerr := s.store.Subaccount(ctx, sa.PartnerID, sa.ID); rerr == nil {
			_, err = s.steerable(ctx, by, found{id: sa.OnboardingID, sa: &now}, nil, what)
		}
		if err == nil || errors.Is(err, domain.ErrNotFound) {
			err = domain.Errorf(domain.Conflict, domain.ErrEnded.Code, "onboarding %q has already ended, so there is nothing to %s", sa.OnboardingID, what)
		}
		return got, s.audit.Record(ctx, by, domain.RequestAction(kind), target(by, sa.OnboardingID, &sa), "", err)
	}
	if errors.Is(err, request.ErrReused) {
		return got, s.audit.Record(ctx, by, domain.RequestAction(kind), target(by, sa.OnboardingID, &sa), "", err)
	}
	// Done and refused are in the audit log already, by the workflow, with
	// the request; accepted will be.
	return got, err
}
