package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/workflows"
)

// afterOnboarding carries out what a plan does once the customer
// confirmed: more clouds, a suspension resumed, or one left to run out —
// through the same actions as the starter, each retried through faults.
func (c *chaos) afterOnboarding(ctx context.Context, ob *trial) error {
	op := c.drv.Operator
	switch ob.plan {
	case planCloud:
		// Twice the same name, two requests: one cloud.
		for i := range 2 {
			id := ob.requestID(fmt.Sprintf("cloud-%d", i))
			if err := c.operate(ctx, func(ctx context.Context) error {
				added, err := c.drv.Lifecycle.AddCloud(ctx, op, ob.id, "extra-cloud", id)
				ob.sent(added.Request, err)
				return err
			}); err != nil {
				return fmt.Errorf("cloud add: %w", err)
			}
		}
	case planSuspendResume:
		if err := c.operate(ctx, func(ctx context.Context) error {
			l, err := c.drv.Lifecycle.Suspend(ctx, op, ob.id, "chaos", 0, ob.requestID("suspend"))
			ob.sent(l.Request, err)
			return err
		}); err != nil {
			return fmt.Errorf("suspend: %w", err)
		}
		if err := c.operate(ctx, func(ctx context.Context) error {
			l, err := c.drv.Lifecycle.Resume(ctx, op, ob.id, ob.requestID("resume"))
			ob.sent(l.Request, err)
			return err
		}); err != nil {
			return fmt.Errorf("resume: %w", err)
		}
	case planSuspendExpire:
		if err := c.operate(ctx, func(ctx context.Context) error {
			l, err := c.drv.Lifecycle.Suspend(ctx, op, ob.id, "chaos: left to run out", c.o.suspendRetention, ob.requestID("suspend"))
			ob.subaccountID = l.SubaccountID
			ob.sent(l.Request, err)
			return err
		}); err != nil {
			return fmt.Errorf("suspend: %w", err)
		}
	}
	return nil
}

// sent notes a request answered done or accepted, and how: a retry of a
// request accepted may find it done.
func (ob *trial) sent(r domain.Request, err error) {
	if err != nil || r.ID == "" {
		return
	}
	if ob.requests == nil {
		ob.requests = map[string]string{}
	}
	if ob.requests[r.ID] != domain.RequestDone {
		ob.requests[r.ID] = r.Status
	}
}

// operate retries one lifecycle action until it is done: through faults,
// through a request queued while the worker was down, and while the
// onboarding is still creating the first cloud. A refusal that retrying
// cannot change — its kind says so — is final.
func (c *chaos) operate(ctx context.Context, fn func(ctx context.Context) error) error {
	return retry(ctx, func(ctx context.Context) (bool, error) {
		err := fn(ctx)
		if err == nil {
			return false, nil
		}
		return domain.KindOf(err).Permanent(), err
	})
}

// awaitLife waits for the customer workflow of a suspension left to run out.
func (c *chaos) awaitLife(ctx context.Context, ob *trial) {
	if ob.plan != planSuspendExpire || ob.subaccountID == "" {
		return
	}
	ob.lifeErr = retry(ctx, func(ctx context.Context) (bool, error) {
		return false, c.tc.GetWorkflow(ctx, workflows.CustomerWorkflowID(ob.subaccountID), "").Get(ctx, &ob.life)
	})
	ob.lifeFinished = ob.lifeErr == nil
}

// suspendRetentionDefault keeps a chaos run short: the suspension that is
// left to run out is deleted after it.
const suspendRetentionDefault = 30 * time.Second
