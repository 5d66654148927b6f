package main

import (
	"context"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

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
	drv     *stack.Driver // the actions, as `starter` takes them
	st      *store.Store  // the driver's
	tc      client.Client // the driver's
	mail    *stack.Mailpit
	webhook string
	hc      *http.Client
	worker  *stack.Supervisor
	hook    *stack.Supervisor
	rnd     *mrand.Rand
	sfx     string
	server  string // the Temporal server: "dev", "full" or "cluster" (TEMPORAL_SERVER)
	faults  faultCounts
	outage  *outage // the requests made with no worker, before the batch
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
	sdkLog, err := os.Create(filepath.Join(logDir, "chaos-sdk.log"))
	if err != nil {
		return err
	}
	// Every onboarding may be resent after a second: the driver resends some.
	if c.drv, err = stack.OpenDriver(ctx, apps.Getenv("RESEND_MIN_INTERVAL=1s", "DB_MAX_CONNS=5"), c.stack.MailpitURL(), sdkLog); err != nil {
		return err
	}
	c.st, c.tc = c.drv.Store, c.drv.Temporal
	if _, err := c.st.AddPartner(ctx, "chaos", "Chaos partner", nil); err != nil {
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
	if c.drv != nil {
		c.drv.Close()
	}
	if c.stack != nil && !c.o.keep {
		_ = c.stack.Down(context.Background())
	}
}
