package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudpartners/onboarding/internal/onboarding"
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

// launch starts the onboarding of one customer through the same action as
// `starter add` — the same start options, the same checks — on the given
// task queue and workflow type (the onboarding's or the ceiling's), and
// returns its id. Every launch of the benchmark goes through here.
func (b *bench) launch(ctx context.Context, queue, workflowType, partner string, c customer) (string, error) {
	l, err := b.drv.Onboarding.Yardstick(queue, workflowType).Launch(ctx, b.drv.Operator, partner,
		onboarding.NewCustomer{Name: c.name, Email: c.email, Cloud: c.cloud, ConfirmWithin: c.confirmWithin})
	return l.OnboardingID, err
}
