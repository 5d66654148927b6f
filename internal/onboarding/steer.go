package onboarding

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/domain"
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

// update runs an update on the running onboarding a reference names and
// waits, a bounded time, for its result (see request.Sender.Update).
func (s *Service) update(ctx context.Context, by domain.Actor, f found, name, what, updateID string, result any) (View, error) {
	v, err := s.execution(ctx, by, f)
	if err != nil {
		return View{}, err
	}
	if !v.Running() {
		return v, ended(v, what)
	}
	if err := s.requests.NeedWorker(ctx, what, v.taskQueue); err != nil {
		return v, err
	}
	if updateID == "" {
		updateID = name + "-" + uuid.NewString()
	}
	err = s.requests.Update(ctx, what, func(ctx context.Context) (client.WorkflowUpdateHandle, error) {
		return s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: f.id, RunID: v.RunID, UpdateID: updateID, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
	}, result)
	if domain.KindOf(err) == domain.NotFound {
		// It ended between the look-up and the update.
		if info, derr := s.describe(ctx, f.id, v.RunID); derr == nil {
			v.applyExecution(info)
			s.applyResult(ctx, &v)
		}
		return v, ended(v, what)
	}
	return v, err
}

// Resent is where an onboarding stands after a resend.
type Resent struct {
	OnboardingID string
	Status       workflows.Status
}

// Resend sends the confirmation email again, to the customer's current
// address. The workflow refuses it, with the reason, when the last email
// went out too recently, when all allowed emails have been sent, or when it
// is not waiting for confirmation.
func (s *Service) Resend(ctx context.Context, by domain.Actor, ref string) (Resent, error) {
	var st workflows.Status
	f, v, err := s.steer(ctx, by, ref, workflows.UpdateResend, "resend", "", &st)
	if err == nil && st.Deadline.IsZero() && v.Deadline != nil {
		st.Deadline = *v.Deadline
	}
	return Resent{OnboardingID: f.id, Status: st}, s.audit.Record(ctx, by, "resend", target(by, ref, f.sa), fmt.Sprintf("%d emails sent", st.EmailsSent), err)
}

// Cancelled is an onboarding cancelled: its customer deleted.
type Cancelled struct {
	OnboardingID string
	Result       workflows.Result
}

// Cancel deletes the unconfirmed subaccount: its status becomes INACTIVE,
// its organization is deleted, its role bindings revoked and the link
// dies. Refused once the customer has confirmed. Cancelling twice is one
// cancel: the request has a fixed id per run.
func (s *Service) Cancel(ctx context.Context, by domain.Actor, ref string) (Cancelled, error) {
	var res workflows.Result
	f, _, err := s.steer(ctx, by, ref, workflows.UpdateCancel, "cancel", "cancel", &res)
	return Cancelled{OnboardingID: f.id, Result: res}, s.audit.Record(ctx, by, "delete unconfirmed customer", target(by, ref, f.sa), "", err)
}

// steer finds what ref names and, if the actor may, updates its
// onboarding. A refusal of the actor's role is found first, so that it is
// in the customer's audit log.
func (s *Service) steer(ctx context.Context, by domain.Actor, ref, name, what, updateID string, result any) (found, View, error) {
	f, err := s.find(ctx, by, ref)
	if aerr := by.Authorize(domain.Write, what); aerr != nil {
		return f, View{}, aerr
	}
	if err != nil {
		return found{id: ref}, View{}, err
	}
	v, err := s.update(ctx, by, f, name, what, updateID, result)
	return f, v, err
}
