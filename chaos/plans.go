package main

import (
	"context"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/workflows"
)

// Plans: what the driver does with an onboarding and, after it, with the customer.
const (
	planConfirm        = "confirm"
	planCancel         = "cancel"
	planExpire         = "expire"
	planResendConfirm  = "resend+confirm"
	planResendExpire   = "resend+expire"
	planDecline        = "decline"
	planCloud          = "confirm+cloud"          // a second cloud, asked for twice
	planSuspendResume  = "confirm+suspend+resume" // services stopped and resumed
	planSuspendExpire  = "confirm+suspend+expire" // services stopped until the subaccount is deleted
	planEveryTwentieth = 20
)

// plans is the plan of the i-th onboarding, by i modulo 20: every plan
// appears in any 20 onboardings in a row.
var plans = [planEveryTwentieth]string{
	planConfirm, planCloud, planSuspendResume, planSuspendExpire, planDecline, planConfirm,
	planCancel, planExpire, planResendConfirm, planResendExpire,
	planConfirm, planCloud, planConfirm, planDecline, planConfirm, planConfirm,
	planCancel, planExpire, planResendConfirm, planResendExpire,
}

func planOf(i int) string { return plans[i%planEveryTwentieth] }

// want is how a plan must end: the onboarding's outcome, then the
// subaccount's status, deletion reason and clouds.
type want struct {
	outcome, status, reason string
	clouds                  int
	suspensions             int
}

func wantOf(plan string) want {
	switch plan {
	case planConfirm, planResendConfirm:
		return want{workflows.OutcomeActive, domain.StatusActive, "", 1, 0}
	case planCloud:
		return want{workflows.OutcomeActive, domain.StatusActive, "", 2, 0}
	case planSuspendResume:
		return want{workflows.OutcomeActive, domain.StatusActive, "", 1, 1}
	case planSuspendExpire:
		return want{workflows.OutcomeActive, domain.StatusInactive, domain.ReasonSuspensionExpired, 1, 1}
	case planCancel:
		return want{workflows.OutcomeCancelled, domain.StatusInactive, domain.ReasonCancelled, 0, 0}
	case planDecline:
		return want{workflows.OutcomeDeclined, domain.StatusInactive, domain.ReasonDeclined, 0, 0}
	}
	return want{workflows.OutcomeExpired, domain.StatusInactive, domain.ReasonExpired, 0, 0}
}

// wantOutcome is the outcome a plan's onboarding must end in.
func wantOutcome(plan string) string { return wantOf(plan).outcome }

// confirms reports whether the plan confirms the onboarding.
func confirms(plan string) bool { return wantOutcome(plan) == workflows.OutcomeActive }

// trial is one customer of the batch and what happened to it.
type trial struct {
	i     int
	plan  string
	id    string
	email string

	launched       bool
	subaccountID   string // once its record exists (lifecycle plans)
	confirmCode    int    // last answer to POST /confirm
	confirmTries   int
	resends        int // resends the workflow accepted
	cancelAccepted bool
	driveErr       error

	result   workflows.Result
	finished bool
	endErr   error

	// The customer workflow of a plan that runs out a suspension.
	life         workflows.CustomerResult
	lifeFinished bool
	lifeErr      error
}

// retry calls fn until it succeeds, fails for good, or ctx ends. Faults make
// every call fail now and then; only errors fn marks permanent stop it.
func retry(ctx context.Context, fn func(ctx context.Context) (permanent bool, err error)) error {
	var err error
	for {
		actx, cancel := context.WithTimeout(ctx, 15*time.Second)
		var perm bool
		perm, err = fn(actx)
		cancel()
		if err == nil || perm {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-time.After(300*time.Millisecond + time.Duration(mrand.IntN(400))*time.Millisecond):
		}
	}
}

// drive launches the onboardings at the set rate and carries out each one's plan.
func (c *chaos) drive(ctx context.Context, obs []*trial) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	gap := time.Duration(float64(time.Second) / c.o.rate)
	var wg sync.WaitGroup
	for _, ob := range obs {
		wg.Go(func() { ob.driveErr = c.driveOne(dctx, ob) })
		select {
		case <-dctx.Done():
		case <-time.After(gap):
		}
	}
	wg.Wait()
}

