package main

import (
	"context"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// chaos is one run.
type chaos struct {
	o       options
	root    string
	out     io.Writer
	stack   *stack.Stack
	st      *store.Store
	tc      client.Client
	mail    *stack.Mailpit
	svc     *onboarding.Service // launches as `starter add` does
	webhook string
	hc      *http.Client
	worker  *stack.Supervisor
	hook    *stack.Supervisor
	rnd     *mrand.Rand
	sfx     string
	server  string // the Temporal server: "dev" or "full" (TEMPORAL_SERVER)
	faults  faultCounts
}

// up starts the private stack and the supervised worker and webhook.
func (c *chaos) up(ctx context.Context) error {
	var err error
	if c.stack, err = stack.Open(ctx, c.root, c.o.state); err != nil {
		return err
	}
	logDir, err := c.stack.Dir("logs")
	if err != nil {
		return err
	}
	apps, err := c.stack.BuildApps(ctx, workflows.TaskQueue)
	if err != nil {
		return err
	}
	if c.st, err = store.Open(ctx, c.stack.DatabaseURL(), store.Options{MaxOpenConns: 5}); err != nil {
		return err
	}
	if _, err := c.st.AddPartner(ctx, "chaos", "Chaos partner"); err != nil {
		return err
	}
	if c.tc, err = c.stack.Client(ctx, "chaos"); err != nil {
		return err
	}
	// Every onboarding may be resent after a second: the driver resends some.
	cfg, err := apps.Config("RESEND_MIN_INTERVAL=1s")
	if err != nil {
		return err
	}
	if c.svc, err = onboarding.New(cfg, c.st, c.tc); err != nil {
		return err
	}
	c.mail = stack.NewMailpit(c.stack.MailpitURL())
	c.webhook = apps.WebhookURL()
	if c.worker, err = stack.Supervise(apps.Worker, apps.WorkerEnv(), filepath.Join(logDir, "worker.log")); err != nil {
		return err
	}
	if c.hook, err = stack.Supervise(apps.Webhook, apps.WebhookEnv(100000), filepath.Join(logDir, "webhook.log")); err != nil {
		return err
	}
	return stack.WaitHTTP(ctx, c.webhook+"/healthz", 30*time.Second)
}

// down stops the binaries and the stack.
func (c *chaos) down() {
	if c.worker != nil {
		c.worker.Stop()
	}
	if c.hook != nil {
		c.hook.Stop()
	}
	if c.tc != nil {
		c.tc.Close()
	}
	if c.st != nil {
		c.st.Close()
	}
	if c.stack != nil && !c.o.keep {
		_ = c.stack.Down(context.Background())
	}
}
