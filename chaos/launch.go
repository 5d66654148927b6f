package main

import (
	"context"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/workflows"
)

// customer is one onboarding to launch.
type customer struct {
	name, email, cloud         string
	confirmWithin, resendAfter time.Duration
}

// launch starts the onboarding of one customer as `starter add` does — the
// workflow id from the business key, USE_EXISTING on conflict, the partner
// and stage search attributes set at start, the contact sealed — and
// returns its id. Every launch of chaos and its tests goes through here.
func launch(ctx context.Context, tc client.Client, sealer *seal.Sealer, queue, partner string, c customer) (string, error) {
	sealed, err := sealer.Seal(activities.Contact{Email: c.email})
	if err != nil {
		return "", err
	}
	id := workflows.WorkflowID(partner, c.name)
	_, err = tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                queue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrPartner.ValueSet(partner), workflows.AttrStage.ValueSet(workflows.StageCreating)),
	}, workflows.WorkflowName, workflows.Input{
		PartnerID: partner, CustomerName: c.name, CloudName: c.cloud, SealedContact: sealed,
		ConfirmWithin: c.confirmWithin, ResendAfter: c.resendAfter,
	})
	if err != nil {
		return "", fmt.Errorf("start onboarding %s: %w", id, err)
	}
	return id, nil
}
