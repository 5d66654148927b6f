// Package ceiling is the benchmark's yardstick: the onboarding workflow
// itself — registered under another name, on another task queue — over
// activities that do nothing. What it reaches on a server is what Temporal
// itself allows there for exactly the onboarding's commands; the real
// onboarding, with Postgres and SMTP behind its activities, is measured
// against it. Being the real workflow, it cannot drift from it.
package ceiling

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/workflows"
)

// WorkflowName is the name the onboarding workflow is registered under as
// the ceiling.
const WorkflowName = "CeilingOnboarding"

// Activities do nothing but answer like the real ones. Sent, when set, is
// told the workflow id of each first send, so that a driver can "read the
// email" as soon as it exists.
type Activities struct {
	Sent func(workflowID string)
}

var _ activities.Onboarding = (*Activities)(nil)

// CreateRecord answers with the ids it was given.
func (a *Activities) CreateRecord(_ context.Context, in activities.CreateRecordInput) (activities.Record, error) {
	return activities.Record{SubaccountID: in.SubaccountID, OrganizationID: in.OrganizationID, Status: domain.StatusAcceptanceRequired}, nil
}

// SendConfirmation sends nothing.
func (a *Activities) SendConfirmation(ctx context.Context, in activities.SendInput) (activities.Sent, error) {
	if a.Sent != nil && in.Seq == 1 {
		a.Sent(activity.GetInfo(ctx).WorkflowExecution.ID)
	}
	return activities.Sent{MessageID: "noop", SentAt: time.Now().UTC()}, nil
}

// Activate activates nothing.
func (a *Activities) Activate(_ context.Context, id string) (activities.Record, error) {
	return activities.Record{SubaccountID: id, Status: domain.StatusActive}, nil
}

// Delete deletes nothing.
func (a *Activities) Delete(_ context.Context, in activities.DeleteInput) (activities.Record, error) {
	return activities.Record{SubaccountID: in.SubaccountID, Status: domain.StatusInactive}, nil
}

// Expire deletes nothing, and finds no answer.
func (a *Activities) Expire(_ context.Context, subaccountID string) (activities.Record, error) {
	return activities.Record{SubaccountID: subaccountID, Status: domain.StatusInactive}, nil
}

// CreateCloud creates nothing.
func (a *Activities) CreateCloud(_ context.Context, in activities.CloudInput) (activities.CloudCreated, error) {
	return activities.CloudCreated{CloudID: in.CloudID, Created: true}, nil
}

// Settle records nothing.
func (a *Activities) Settle(_ context.Context, in activities.SettleInput) (activities.Settled, error) {
	status := domain.RequestRefused
	if in.Done {
		status = domain.RequestDone
	}
	return activities.Settled{ID: in.Request.ID, Status: status}, nil
}

// Register registers the onboarding workflow as the ceiling, and the
// activities that do nothing, on w.
func Register(w worker.Registry, a *Activities) {
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: WorkflowName})
	w.RegisterActivity(a)
}
