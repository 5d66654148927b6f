// Command chaos runs a mixed batch of onboardings against a private stack
// while it injects faults — the worker SIGKILLed at random instants and
// restarted, Postgres stopped hard and restarted, the Temporal dev server
// restarted — then waits for every onboarding to finish and checks from
// Postgres, mailpit and Temporal that nothing was lost, duplicated or left
// half-done. It prints the counts and exits non-zero on any violation.
//
// It starts its own stack (scripts/stack.sh with STACK_STATE=.local/chaos
// and free ports), because it kills Postgres and Temporal, and stops it at
// the end.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/bench/harness"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

// options are the chaos run's flags.
type options struct {
	n                int
	state            string
	rate             float64
	confirmWithin    time.Duration
	expireWithin     time.Duration
	kills            int
	pgRestarts       int
	temporalRestarts int
	killGapMin       time.Duration
	killGapMax       time.Duration
	finishTimeout    time.Duration
	keep             bool
	seed             uint64
}

func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(out)
	var o options
	fs.IntVar(&o.n, "n", 200, "onboardings: 60% confirmed through the webhook, 10% cancelled, 10% left to expire, 10% resent then confirmed, 10% resent then left to expire")
	fs.StringVar(&o.state, "state", ".local/chaos", "STACK_STATE of the run's own stack (wiped first)")
	fs.Float64Var(&o.rate, "rate", 8, "onboardings launched per second")
	fs.DurationVar(&o.confirmWithin, "confirm-within", 15*time.Minute, "confirmation window of the onboardings that are confirmed or cancelled")
	fs.DurationVar(&o.expireWithin, "expire-within", 40*time.Second, "confirmation window of the onboardings left to expire")
	fs.IntVar(&o.kills, "kills", 10, "at least this many worker SIGKILLs (more while the batch is still being driven)")
	fs.IntVar(&o.pgRestarts, "pg-restarts", 2, "Postgres hard stops (pg_ctl stop -m immediate) and restarts")
	fs.IntVar(&o.temporalRestarts, "temporal-restarts", 1, "Temporal dev server restarts")
	fs.DurationVar(&o.killGapMin, "kill-gap-min", time.Second, "shortest time between two faults")
	fs.DurationVar(&o.killGapMax, "kill-gap-max", 4*time.Second, "longest time between two faults")
	fs.DurationVar(&o.finishTimeout, "finish-timeout", 5*time.Minute, "how long after the faults every onboarding has to finish before it counts as stuck")
	fs.BoolVar(&o.keep, "keep", false, "leave the stack running at the end (to look around)")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed (0: random)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.n < 1 || o.rate <= 0 || o.killGapMin <= 0 || o.killGapMax < o.killGapMin {
		return o, errors.New("want -n ≥ 1, -rate > 0 and 0 < -kill-gap-min ≤ -kill-gap-max")
	}
	if o.seed == 0 {
		o.seed = mrand.Uint64()
	}
	return o, nil
}

// Plans: what the driver does with an onboarding, and the outcome it must end in.
const (
	planConfirm       = "confirm"
	planCancel        = "cancel"
	planExpire        = "expire"
	planResendConfirm = "resend+confirm"
	planResendExpire  = "resend+expire"
)

func planOf(i int) string {
	switch i % 10 {
	case 6:
		return planCancel
	case 7:
		return planExpire
	case 8:
		return planResendConfirm
	case 9:
		return planResendExpire
	}
	return planConfirm
}

func wantOutcome(plan string) string {
	switch plan {
	case planConfirm, planResendConfirm:
		return workflows.OutcomeActive
	case planCancel:
		return workflows.OutcomeCancelled
	}
	return workflows.OutcomeExpired
}

// onboarding is one customer of the batch and what happened to it.
type onboarding struct {
	i     int
	plan  string
	id    string
	email string

	launched       bool
	confirmCode    int // last answer to POST /confirm
	confirmTries   int
	resends        int // resends the workflow accepted
	cancelAccepted bool
	driveErr       error

	result   workflows.Result
	finished bool
	endErr   error
}

// chaos is one run.
type chaos struct {
	o       options
	root    string
	out     io.Writer
	stack   *harness.Stack
	st      *store.Store
	tc      client.Client
	mail    *harness.Mailpit
	sealer  *seal.Sealer
	webhook string
	hc      *http.Client
	worker  *harness.Supervisor
	hook    *harness.Supervisor
	rnd     *mrand.Rand
	sfx     string
	faults  faultCounts
}

