package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/workflows"
)

// Bounded waits for requests that need a worker.
const (
	// pollerFresh is how recently a worker must have polled to count as
	// present: a worker's long poll lasts up to a minute.
	pollerFresh = 90 * time.Second
	// defaultUpdateWait is how long a request waits for a worker to take
	// it before it is reported as queued.
	defaultUpdateWait = 20 * time.Second
)

// WorkerPolling reports whether a worker has polled the task queue lately.
func (s *Service) WorkerPolling(ctx context.Context, taskQueue string) (bool, error) {
	if taskQueue == "" {
		taskQueue = s.taskQueue()
	}
	resp, err := s.temporal.DescribeTaskQueue(ctx, taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return false, fmt.Errorf("look up the workers of task queue %q: %w", taskQueue, err)
	}
	for _, p := range resp.GetPollers() {
		if s.now().Sub(p.GetLastAccessTime().AsTime()) < pollerFresh {
			return true, nil
		}
	}
	return false, nil
}

// errEnded is the message for an onboarding that has already ended.
func errEnded(v View, what string) error {
	switch {
	case v.Outcome == workflows.OutcomeActive:
		return fmt.Errorf("onboarding %q has already ended: the customer confirmed and the subaccount is ACTIVE, so there is nothing to %s: %w", v.OnboardingID, what, ErrEnded)
	case v.Outcome != "":
		return fmt.Errorf("onboarding %q has already ended %s: the subaccount is deleted, so there is nothing to %s; launch the customer again with `starter add`: %w", v.OnboardingID, v.Outcome, what, ErrEnded)
	default:
		return fmt.Errorf("onboarding %q has already ended (%s), so there is nothing to %s; see `starter status '%s'`: %w", v.OnboardingID, strings.ToLower(v.Workflow), what, v.OnboardingID, ErrEnded)
	}
}

// update runs an update on the running onboarding and waits, a bounded
// time, for its result. It refuses before sending when no worker polls the
// onboarding's task queue, and says so when one does not answer in time:
// the request then waits in Temporal and is carried out when a worker
// takes it. A refusal by the workflow comes back as its reason.
func (s *Service) update(ctx context.Context, by Actor, id, name, what, updateID string, result any) (View, error) {
	if err := s.authorize(ctx, by, permWrite, what); err != nil {
		return View{}, err
	}
	t, err := s.resolve(ctx, by, id)
	if err != nil {
		return View{}, err
	}
	info, err := s.describe(ctx, t.id, t.runID)
	if err != nil {
		return View{}, err
	}
	v := View{OnboardingID: t.id}
	v.applyExecution(info)
	if !v.Running() {
		return v, errEnded(v, what)
	}
	if err := s.needWorker(ctx, what, info.GetTaskQueue()); err != nil {
		return v, err
	}
	if updateID == "" {
		updateID = name + "-" + uuid.NewString()
	}
	err = s.await(ctx, what, t.id, func(ctx context.Context) (client.WorkflowUpdateHandle, error) {
		return s.temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
			WorkflowID: t.id, RunID: v.RunID, UpdateID: updateID, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted,
		})
	}, result)
	if isNotFound(err) {
		// It ended between the look-up and the update.
		if info, derr := s.describe(ctx, t.id, v.RunID); derr == nil {
			v.applyExecution(info)
			s.applyResult(ctx, &v)
		}
		return v, errEnded(v, what)
	}
	return v, err
}

// await sends a request that a worker carries out and waits, a bounded
// time, for its result: a refusal by the workflow comes back as its reason,
// and a request no worker took in time is reported as queued.
func (s *Service) await(ctx context.Context, what, id string, send func(context.Context) (client.WorkflowUpdateHandle, error), result any) error {
	deadline := s.now().Add(s.updateWait)
	uctx, cancel := context.WithTimeout(ctx, s.updateWait)
	defer cancel()
	h, err := send(uctx)
	if err == nil {
		err = h.Get(uctx, result)
	}
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return nil
	case isNotFound(err):
		return err
	case errors.As(err, &appErr):
		return refuse("%s refused: %s", what, appErr.Message())
	// The wait ran out: by our timer, or by the server's, which cuts the
	// call at the deadline we sent it and may do so before our timer fires
	// on a busy machine.
	case ctx.Err() == nil && (uctx.Err() != nil || !s.now().Before(deadline)):
		return fmt.Errorf("%s: no worker answered within %s; %w and will be carried out when a worker takes it: see `starter status '%s'`",
			what, s.updateWait, ErrQueued, id)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// needWorker refuses, before anything is sent, when no worker polls the task queue.
func (s *Service) needWorker(ctx context.Context, what, queue string) error {
	if ok, err := s.WorkerPolling(ctx, queue); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%s: %w %q, so nothing was sent: start the worker (bin/worker, or `make demo`) and try again", what, ErrNoWorker, queue)
	}
	return nil
}

// Resend sends the confirmation email again, to the customer's current
// address. The workflow refuses it, with the reason, when the last email
// went out too recently, when all allowed emails have been sent, or when it
// is not waiting for confirmation.
func (s *Service) Resend(ctx context.Context, by Actor, id string) (workflows.Status, error) {
	var st workflows.Status
	v, err := s.update(ctx, by, id, workflows.UpdateResend, "resend", "", &st)
	if err = s.auditOn(ctx, by, "resend", id, fmt.Sprintf("%d emails sent", st.EmailsSent), err); err != nil {
		return st, err
	}
	if st.Deadline.IsZero() && v.Deadline != nil {
		st.Deadline = *v.Deadline
	}
	return st, nil
}

// Cancel deletes the unconfirmed subaccount: its status becomes INACTIVE,
// its organization is deleted, its role bindings revoked and the link
// dies. Refused once the customer has confirmed. Cancelling twice is one
// cancel: the request has a fixed id per run.
func (s *Service) Cancel(ctx context.Context, by Actor, id string) (workflows.Result, error) {
	var res workflows.Result
	_, err := s.update(ctx, by, id, workflows.UpdateCancel, "cancel", "cancel", &res)
	return res, s.auditOn(ctx, by, "delete unconfirmed customer", id, "", err)
}
