package main

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"

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
	resends        int // resends answered done
	cancelAccepted bool
	requests       map[string]string // the driver's requests answered done or accepted: id → that answer
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
		// One request, its id fixed: every retry through a fault is the
		// same request, carried out once.
		id := ob.requestID("cancel")
		return retry(ctx, func(ctx context.Context) (bool, error) {
			got, err := c.drv.Onboarding.Cancel(ctx, c.drv.Operator, ob.id, id)
			switch {
			case err == nil:
				ob.cancelAccepted = true
				ob.sent(got.Request, nil)
			case domain.KindOf(err).Permanent():
				return true, fmt.Errorf("cancel refused: %w", err)
			}
			return false, err
		})
	}
	return nil
}

// requestSpace is the UUID namespace of the driver's request ids.
var requestSpace = uuid.MustParse("a3c1f0d2-7b44-4e8a-9d61-5f0c2e9b8a17")

// requestID is the id of one step's request of a trial: the same on every
// retry of that step.
func (ob *trial) requestID(step string) string {
	return uuid.NewSHA1(requestSpace, []byte(ob.id+"/"+step)).String()
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
		case code == http.StatusAccepted:
			// Recorded, its signal not delivered (Temporal was away): the
			// page asks to press again, which delivers it.
			return false, fmt.Errorf("POST /confirm (%s) answered %d: recorded, not yet delivered", action, code)
		case code != http.StatusOK:
			return true, fmt.Errorf("POST /confirm (%s) answered %d", action, code)
		}
		return false, nil
	})
}

// resend asks for one resend, its id fixed, until it is done or accepted,
// or refused for good. Too soon (the edge's own check, nothing sent) is
// asked again.
func (c *chaos) resend(ctx context.Context, ob *trial) error {
	id := ob.requestID("resend")
	return retry(ctx, func(ctx context.Context) (bool, error) {
		got, err := c.drv.Onboarding.Resend(ctx, c.drv.Operator, ob.id, id)
		switch {
		case err == nil:
			if got.Request.Status == domain.RequestDone {
				ob.resends++
			}
			ob.sent(got.Request, nil)
			return false, nil
		case domain.KindOf(err) == domain.NotYet:
			return false, err
		case domain.KindOf(err).Permanent():
			return true, nil // refused for good (the deadline passed, say): no resend
		}
		return false, err
	})
}
