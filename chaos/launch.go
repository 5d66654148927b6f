package main

import (
	"context"
	"time"

	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/stack"
)

// newCustomer is one onboarding to launch.
type newCustomer struct {
	name, email, cloud string
	confirmWithin      time.Duration
}

// launch starts the onboarding of one customer through the same action as
// `starter add` — the same start options, the same checks — and returns
// its id. Every launch of chaos and its tests goes through here.
func launch(ctx context.Context, drv *stack.Driver, partner string, c newCustomer) (string, error) {
	l, err := drv.Launch(ctx, partner,
		onboarding.NewCustomer{Name: c.name, Email: c.email, Cloud: c.cloud, ConfirmWithin: c.confirmWithin})
	return l.OnboardingID, err
}
