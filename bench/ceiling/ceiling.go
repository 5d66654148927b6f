// Package ceiling is the benchmark's yardstick: a workflow of exactly the
// onboarding's shape — the same ids from the run id, the same five activity calls
// with the same options, the same search-attribute upserts, the same wait on
// the confirm signal, a cancel update and the deadline timer — whose
// activities do nothing. What it reaches on a server is what Temporal
// itself allows there; the real onboarding is measured against it.
package ceiling

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/workflows"
)

// WorkflowName is the registered name of the ceiling workflow.
const WorkflowName = "CeilingOnboarding"

// Activities do nothing but answer like the real ones. Sent, when set, is
// told the workflow id of each first send, so that a driver can "read the
// email" as soon as it exists.
type Activities struct {
	Sent func(workflowID string)
}

// CreateRecord answers with the ids it was given.
func (a *Activities) CreateRecord(_ context.Context, in activities.CreateRecordInput) (activities.Record, error) {
	return activities.Record{SubaccountID: in.SubaccountID, OrganizationID: in.OrganizationID, Status: "ACCEPTANCE_REQUIRED"}, nil
}

// SendConfirmation sends nothing.
func (a *Activities) SendConfirmation(ctx context.Context, in activities.SendInput) (activities.Sent, error) {
	if a.Sent != nil && in.Seq == 1 {
		a.Sent(activity.GetInfo(ctx).WorkflowExecution.ID)
	}
	return activities.Sent{MessageID: "noop", SentAt: time.Now()}, nil
}

// Activate activates nothing.
func (a *Activities) Activate(_ context.Context, id string) (activities.Record, error) {
	return activities.Record{SubaccountID: id, Status: "ACTIVE"}, nil
}

// Delete deletes nothing.
func (a *Activities) Delete(_ context.Context, in activities.DeleteInput) (activities.Record, error) {
	return activities.Record{SubaccountID: in.SubaccountID, Status: "INACTIVE"}, nil
}

// CreateCloud creates nothing.
func (a *Activities) CreateCloud(_ context.Context, in activities.CloudInput) (activities.CloudCreated, error) {
	return activities.CloudCreated{CloudID: in.CloudID}, nil
}

// Register registers the ceiling workflow and its activities on w.
func Register(w worker.Registry, a *Activities) {
	w.RegisterWorkflowWithOptions(Workflow, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivity(a)
}

var ca *Activities

// Workflow is the onboarding's shape with no work in it.
func Workflow(ctx workflow.Context, in workflows.Input) (workflows.Result, error) {
	if in.ConfirmWithin <= 0 {
		in.ConfirmWithin = workflows.DefaultConfirmWithin
	}
	started := workflow.Now(ctx)
	deadline := started.Add(in.ConfirmWithin)
	// The onboarding's own row ids and activity options, so that the shape is the same by construction.
	ids := workflows.NewRowIDs(workflow.GetInfo(ctx).OriginalRunID)
	stage := workflows.StageCreating
	if err := workflow.SetQueryHandler(ctx, workflows.QueryStatus, func() (workflows.Status, error) {
		return workflows.Status{Stage: stage}, nil
	}); err != nil {
		return workflows.Result{}, err
	}
	cancelCh := workflow.NewBufferedChannel(ctx, 1)
	if err := workflow.SetUpdateHandler(ctx, workflows.UpdateCancel, func(ctx workflow.Context) (workflows.Result, error) {
		cancelCh.SendAsync(true)
		return workflows.Result{Outcome: workflows.OutcomeCancelled}, nil
	}); err != nil {
		return workflows.Result{}, err
	}

	var rec activities.Record
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflows.CreateOptions), ca.CreateRecord,
		activities.CreateRecordInput{SubaccountID: ids.Subaccount, OrganizationID: ids.Organization, PartnerID: in.PartnerID,
			CustomerName: in.CustomerName, CloudName: in.CloudName, SealedContact: in.SealedContact, Deadline: deadline}).Get(ctx, &rec); err != nil {
		return workflows.Result{}, err
	}
	var sent activities.Sent
	if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflows.SendOptions), ca.SendConfirmation,
		activities.SendInput{SubaccountID: rec.SubaccountID, Seq: 1}).Get(ctx, &sent); err != nil {
		return workflows.Result{}, err
	}

	stage = workflows.StageAwaiting
	_ = workflow.UpsertTypedSearchAttributes(ctx, workflows.AttrStage.ValueSet(stage))
	timerCtx, stopTimer := workflow.WithCancel(ctx)
	timer := workflow.NewTimer(timerCtx, deadline.Add(5*time.Second).Sub(workflow.Now(ctx)))
	outcome := ""
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(workflow.GetSignalChannel(ctx, workflows.SignalConfirm), func(c workflow.ReceiveChannel, _ bool) {
		var sig workflows.Confirm
		c.Receive(ctx, &sig)
		outcome = workflows.OutcomeActive
	})
	sel.AddFuture(timer, func(workflow.Future) { outcome = workflows.OutcomeExpired })
	sel.AddReceive(cancelCh, func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
		outcome = workflows.OutcomeCancelled
	})
	sel.Select(ctx)
	stopTimer()
	decided := workflow.Now(ctx)

	res := workflows.Result{Outcome: outcome, SubaccountID: rec.SubaccountID, OrganizationID: rec.OrganizationID,
		EmailsSent: 1, StartedAt: started, Deadline: deadline, DecidedAt: decided}
	if outcome == workflows.OutcomeActive {
		cctx := workflow.WithActivityOptions(ctx, workflows.CommitOptions)
		if err := workflow.ExecuteActivity(cctx, ca.Activate, rec.SubaccountID).Get(ctx, nil); err != nil {
			return workflows.Result{}, err
		}
		var cloud activities.CloudCreated
		if err := workflow.ExecuteActivity(cctx, ca.CreateCloud, activities.CloudInput{CloudID: ids.Cloud, SubaccountID: rec.SubaccountID}).Get(ctx, &cloud); err != nil {
			return workflows.Result{}, err
		}
		res.CloudID = cloud.CloudID
	} else {
		if err := workflow.ExecuteActivity(workflow.WithActivityOptions(ctx, workflows.CommitOptions), ca.Delete,
			activities.DeleteInput{SubaccountID: rec.SubaccountID, Reason: outcome}).Get(ctx, nil); err != nil {
			return workflows.Result{}, err
		}
	}
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	_ = workflow.UpsertTypedSearchAttributes(ctx, workflows.AttrStage.ValueSet(outcome), workflows.AttrOutcome.ValueSet(outcome))
	res.FinishedAt = workflow.Now(ctx)
	return res, nil
}