type faultCounts struct {
	mu                              sync.Mutex
	kills, pgRestarts, tempRestarts int
	log                             []string
}

func (f *faultCounts) note(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf(format, args...))
}

func run(ctx context.Context, args []string, _ config.Getenv, stdout io.Writer) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	root, err := harness.ModuleRoot()
	if err != nil {
		return err
	}
	if !filepath.IsAbs(o.state) {
		o.state = filepath.Join(root, o.state)
	}
	c := &chaos{o: o, root: root, out: stdout, rnd: mrand.New(mrand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)),
		sfx: harness.Suffix(), hc: &http.Client{Timeout: 20 * time.Second}}
	fmt.Fprintf(stdout, "chaos: seed %d; starting a private stack in %s …\n", o.seed, o.state)
	if err := c.up(ctx); err != nil {
		c.down()
		return err
	}
	defer c.down()

	obs := make([]*onboarding, o.n)
	for i := range obs {
		obs[i] = &onboarding{i: i, plan: planOf(i), email: fmt.Sprintf("chaos-%s-%d@chaos.example", c.sfx, i)}
	}
	mctx, stopMail := context.WithCancel(ctx)
	defer stopMail()
	go c.mail.Watch(mctx, 300*time.Millisecond)

	fmt.Fprintf(stdout, "chaos: driving %d onboardings while injecting faults …\n", o.n)
	driven := make(chan struct{})
	go func() { c.drive(ctx, obs); close(driven) }()
	c.injectFaults(ctx, driven)
	<-driven
	if err := ctx.Err(); err != nil {
		return err
	}
	// The faults are over: make sure every part is up again.
	if err := c.stack.Up(ctx); err != nil {
		return fmt.Errorf("bring the stack back: %w", err)
	}
	fmt.Fprintf(stdout, "chaos: faults over (%s); waiting for every onboarding to finish …\n", c.faultSummary())
	c.awaitAll(ctx, obs)
	return c.check(ctx, obs)
}

func (c *chaos) up(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(c.o.state), 0o755); err != nil {
		return err
	}
	stackLog, err := os.OpenFile(c.o.state+"-stack.log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	c.stack = &harness.Stack{Root: c.root, State: c.o.state, Log: stackLog}
	if err := c.stack.Start(ctx); err != nil {
		return err
	}
	logDir := filepath.Join(c.o.state, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	secretB := make([]byte, 32)
	_, _ = rand.Read(secretB)
	secret := hex.EncodeToString(secretB)
	if c.sealer, err = seal.New([]byte(secret)); err != nil {
		return err
	}
	if c.st, err = store.Open(ctx, c.stack.DatabaseURL(), store.Options{MaxOpenConns: 5}); err != nil {
		return err
	}
	if _, err := c.st.AddPartner(ctx, "chaos", "Chaos partner"); err != nil {
		return err
	}
	sdkLog, err := os.Create(filepath.Join(logDir, "chaos-sdk.log"))
	if err != nil {
		return err
	}
	if c.tc, err = client.DialContext(ctx, client.Options{HostPort: c.stack.TemporalAddress(),
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(sdkLog, &slog.HandlerOptions{Level: slog.LevelWarn})))}); err != nil {
		return fmt.Errorf("connect to Temporal: %w", err)
	}
	c.mail = harness.NewMailpit(c.stack.MailpitURL())

	bin := filepath.Join(c.o.state, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	workerBin, err := harness.Build(ctx, c.root, bin, "worker")
	if err != nil {
		return err
	}
	webhookBin, err := harness.Build(ctx, c.root, bin, "webhook")
	if err != nil {
		return err
	}
	webhookAddr := harness.FreeAddr()
	c.webhook = "http://" + webhookAddr
	common := append(c.stack.Env(), "ONBOARDING_SECRET="+secret, "TASK_QUEUE="+workflows.TaskQueue,
		"PUBLIC_BASE_URL="+c.webhook, "LOG_FORMAT=json")
	if c.worker, err = harness.Supervise(workerBin, append(common, "WORKER_ADDR="+harness.FreeAddr()), filepath.Join(logDir, "worker.log")); err != nil {
		return err
	}
	if c.hook, err = harness.Supervise(webhookBin, append(common, "WEBHOOK_ADDR="+webhookAddr,
		"WEBHOOK_RATE=100000", "WEBHOOK_BURST=100000"), filepath.Join(logDir, "webhook.log")); err != nil {
		return err
	}
	return harness.WaitHTTP(ctx, c.webhook+"/healthz", 30*time.Second)
}

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
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(300*time.Millisecond + time.Duration(mrand.IntN(400))*time.Millisecond):
		}
	}
}