// driveOne launches one onboarding and carries out its plan, retrying
// every step that a fault breaks.
func (c *chaos) driveOne(ctx context.Context, ob *trial) error {
	within := c.o.confirmWithin
	if ob.plan == planExpire || ob.plan == planResendExpire {
		within = c.o.expireWithin
	}
	cust := newCustomer{name: fmt.Sprintf("Chaos %s %04d", c.sfx, ob.i), email: ob.email,
		cloud: fmt.Sprintf("cloud-%d", ob.i), confirmWithin: within}
	ob.id = workflows.WorkflowID("chaos", cust.name)
	if err := retry(ctx, func(ctx context.Context) (bool, error) {
		_, err := launch(ctx, c.drv, "chaos", cust)
		return false, err
	}); err != nil {
		return fmt.Errorf("launch: %w", err)
	}
	ob.launched = true
	if ob.plan == planExpire {
		return nil
	}
	link, err := c.mail.WaitLink(ctx, ob.email, 1)
	if err != nil {
		return err
	}
	if ob.plan == planResendConfirm || ob.plan == planResendExpire {
		time.Sleep(1500 * time.Millisecond) // past ResendAfter
		if err := c.resend(ctx, ob); err != nil {
			return err
		}
		if ob.resends > 0 && ob.plan == planResendConfirm {
			// Confirm with the link of the resent email, as a customer would.
			if link, err = c.mail.WaitLink(ctx, ob.email, 2); err != nil {
				return err
			}
		}
	}
	switch {
	case confirms(ob.plan):
		token, err := stack.TokenOf(link)
		if err != nil {
			return err
		}
		if err := c.answer(ctx, ob, token, "confirm"); err != nil {
			return err
		}
		return c.afterOnboarding(ctx, ob)
	case ob.plan == planDecline:
		token, err := stack.TokenOf(link)
		if err != nil {
			return err
		}
		return c.answer(ctx, ob, token, "decline")
	case ob.plan == planCancel:
		return retry(ctx, func(ctx context.Context) (bool, error) {
			h, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: ob.id, UpdateName: workflows.UpdateCancel,
				UpdateID: "chaos-cancel", WaitForStage: client.WorkflowUpdateStageCompleted})
			if err == nil {
				err = h.Get(ctx, nil)
			}
			var app *temporal.ApplicationError
			switch {
			case err == nil:
				ob.cancelAccepted = true
			case errors.As(err, &app):
				return true, fmt.Errorf("cancel refused: %w", err)
			case c.closed(ctx, ob.id):
				// An earlier attempt went through but its answer was lost to a
				// fault, and the onboarding has finished since: the checks judge it.
				return true, nil
			}
			return false, err
		})
	}
	return nil
}

// answer posts the customer's answer with the confirmation page's button
// until the webhook takes it.
func (c *chaos) answer(ctx context.Context, ob *trial, token, action string) error {
	return retry(ctx, func(ctx context.Context) (bool, error) {
		ob.confirmTries++
		code, _, err := stack.PostAnswer(ctx, c.hc, c.webhook, token, action)
		ob.confirmCode = code
		switch {
		case err != nil:
			return false, err
		case code >= 500 || code == http.StatusTooManyRequests:
			return false, fmt.Errorf("POST /confirm (%s) answered %d", action, code)
		case code != http.StatusOK:
			return true, fmt.Errorf("POST /confirm (%s) answered %d", action, code)
		}
		return false, nil
	})
}

// resend asks for one resend until the workflow accepts it or refuses it for good.
func (c *chaos) resend(ctx context.Context, ob *trial) error {
	attempt := 0
	return retry(ctx, func(ctx context.Context) (bool, error) {
		attempt++
		h, err := c.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: ob.id, UpdateName: workflows.UpdateResend,
			UpdateID: "chaos-resend", WaitForStage: client.WorkflowUpdateStageCompleted})
		if err == nil {
			err = h.Get(ctx, nil)
		}
		var app *temporal.ApplicationError
		if errors.As(err, &app) {
			// Too soon, or a send in flight: ask again. Anything else is final
			// (say the deadline passed meanwhile).
			if msg := app.Error(); strings.Contains(msg, "too soon") || strings.Contains(msg, "being sent") {
				return false, err
			}
			return true, nil
		}
		if err == nil {
			ob.resends++
			return false, nil
		}
		if c.closed(ctx, ob.id) {
			return true, nil // finished meanwhile (the deadline passed): no resend
		}
		return false, err
	})
}

// closed reports whether the onboarding's workflow has finished.
func (c *chaos) closed(ctx context.Context, id string) bool {
	d, err := c.tc.DescribeWorkflow(ctx, id, "")
	return err == nil && d.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}
