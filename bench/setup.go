package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/bench/ceiling"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// bench is one run: the stack, the binaries and the connections.
type bench struct {
	o        options
	root     string
	stack    *stack.Stack
	drv      *stack.Driver // the actions, as `starter` takes them
	st       *store.Store  // the driver's
	tc       client.Client // the driver's
	apps     *stack.Apps
	signer   *links.Signer
	worker   *stack.Proc
	extra    []*stack.Proc   // the worker processes beyond the first (-workers)
	ceilingC []client.Client // the ceiling's in-process workers' connections beyond the driver's (-workers)
	workerEv []string
	workerB  string
	webhook  string // base URL
	// webhookStatements counts the webhook's round trips to Postgres.
	webhookStatements statements
	procs             []*stack.Proc
	hc                *http.Client
	parked            []string // workflows no worker runs: targets of the bare signals
	logDir            string
	sfx               string
}

// up starts the private stack and, for the onboarding phases, the worker
// and the webhook, and parks the workflows the bare signals go to. The
// portal phase starts what it needs itself.
func (b *bench) up(ctx context.Context) error {
	var err error
	if b.stack, err = stack.Open(ctx, b.root, b.o.state); err != nil {
		return err
	}
	apps, err := b.stack.BuildApps(ctx, workflows.TaskQueue)
	if err != nil {
		return err
	}
	b.apps = apps
	b.signer = links.NewSigner([]byte(apps.Secret))
	if b.logDir, err = b.stack.Dir("logs"); err != nil {
		return err
	}
	sdkLog, err := os.Create(filepath.Join(b.logDir, "bench-sdk.log"))
	if err != nil {
		return err
	}
	if b.drv, err = stack.OpenDriver(ctx, apps.Getenv("DB_MAX_CONNS=10"), b.stack.MailpitURL(), sdkLog); err != nil {
		return err
	}
	b.st, b.tc = b.drv.Store, b.drv.Temporal
	for _, p := range []string{"bench", "bench-cost", "bench-mem"} {
		if _, err := b.st.AddPartner(ctx, p, "Benchmark partner "+p, nil); err != nil {
			return err
		}
	}
	b.workerB = apps.Worker
	b.workerEv = apps.WorkerEnv(b.o.workerEnv...)
	if !b.o.runs(onlyOnboarding) {
		return nil
	}
	b.webhook = apps.WebhookURL()
	if err := b.startWorker(ctx); err != nil {
		return err
	}
	// The benchmark posts every confirm from one address: lift the per-address rate limit.
	metrics, err := stack.FreeAddr()
	if err != nil {
		return err
	}
	b.webhookStatements = statements{hc: b.hc, url: "http://" + metrics + "/metrics"}
	wh, err := stack.StartProc(apps.Webhook, append(apps.WebhookEnv(1000000), "METRICS_ADDR="+metrics), filepath.Join(b.logDir, "webhook.log"))
	if err != nil {
		return err
	}
	b.procs = append(b.procs, wh)
	if err := stack.WaitHTTP(ctx, b.webhook+"/healthz", 30*time.Second); err != nil {
		return err
	}
	// The bare SignalWorkflow is timed against workflows on a task queue no
	// worker polls, one signal per onboarding in both phases: the same call
	// the webhook makes, on the same server, under the same load, and
	// nothing in the measured workflows changes.
	for i := range b.o.concurrency {
		id, err := b.launch(ctx, "bench-parked-"+b.sfx, ceiling.WorkflowName, "bench", b.customer("parked", i, 24*time.Hour))
		if err != nil {
			return err
		}
		b.parked = append(b.parked, id)
	}
	return nil
}

// startWorker starts the worker binary and waits until it is healthy.
func (b *bench) startWorker(ctx context.Context) error {
	p, err := stack.StartProc(b.workerB, b.workerEv, filepath.Join(b.logDir, "worker.log"))
	if err != nil {
		return err
	}
	b.worker = p
	b.procs = append(b.procs, p)
	addr := ""
	for _, kv := range b.workerEv {
		if v, ok := strings.CutPrefix(kv, "WORKER_ADDR="); ok {
			addr = v
		}
	}
	return stack.WaitHTTP(ctx, "http://"+addr+"/healthz", 30*time.Second)
}

// scaleWorkers runs k worker processes: the first and k-1 more, each on
// its own health address, started or stopped as needed.
func (b *bench) scaleWorkers(ctx context.Context, k int) error {
	for len(b.extra) > k-1 {
		last := b.extra[len(b.extra)-1]
		last.Stop()
		b.extra = b.extra[:len(b.extra)-1]
	}
	for len(b.extra) < k-1 {
		addr, err := stack.FreeAddr()
		if err != nil {
			return err
		}
		log := filepath.Join(b.logDir, fmt.Sprintf("worker-%d.log", len(b.extra)+2))
		// The later WORKER_ADDR wins.
		p, err := stack.StartProc(b.workerB, append(append([]string{}, b.workerEv...), "WORKER_ADDR="+addr), log)
		if err != nil {
			return err
		}
		b.extra = append(b.extra, p)
		b.procs = append(b.procs, p)
		if err := stack.WaitHTTP(ctx, "http://"+addr+"/healthz", 30*time.Second); err != nil {
			return err
		}
	}
	return nil
}

// ceilingClient is the connection of the ceiling's i-th in-process
// worker: the driver's for the first, one of its own for each other, as a
// worker process has (through a cluster's balancer, each may reach
// another frontend).
func (b *bench) ceilingClient(ctx context.Context, i int) (client.Client, error) {
	if i == 0 {
		return b.tc, nil
	}
	for len(b.ceilingC) < i {
		c, err := b.stack.Client(ctx, fmt.Sprintf("bench-ceiling-%d", len(b.ceilingC)+2))
		if err != nil {
			return nil, err
		}
		b.ceilingC = append(b.ceilingC, c)
	}
	return b.ceilingC[i-1], nil
}

// down stops the binaries (their process groups) and the stack.
func (b *bench) down() {
	for _, c := range b.ceilingC {
		c.Close()
	}
	if b.drv != nil {
		b.drv.Close()
	}
	for _, p := range b.procs {
		p.Stop()
	}
	if !b.o.keep && b.stack != nil {
		_ = b.stack.Down(context.Background())
	}
}

// ping times one bare SignalWorkflow to a parked workflow.
func (b *bench) ping(ctx context.Context, i int, into *latencies) error {
	t0 := time.Now()
	if err := b.tc.SignalWorkflow(ctx, b.parked[i%len(b.parked)], "", "bench-ping", i); err != nil {
		return fmt.Errorf("bare signal: %w", err)
	}
	into.add(time.Since(t0))
	return nil
}