// drive launches the onboardings at the set rate and carries out each one's plan.
func (c *chaos) drive(ctx context.Context, obs []*onboarding) {
	dctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	l := &harness.Launcher{Client: c.tc, Sealer: c.sealer, TaskQueue: workflows.TaskQueue, WorkflowType: workflows.WorkflowName, PartnerID: "chaos"}
	gap := time.Duration(float64(time.Second) / c.o.rate)
	var wg sync.WaitGroup
	for _, ob := range obs {
		wg.Go(func() { ob.driveErr = c.driveOne(dctx, l, ob) })
		select {
		case <-dctx.Done():
		case <-time.After(gap):
		}
	}
	wg.Wait()
}

func (c *chaos) driveOne(ctx context.Context, l *harness.Launcher, ob *onboarding) error {
	within := c.o.confirmWithin
	if ob.plan == planExpire || ob.plan == planResendExpire {
		within = c.o.expireWithin
	}
	cust := harness.Customer{Name: fmt.Sprintf("Chaos %s %04d", c.sfx, ob.i), Email: ob.email,
		Cloud: fmt.Sprintf("cloud-%d", ob.i), ConfirmWithin: within, ResendAfter: time.Second}
	ob.id = workflows.WorkflowID("chaos", cust.Name)
	if err := retry(ctx, func(ctx context.Context) (bool, error) {
		_, err := l.Launch(ctx, cust)
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
	switch ob.plan {
	case planConfirm, planResendConfirm:
		token, err := harness.TokenOf(link)
		if err != nil {
			return err
		}
		return retry(ctx, func(ctx context.Context) (bool, error) {
			ob.confirmTries++
			code, _, err := harness.PostConfirm(ctx, c.hc, c.webhook, token)
			ob.confirmCode = code
			if err != nil || code >= 500 || code == http.StatusTooManyRequests {
				return false, fmt.Errorf("POST /confirm: %d %v", code, err)
			}
			if code != http.StatusOK {
				return true, fmt.Errorf("POST /confirm answered %d", code)
			}
			return false, nil
		})
	case planCancel:
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

// resend asks for one resend until the workflow accepts it or refuses it for good.
func (c *chaos) resend(ctx context.Context, ob *onboarding) error {
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
	d, err := c.tc.DescribeWorkflowExecution(ctx, id, "")
	return err == nil && d.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}

// injectFaults kills the worker at random instants until the batch is
// driven and the minimum of every fault has happened; between kills it
// stops Postgres hard and restarts the Temporal server.
func (c *chaos) injectFaults(ctx context.Context, driven <-chan struct{}) {
	done := false
	for {
		select {
		case <-driven:
			done = true
		default:
		}
		f := &c.faults
		f.mu.Lock()
		enough := f.kills >= c.o.kills && f.pgRestarts >= c.o.pgRestarts && f.tempRestarts >= c.o.temporalRestarts
		kills := f.kills
		f.mu.Unlock()
		if (done && enough) || ctx.Err() != nil {
			return
		}
		gap := c.o.killGapMin + time.Duration(c.rnd.Int64N(int64(c.o.killGapMax-c.o.killGapMin)+1))
		select {
		case <-ctx.Done():
			return
		case <-time.After(gap):
		}
		pause := time.Duration(c.rnd.Int64N(int64(1500 * time.Millisecond)))
		c.worker.Crash(pause)
		f.mu.Lock()
		f.kills++
		kills = f.kills
		f.mu.Unlock()
		f.note("%s worker SIGKILL #%d (back after %s)", time.Now().Format("15:04:05.000"), kills, pause.Round(time.Millisecond))

		switch {
		case kills%4 == 2 && f.pgRestarts < c.o.pgRestarts:
			c.restartPostgres(ctx)
		case kills%4 == 0 && f.tempRestarts < c.o.temporalRestarts:
			c.restartTemporal(ctx)
		case kills%4 == 0 && f.pgRestarts < c.o.pgRestarts:
			c.restartPostgres(ctx)
		}
	}
}

func (c *chaos) restartPostgres(ctx context.Context) {
	if err := c.stack.KillPostgres(ctx); err != nil {
		c.faults.note("postgres hard stop failed: %v", err)
		return
	}
	down := time.Second + time.Duration(c.rnd.Int64N(int64(2*time.Second)))
	time.Sleep(down)
	if err := c.stack.Up(ctx); err != nil {
		c.faults.note("postgres restart failed: %v", err)
		return
	}
	c.faults.mu.Lock()
	c.faults.pgRestarts++
	c.faults.mu.Unlock()
	c.faults.note("%s Postgres stopped -m immediate, restarted after %s", time.Now().Format("15:04:05.000"), down.Round(time.Millisecond))
}

func (c *chaos) restartTemporal(ctx context.Context) {
	if err := c.stack.StopTemporal(ctx); err != nil {
		c.faults.note("temporal stop failed: %v", err)
		return
	}
	time.Sleep(time.Second)
	// The dev server picks internal ports of its own; on a busy machine one
	// may be taken meanwhile, so a failed start is tried again.
	var err error
	for range 3 {
		if err = c.stack.Up(ctx); err == nil {
			break
		}
		_ = c.stack.StopTemporal(ctx)
	}
	if err != nil {
		c.faults.note("temporal restart failed: %v", err)
		return
	}
	c.faults.mu.Lock()
	c.faults.tempRestarts++
	c.faults.mu.Unlock()
	c.faults.note("%s Temporal dev server restarted", time.Now().Format("15:04:05.000"))
}

func (c *chaos) faultSummary() string {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	return fmt.Sprintf("worker SIGKILLs %d, worker starts %d, Postgres hard stops %d, Temporal restarts %d",
		c.faults.kills, c.worker.Starts(), c.faults.pgRestarts, c.faults.tempRestarts)
}

// awaitAll waits for every launched onboarding's result.
func (c *chaos) awaitAll(ctx context.Context, obs []*onboarding) {
	wctx, cancel := context.WithTimeout(ctx, c.o.finishTimeout)
	defer cancel()
	sem := make(chan struct{}, 20)
	var wg sync.WaitGroup
	for _, ob := range obs {
		if !ob.launched {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ob.endErr = retry(wctx, func(ctx context.Context) (bool, error) {
				// A long poll: longer than retry's per-call bound.
				err := c.tc.GetWorkflow(wctx, ob.id, "").Get(wctx, &ob.result)
				var app *temporal.ApplicationError
				if errors.As(err, &app) {
					return true, err // the workflow failed
				}
				return false, err
			})
			ob.finished = ob.endErr == nil
		})
	}
	wg.Wait()
}

// report collects counts and violations.
type report struct {
	violations []string
	counts     map[string]int
}

func (r *report) bad(format string, args ...any) {
	r.violations = append(r.violations, fmt.Sprintf(format, args...))
}

func (c *chaos) check(ctx context.Context, obs []*onboarding) error {
	// Counts that matter most when they are zero are printed anyway.
	r := &report{counts: map[string]int{"duplicate deliveries (same Message-ID)": 0, "delivered but unrecorded": 0,
		"stuck or failed": 0, "workflow tasks failed for non-determinism": 0}}
	byID := map[string]*onboarding{}
	for _, ob := range obs {
		byID[ob.id] = ob
		r.counts["plan "+ob.plan]++
		switch {
		case !ob.launched:
			r.bad("%s: never launched: %v", ob.id, ob.driveErr)
		case !ob.finished:
			r.counts["stuck or failed"]++
			r.bad("%s (%s): did not finish: %v", ob.id, ob.plan, ob.endErr)
		default:
			r.counts["outcome "+ob.result.Outcome]++
			if want := wantOutcome(ob.plan); ob.result.Outcome != want {
				r.bad("%s (%s): outcome %s, want %s", ob.id, ob.plan, ob.result.Outcome, want)
			}
			if (ob.result.Outcome == workflows.OutcomeActive) != (ob.result.CloudID != "") {
				r.bad("%s: outcome %s with cloud %q", ob.id, ob.result.Outcome, ob.result.CloudID)
			}
		}
		if ob.driveErr != nil && ob.launched {
			r.bad("%s (%s): the driver could not carry out its plan: %v", ob.id, ob.plan, ob.driveErr)
		}
		r.counts["confirm POST retries"] += max(0, ob.confirmTries-1)
		r.counts["resends answered to the driver"] += ob.resends
	}
	c.checkTemporal(ctx, obs, byID, r)
	c.checkPostgres(ctx, obs, r)
	c.checkMail(ctx, r)
	return c.print(r)
}

// checkTemporal: one run per onboarding, and no workflow task failed for non-determinism.
func (c *chaos) checkTemporal(ctx context.Context, obs []*onboarding, byID map[string]*onboarding, r *report) {
	runs := map[string]int{}
	var token []byte
	for {
		page, err := c.tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: "default", PageSize: 1000, NextPageToken: token})
		if err != nil {
			r.bad("list workflows: %v", err)
			break
		}
		for _, e := range page.GetExecutions() {
			runs[e.GetExecution().GetWorkflowId()]++
		}
		if token = page.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	for id, n := range runs {
		if byID[id] == nil {
			r.bad("workflow %s was never launched by this run", id)
		} else if n != 1 {
			r.bad("%s: %d runs, want 1", id, n)
		}
	}
	for _, ob := range obs {
		if !ob.launched {
			continue
		}
		if runs[ob.id] == 0 {
			r.bad("%s: no run listed", ob.id)
		}
		cost, err := harness.History(ctx, c.tc, ob.id, "")
		if err != nil {
			r.bad("%s: read history: %v", ob.id, err)
			continue
		}
		r.counts["history events"] += cost.Events
		r.counts["workflow tasks failed"] += cost.WorkflowTaskFailed
		r.counts["workflow tasks failed for non-determinism"] += cost.NonDeterministic
		r.counts["workflow tasks timed out"] += cost.WorkflowTaskTimedOut
		r.counts["activity retries"] += cost.ActivityRetries
		if cost.NonDeterministic > 0 {
			r.bad("%s: %d workflow tasks failed for non-determinism", ob.id, cost.NonDeterministic)
		}
		// Every email the workflow counts is the first one or a resend it
		// accepted and carried out; the driver saw at most that many.
		done := cost.UpdatesSucceeded[workflows.UpdateResend]
		r.counts["resends carried out (history)"] += done
		if ob.finished && ob.result.EmailsSent != 1+done {
			r.bad("%s: %d emails counted by the workflow, want 1 + %d resends carried out", ob.id, ob.result.EmailsSent, done)
		}
		if ob.resends > done {
			r.bad("%s: the driver saw %d resends accepted, the history %d", ob.id, ob.resends, done)
		}
	}
}

// checkPostgres: per onboarding one subaccount, one organization, four
// role bindings, a cloud iff ACTIVE, status agreeing with the outcome, and
// as many recorded emails as the workflow sent.
func (c *chaos) checkPostgres(ctx context.Context, obs []*onboarding, r *report) {
	db := c.st.DB()
	type sub struct {
		ID, Status, Reason string
	}
	subs := map[string][]sub{}
	rows, err := db.QueryContext(ctx, `SELECT onboarding_id, id, status, coalesce(deleted_reason, '') FROM subaccounts`)
	if err != nil {
		r.bad("read subaccounts: %v", err)
		return
	}
	for rows.Next() {
		var oid string
		var s sub
		if err := rows.Scan(&oid, &s.ID, &s.Status, &s.Reason); err != nil {
			r.bad("read subaccounts: %v", err)
		}
		subs[oid] = append(subs[oid], s)
	}
	rows.Close()
	type agg struct{ n, gone int }
	count := func(q string) map[string]agg {
		out := map[string]agg{}
		rows, err := db.QueryContext(ctx, q)
		if err != nil {
			r.bad("count: %v", err)
			return out
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			var a agg
			if err := rows.Scan(&id, &a.n, &a.gone); err != nil {
				r.bad("count: %v", err)
			}
			out[id] = a
		}
		return out
	}
	orgs := count(`SELECT subaccount_id, count(*), count(deleted_at) FROM organizations GROUP BY 1`)
	binds := count(`SELECT subaccount_id, count(*), count(revoked_at) FROM role_bindings GROUP BY 1`)
	clouds := count(`SELECT o.subaccount_id, count(*), 0 FROM clouds c JOIN organizations o ON o.id = c.organization_id GROUP BY 1`)
	emails := count(`SELECT subaccount_id, count(*), 0 FROM emails GROUP BY 1`)

	ok := 0
	for _, ob := range obs {
		if !ob.launched {
			continue
		}
		ss := subs[ob.id]
		if len(ss) != 1 {
			r.bad("%s: %d subaccounts, want 1", ob.id, len(ss))
			continue
		}
		s := ss[0]
		bad := len(r.violations)
		if o := orgs[s.ID]; o.n != 1 {
			r.bad("%s: %d organizations, want 1", ob.id, o.n)
		}
		if b := binds[s.ID]; b.n != 4 {
			r.bad("%s: %d role bindings, want 4", ob.id, b.n)
		}
		if !ob.finished {
			continue
		}
		wantClouds, wantStatus, wantReason, gone := 0, customer.StatusInactive, ob.result.Outcome, true
		if ob.result.Outcome == workflows.OutcomeActive {
			wantClouds, wantStatus, wantReason, gone = 1, customer.StatusActive, "", false
		}
		if cl := clouds[s.ID]; cl.n != wantClouds {
			r.bad("%s: %d clouds for outcome %s, want %d", ob.id, cl.n, ob.result.Outcome, wantClouds)
		}
		if s.Status != wantStatus || s.Reason != wantReason {
			r.bad("%s: subaccount %s %s, want %s %s for outcome %s", ob.id, s.Status, s.Reason, wantStatus, wantReason, ob.result.Outcome)
		}
		if gone && (orgs[s.ID].gone != 1 || binds[s.ID].gone != 4) {
			r.bad("%s: deleted subaccount with %d/1 organizations deleted and %d/4 bindings revoked", ob.id, orgs[s.ID].gone, binds[s.ID].gone)
		}
		if !gone && (orgs[s.ID].gone != 0 || binds[s.ID].gone != 0) {
			r.bad("%s: active subaccount with a deleted organization or revoked bindings", ob.id)
		}
		if e := emails[s.ID]; e.n != ob.result.EmailsSent {
			r.bad("%s: %d emails recorded, the workflow sent %d", ob.id, e.n, ob.result.EmailsSent)
		}
		if len(r.violations) == bad {
			ok++
		}
	}
	r.counts["customer records correct"] = ok
}

// checkMail: every recorded send is in mailpit; a duplicate only ever with
// the same Message-ID.
func (c *chaos) checkMail(ctx context.Context, r *report) {
	got, err := c.mail.MessageIDs(ctx)
	if err != nil {
		r.bad("read mailpit: %v", err)
		return
	}
	rows, err := c.st.DB().QueryContext(ctx, `SELECT message_id FROM emails`)
	if err != nil {
		r.bad("read emails: %v", err)
		return
	}
	defer rows.Close()
	recorded := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			r.bad("read emails: %v", err)
			return
		}
		recorded[id] = true
		switch n := got[id]; {
		case n == 0:
			r.bad("email %s recorded as sent but not delivered", id)
		case n > 1:
			r.counts["duplicate deliveries (same Message-ID)"] += n - 1
		}
	}
	r.counts["emails recorded"] = len(recorded)
	total := 0
	for id, n := range got {
		total += n
		// Every message carries the Message-ID fixed for its subaccount and
		// sequence number before sending; nothing else was ever sent.
		if !messageIDPattern.MatchString(id) {
			r.bad("mailpit holds a message with Message-ID %q, not one the activities make", id)
		}
		if !recorded[id] {
			// Delivered, then the send was refused for good before it was
			// recorded (say the onboarding had ended meanwhile): not lost,
			// not a second Message-ID.
			r.counts["delivered but unrecorded"] += n
		}
	}
	r.counts["emails delivered"] = total
}

// messageIDPattern is the form of activities.MessageID.
var messageIDPattern = regexp.MustCompile(`^confirm-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-[1-9][0-9]*@[^@]+$`)

func (c *chaos) print(r *report) error {
	w := c.out
	fmt.Fprintf(w, "\nchaos: %d onboardings; faults: %s\n", c.o.n, c.faultSummary())
	c.faults.mu.Lock()
	for _, l := range c.faults.log {
		fmt.Fprintln(w, "  fault:", l)
	}
	c.faults.mu.Unlock()
	keys := make([]string, 0, len(r.counts))
	for k := range r.counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  %-45s %d\n", k, r.counts[k])
	}
	fmt.Fprintf(w, "  %-45s %d\n", "violations", len(r.violations))
	for i, v := range r.violations {
		if i == 50 {
			fmt.Fprintf(w, "  … and %d more\n", len(r.violations)-50)
			break
		}
		fmt.Fprintln(w, "  VIOLATION:", v)
	}
	if len(r.violations) > 0 {
		return fmt.Errorf("%d violations (logs under %s/logs)", len(r.violations), c.o.state)
	}
	fmt.Fprintln(w, "chaos: nothing lost, nothing duplicated, nothing stuck")
	return nil
}
