package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/workflows"
)

// customer is one onboarding to launch.
type customer struct {
	name, email, cloud string
	confirmWithin      time.Duration
}

// customer is the i-th customer of a phase, its confirmation window within.
func (b *bench) customer(phase string, i int, within time.Duration) customer {
	return customer{
		name:  fmt.Sprintf("Bench %s %s %05d", phase, b.sfx, i),
		email: fmt.Sprintf("%s-%s-%d@bench.example", phase, b.sfx, i), cloud: fmt.Sprintf("cloud-%d", i),
		confirmWithin: within,
	}
}

// launch starts the onboarding of one customer as `starter add` does — the
// workflow id from the business key, USE_EXISTING on conflict, the partner
// and stage search attributes set at start, the contact sealed — on the
// given task queue and workflow type (the onboarding's or the ceiling's),
// and returns its id. Every launch of the benchmark goes through here.
func (b *bench) launch(ctx context.Context, queue, workflowType, partner string, c customer) (string, error) {
	sealed, err := b.sealer.Seal(activities.Contact{Email: c.email})
	if err != nil {
		return "", err
	}
	id := workflows.WorkflowID(partner, c.name)
	_, err = b.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                queue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrPartner.ValueSet(partner), workflows.AttrStage.ValueSet(workflows.StageCreating)),
	}, workflowType, workflows.Input{
		PartnerID: partner, CustomerName: c.name, CloudName: c.cloud, SealedContact: sealed, ConfirmWithin: c.confirmWithin,
	})
	if err != nil {
		return "", fmt.Errorf("start onboarding %s: %w", id, err)
	}
	return id, nil
}
