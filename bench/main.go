// Command bench measures onboarding against Temporal's own ceiling on one
// private dev server, in one run, and prints one table: throughput of a no-op
// workflow of the onboarding's shape and of real onboardings confirmed
// through the webhook's POST /confirm, confirm latencies beside a bare
// SignalWorkflow, history events and billable actions per outcome, and the
// worker's resident memory with 0, 1,000 and 2,000 onboardings waiting.
//
// It starts its own stack (scripts/stack.sh with STACK_STATE=.local/bench
// and free ports), the real worker and webhook binaries, and stops them all
// at the end.
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
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/cloudpartners/onboarding/bench/ceiling"
	"github.com/cloudpartners/onboarding/bench/harness"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// options are the benchmark's flags.
type options struct {
	n, concurrency int
	rounds         int
	warmup         int
	costN          int
	memory         []int
	state          string
	poll           time.Duration
	expireWithin   time.Duration
	workerEnv      []string
	keep           bool
}

func parseFlags(args []string, stdout io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var o options
	var memory, workerEnv string
	fs.IntVar(&o.n, "n", 300, "onboardings per throughput phase")
	fs.IntVar(&o.concurrency, "concurrency", 50, "onboardings in flight at once")
	fs.IntVar(&o.rounds, "rounds", 2, "alternate the ceiling and onboarding phases in this many rounds (n split among them)")
	fs.IntVar(&o.warmup, "warmup", 50, "unmeasured onboardings of each kind before the phases")
	fs.IntVar(&o.costN, "cost-n", 5, "onboardings per outcome for the history-cost phase")
	fs.StringVar(&memory, "memory", "1000,2000", "waiting-onboarding counts at which to read the worker's RSS (besides 0)")
	fs.StringVar(&o.state, "state", ".local/bench", "STACK_STATE of the benchmark's own stack (wiped first)")
	fs.DurationVar(&o.poll, "poll", 20*time.Millisecond, "how often the driver looks for sent emails (same for ceiling and onboarding)")
	fs.DurationVar(&o.expireWithin, "expire-within", 2*time.Second, "confirmation window of the EXPIRED cost runs (the workflow adds 5 s grace)")
	fs.StringVar(&workerEnv, "worker-env", "", "extra NAME=VALUE settings for the worker, comma-separated (e.g. WORKFLOW_CACHE_SIZE=10000)")
	fs.BoolVar(&o.keep, "keep", false, "leave the stack running at the end")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.n < 1 || o.concurrency < 1 || o.costN < 1 || o.rounds < 1 || o.rounds > o.n {
		return o, errors.New("-n, -concurrency, -cost-n and -rounds must be at least 1, -rounds at most -n")
	}
	for f := range strings.SplitSeq(memory, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return o, fmt.Errorf("-memory: want counts such as 1000,2000, got %q", memory)
		}
		o.memory = append(o.memory, v)
	}
	sort.Ints(o.memory)
	for kv := range strings.SplitSeq(workerEnv, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			if !strings.Contains(kv, "=") {
				return o, fmt.Errorf("-worker-env: want NAME=VALUE, got %q", kv)
			}
			o.workerEnv = append(o.workerEnv, kv)
		}
	}
	return o, nil
}

// bench is one run: the stack, the binaries and the connections.
type bench struct {
	o        options
	root     string
	stack    *harness.Stack
	st       *store.Store
	tc       client.Client
	sealer   *seal.Sealer
	signer   *links.Signer
	secret   string
	worker   *harness.Proc
	workerEv []string
	workerB  string
	webhook  string // base URL
	procs    []*harness.Proc
	hc       *http.Client
	parked   []string // workflows no worker runs: targets of the bare signals
	logDir   string
	sfx      string
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
	b := &bench{o: o, root: root, sfx: harness.Suffix(), hc: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency}}}
	load0 := loadavg()

	fmt.Fprintf(stdout, "bench: starting a private stack in %s …\n", o.state)
	if err := b.up(ctx); err != nil {
		return err
	}
	defer b.down()

	res := &results{o: o, load0: load0}
	if o.warmup > 0 {
		// A fresh server, worker and database are slower at first: warm
		// every part up with both kinds, unmeasured, so that neither
		// phase pays for starting.
		fmt.Fprintf(stdout, "bench: warm-up (%d of each, not measured) …\n", o.warmup)
		if _, err := b.ceilingPhase(ctx, &results{}, "ceiling-warm", o.warmup); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
		if _, err := b.onboardingPhase(ctx, &results{}, "real-warm", o.warmup); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	// The two phases alternate in rounds, so that the machine's other load
	// falls on both alike; each rate is its onboardings over its time.
	var ceilingTime, realTime time.Duration
	for r := range o.rounds {
		chunk := o.n/o.rounds + btoi(r < o.n%o.rounds)
		fmt.Fprintf(stdout, "bench: round %d/%d: %d ceiling, then %d onboardings …\n", r+1, o.rounds, chunk, chunk)
		d, err := b.ceilingPhase(ctx, res, fmt.Sprintf("ceiling-%d", r), chunk)
		if err != nil {
			return fmt.Errorf("ceiling: %w", err)
		}
		ceilingTime += d
		if d, err = b.onboardingPhase(ctx, res, fmt.Sprintf("real-%d", r), chunk); err != nil {
			return fmt.Errorf("onboarding: %w", err)
		}
		realTime += d
	}
	res.ceilingRate = float64(o.n) / ceilingTime.Seconds()
	res.realRate = float64(o.n) / realTime.Seconds()
	if err := res.ceilingWait.read(ctx, b.tc); err != nil {
		return err
	}
	if err := res.realWait.read(ctx, b.tc); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "bench: history-cost phase …")
	if err := b.costPhase(ctx, res); err != nil {
		return fmt.Errorf("history cost: %w", err)
	}
	fmt.Fprintln(stdout, "bench: worker-memory phase …")
	if err := b.memoryPhase(ctx, res); err != nil {
		return fmt.Errorf("worker memory: %w", err)
	}
	res.load1 = loadavg()
	res.print(stdout, b)
	return nil
}

func (b *bench) up(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Dir(b.o.state), 0o755); err != nil {
		return err
	}
	stackLog, err := os.OpenFile(b.o.state+"-stack.log", os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	b.stack = &harness.Stack{Root: b.root, State: b.o.state, Log: stackLog}
	if err := b.stack.Start(ctx); err != nil {
		return err
	}
	b.logDir = filepath.Join(b.o.state, "logs")
	if err := os.MkdirAll(b.logDir, 0o755); err != nil {
		return err
	}

	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	b.secret = hex.EncodeToString(secret)
	b.signer = links.NewSigner([]byte(b.secret))
	if b.sealer, err = seal.New([]byte(b.secret)); err != nil {
		return err
	}
	if b.st, err = store.Open(ctx, b.stack.DatabaseURL(), store.Options{MaxOpenConns: 10}); err != nil {
		return err
	}
	for _, p := range []string{"bench", "bench-cost", "bench-mem"} {
		if _, err := b.st.AddPartner(ctx, p, "Benchmark partner "+p); err != nil {
			return err
		}
	}
	sdkLog, err := os.Create(filepath.Join(b.logDir, "bench-sdk.log"))
	if err != nil {
		return err
	}
	if b.tc, err = client.DialContext(ctx, client.Options{HostPort: b.stack.TemporalAddress(),
		Logger: tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(sdkLog, &slog.HandlerOptions{Level: slog.LevelWarn})))}); err != nil {
		return fmt.Errorf("connect to Temporal: %w", err)
	}

	bin := filepath.Join(b.o.state, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	if b.workerB, err = harness.Build(ctx, b.root, bin, "worker"); err != nil {
		return err
	}
	webhookBin, err := harness.Build(ctx, b.root, bin, "webhook")
	if err != nil {
		return err
	}
	webhookAddr, workerAddr := harness.FreeAddr(), harness.FreeAddr()
	b.webhook = "http://" + webhookAddr
	common := append(b.stack.Env(), "ONBOARDING_SECRET="+b.secret, "TASK_QUEUE="+workflows.TaskQueue,
		"PUBLIC_BASE_URL="+b.webhook, "LOG_FORMAT=json")
	b.workerEv = append(append(append([]string{}, common...), "WORKER_ADDR="+workerAddr), b.o.workerEnv...)
	if err := b.startWorker(ctx); err != nil {
		return err
	}
	// The benchmark posts every confirm from one address: lift the per-address rate limit.
	wh, err := harness.StartProc(webhookBin, append(common, "WEBHOOK_ADDR="+webhookAddr,
		"WEBHOOK_RATE=1000000", "WEBHOOK_BURST=1000000"), filepath.Join(b.logDir, "webhook.log"))
	if err != nil {
		return err
	}
	b.procs = append(b.procs, wh)
	if err := harness.WaitHTTP(ctx, b.webhook+"/healthz", 30*time.Second); err != nil {
		return err
	}
	// The bare SignalWorkflow is timed against workflows on a task queue no
	// worker polls, one signal per onboarding in both phases: the same call
	// the webhook makes, on the same server, under the same load, and
	// nothing in the measured workflows changes.
	pl := &harness.Launcher{Client: b.tc, Sealer: b.sealer, TaskQueue: "bench-parked-" + b.sfx, WorkflowType: ceiling.WorkflowName, PartnerID: "bench"}
	for i := range b.o.concurrency {
		id, err := pl.Launch(ctx, b.customer("parked", i, 24*time.Hour))
		if err != nil {
			return err
		}
		b.parked = append(b.parked, id)
	}
	return nil
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

func (b *bench) startWorker(ctx context.Context) error {
	p, err := harness.StartProc(b.workerB, b.workerEv, filepath.Join(b.logDir, "worker.log"))
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
	return harness.WaitHTTP(ctx, "http://"+addr+"/healthz", 30*time.Second)
}

// down stops the binaries (their process groups) and the stack.
func (b *bench) down() {
	if b.tc != nil {
		b.tc.Close()
	}
	if b.st != nil {
		b.st.Close()
	}
	for _, p := range b.procs {
		p.Stop()
	}
	if !b.o.keep {
		_ = b.stack.Down(context.Background())
	}
}

// drive runs fn for indices 0..n-1, conc at a time, and returns the wall time.
func drive(ctx context.Context, n, conc int, fn func(ctx context.Context, i int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conc)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t0 := time.Now()
	for range conc {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errs <- err
					cancel()
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(t0)
	close(errs)
	if err := <-errs; err != nil {
		return 0, err
	}
	return elapsed, nil
}

// latencies collects durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	ds []time.Duration
}

func (l *latencies) add(d time.Duration) {
	l.mu.Lock()
	l.ds = append(l.ds, d)
	l.mu.Unlock()
}

func (l *latencies) p(q float64) time.Duration { return harness.Percentile(l.ds, q) }

func (b *bench) customer(phase string, i int, within time.Duration) harness.Customer {
	return harness.Customer{
		Name:  fmt.Sprintf("Bench %s %s %05d", phase, b.sfx, i),
		Email: fmt.Sprintf("%s-%s-%d@bench.example", phase, b.sfx, i), Cloud: fmt.Sprintf("cloud-%d", i),
		ConfirmWithin: within,
	}
}

func (b *bench) ceilingPhase(ctx context.Context, res *results, phase string, n int) (time.Duration, error) {
	mem := &harness.MemReady{}
	queue := "bench-ceiling-" + b.sfx
	// The same options as worker/main.go gives the real worker: the SDK's defaults.
	w := worker.New(b.tc, queue, worker.Options{})
	ceiling.Register(w, &ceiling.Activities{Sent: mem.Mark})
	if err := w.Start(); err != nil {
		return 0, err
	}
	defer w.Stop()
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := harness.NewPoller(pctx, mem.Source, b.o.poll)
	l := &harness.Launcher{Client: b.tc, Sealer: b.sealer, TaskQueue: queue, WorkflowType: ceiling.WorkflowName, PartnerID: "bench"}
	var sample string
	elapsed, err := drive(ctx, n, b.o.concurrency, func(ctx context.Context, i int) error {
		id, err := l.Launch(ctx, b.customer(phase, i, time.Hour))
		if err != nil {
			return err
		}
		if _, err := poller.Wait(ctx, id); err != nil {
			return err
		}
		if err := b.ping(ctx, i, &res.pingCeiling); err != nil {
			return err
		}
		t0 := time.Now()
		if err := b.tc.SignalWorkflow(ctx, id, "", workflows.SignalConfirm, workflows.Confirm{Via: workflows.ViaLink}); err != nil {
			return fmt.Errorf("signal %s: %w", id, err)
		}
		res.signal.add(time.Since(t0))
		var r workflows.Result
		if err := b.tc.GetWorkflow(ctx, id, "").Get(ctx, &r); err != nil {
			return fmt.Errorf("ceiling %s: %w", id, err)
		}
		res.ceilingToDone.add(time.Since(t0))
		if r.Outcome != workflows.OutcomeActive {
			return fmt.Errorf("ceiling %s ended %s", id, r.Outcome)
		}
		if i == 0 {
			sample = id
		}
		if i%10 == 0 {
			res.ceilingWait.sample(id)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	res.ceilingCost, err = harness.History(ctx, b.tc, sample, "")
	return elapsed, err
}

func (b *bench) onboardingPhase(ctx context.Context, res *results, phase string, n int) (time.Duration, error) {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := harness.NewPoller(pctx, harness.DBReady(b.st.DB()), b.o.poll)
	l := &harness.Launcher{Client: b.tc, Sealer: b.sealer, TaskQueue: workflows.TaskQueue, WorkflowType: workflows.WorkflowName, PartnerID: "bench"}
	elapsed, err := drive(ctx, n, b.o.concurrency, func(ctx context.Context, i int) error {
		id, err := l.Launch(ctx, b.customer(phase, i, time.Hour))
		if err != nil {
			return err
		}
		r, err := poller.Wait(ctx, id)
		if err != nil {
			return err
		}
		// The token a browser posts is the one in the email: the same
		// signer over the subaccount id and the deadline on its row.
		token, err := b.signer.Token(r.SubaccountID, r.Deadline)
		if err != nil {
			return err
		}
		if err := b.ping(ctx, i, &res.pingReal); err != nil {
			return err
		}
		t0 := time.Now()
		code, took, err := harness.PostConfirm(ctx, b.hc, b.webhook, token)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("POST /confirm for %s answered %d", id, code)
		}
		res.post.add(took)
		var out workflows.Result
		if err := b.tc.GetWorkflow(ctx, id, "").Get(ctx, &out); err != nil {
			return fmt.Errorf("onboarding %s: %w", id, err)
		}
		res.postToActive.add(time.Since(t0))
		if out.Outcome != workflows.OutcomeActive || out.CloudID == "" {
			return fmt.Errorf("onboarding %s ended %s with cloud %q", id, out.Outcome, out.CloudID)
		}
		if i%10 == 0 {
			res.realWait.sample(id)
		}
		return nil
	})
	return elapsed, err
}

// queueWait sums how long tasks waited in their task queue, from the
// histories of sampled onboardings (read after the timed runs).
type queueWait struct {
	mu  sync.Mutex
	ids []string
	sum harness.Cost
}

func (q *queueWait) sample(id string) {
	q.mu.Lock()
	q.ids = append(q.ids, id)
	q.mu.Unlock()
}

func (q *queueWait) read(ctx context.Context, c client.Client) error {
	for _, id := range q.ids {
		h, err := harness.History(ctx, c, id, "")
		if err != nil {
			return err
		}
		q.sum.WorkflowTaskWait += h.WorkflowTaskWait
		q.sum.WorkflowTasks += h.WorkflowTasks
		q.sum.ActivityWait += h.ActivityWait
		q.sum.ActivityTasks += h.ActivityTasks
	}
	return nil
}

// String is the mean wait per workflow task and per activity.
func (q *queueWait) String() string {
	if q.sum.WorkflowTasks == 0 || q.sum.ActivityTasks == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%s / %s", ms(q.sum.WorkflowTaskWait/time.Duration(q.sum.WorkflowTasks)),
		ms(q.sum.ActivityWait/time.Duration(q.sum.ActivityTasks)))
}

// metricFlush is how long to wait for the server's counters to reach its
// metrics endpoint.
const metricFlush = 3 * time.Second

// outcomeCost is the history cost of one outcome, averaged per onboarding.
type outcomeCost struct {
	outcome        string
	events         float64
	actions        float64 // counted from the histories
	metric         float64 // the server's action counter, delta around the runs
	metricByType   map[string]float64
	retries        float64
	updatesRefused int
}

func (b *bench) costPhase(ctx context.Context, res *results) error {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := harness.NewPoller(pctx, harness.DBReady(b.st.DB()), b.o.poll)
	l := &harness.Launcher{Client: b.tc, Sealer: b.sealer, TaskQueue: workflows.TaskQueue, WorkflowType: workflows.WorkflowName, PartnerID: "bench-cost"}
	for _, outcome := range []string{workflows.OutcomeActive, workflows.OutcomeExpired, workflows.OutcomeCancelled} {
		// The server flushes its counters to the Prometheus endpoint about
		// once a second: let what came before land first.
		time.Sleep(metricFlush)
		before, err := harness.Actions(ctx, b.stack.MetricsURL())
		if err != nil {
			return err
		}
		ids := make([]string, b.o.costN)
		_, err = drive(ctx, b.o.costN, b.o.costN, func(ctx context.Context, i int) error {
			within := time.Hour
			if outcome == workflows.OutcomeExpired {
				within = b.o.expireWithin
			}
			id, err := l.Launch(ctx, b.customer("cost-"+strings.ToLower(outcome), i, within))
			if err != nil {
				return err
			}
			ids[i] = id
			switch outcome {
			case workflows.OutcomeActive:
				r, err := poller.Wait(ctx, id)
				if err != nil {
					return err
				}
				token, err := b.signer.Token(r.SubaccountID, r.Deadline)
				if err != nil {
					return err
				}
				if code, _, err := harness.PostConfirm(ctx, b.hc, b.webhook, token); err != nil || code != http.StatusOK {
					return fmt.Errorf("POST /confirm for %s: %d %v", id, code, err)
				}
			case workflows.OutcomeCancelled:
				if _, err := poller.Wait(ctx, id); err != nil {
					return err
				}
				h, err := b.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateCancel,
					WaitForStage: client.WorkflowUpdateStageCompleted})
				if err != nil {
					return fmt.Errorf("cancel %s: %w", id, err)
				}
				if err := h.Get(ctx, nil); err != nil {
					return fmt.Errorf("cancel %s: %w", id, err)
				}
			}
			var out workflows.Result
			if err := b.tc.GetWorkflow(ctx, id, "").Get(ctx, &out); err != nil {
				return fmt.Errorf("onboarding %s: %w", id, err)
			}
			if out.Outcome != outcome {
				return fmt.Errorf("onboarding %s ended %s, want %s", id, out.Outcome, outcome)
			}
			return nil
		})
		if err != nil {
			return err
		}
		time.Sleep(metricFlush)
		after, err := harness.Actions(ctx, b.stack.MetricsURL())
		if err != nil {
			return err
		}
		oc := outcomeCost{outcome: outcome, metricByType: harness.Delta(before, after)}
		for _, id := range ids {
			c, err := harness.History(ctx, b.tc, id, "")
			if err != nil {
				return err
			}
			oc.events += float64(c.Events)
			oc.actions += float64(c.Actions)
			oc.retries += float64(c.ActivityRetries)
		}
		n := float64(b.o.costN)
		oc.events /= n
		oc.actions /= n
		oc.retries /= n
		oc.metric = harness.Sum(oc.metricByType) / n
		for k := range oc.metricByType {
			oc.metricByType[k] /= n
		}
		res.costs = append(res.costs, oc)
	}
	return nil
}

func (b *bench) memoryPhase(ctx context.Context, res *results) error {
	// A fresh worker process, so that what the throughput phases left in
	// its heap does not count.
	b.worker.Stop()
	if err := b.startWorker(ctx); err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	rss, err := harness.RSS(b.worker.Pid())
	if err != nil {
		return err
	}
	res.rss = append(res.rss, memPoint{0, rss})
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := harness.NewPoller(pctx, harness.DBReady(b.st.DB()), 200*time.Millisecond)
	l := &harness.Launcher{Client: b.tc, Sealer: b.sealer, TaskQueue: workflows.TaskQueue, WorkflowType: workflows.WorkflowName, PartnerID: "bench-mem"}
	have := 0
	for _, target := range b.o.memory {
		from := have
		if _, err := drive(ctx, target-from, b.o.concurrency, func(ctx context.Context, i int) error {
			id, err := l.Launch(ctx, b.customer("mem", from+i, 24*time.Hour))
			if err != nil {
				return err
			}
			_, err = poller.Wait(ctx, id)
			return err
		}); err != nil {
			return err
		}
		have = target
		// Every onboarding has sent its email and waits on its timer and
		// signal; let the worker settle before reading its memory.
		time.Sleep(3 * time.Second)
		rss, err := harness.RSS(b.worker.Pid())
		if err != nil {
			return err
		}
		res.rss = append(res.rss, memPoint{target, rss})
	}
	return nil
}

type memPoint struct {
	waiting int
	rss     int64
}

// results are every figure of one run.
type results struct {
	o                                         options
	ceilingRate, realRate                     float64
	signal, ceilingToDone, post, postToActive latencies
	pingCeiling, pingReal                     latencies
	ceilingWait, realWait                     queueWait
	ceilingCost                               harness.Cost
	costs                                     []outcomeCost
	rss                                       []memPoint
	load0, load1                              string
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

func verdict(ok bool) string {
	if ok {
		return "PASS"
	}
	return "FAIL"
}

func (r *results) print(w io.Writer, b *bench) {
	fmt.Fprintf(w, "\nOnboarding benchmark — one run on one Temporal dev server (%s, sqlite state file), %d cores; load average before %s, after %s\n",
		b.stack.TemporalAddress(), numCPU(), r.load0, r.load1)
	fmt.Fprintf(w, "n=%d per phase in %d alternating rounds after a warm-up of %d each, concurrency=%d, email poll every %s (both phases); worker settings: %s\n\n",
		r.o.n, r.o.rounds, r.o.warmup, r.o.concurrency, r.o.poll, workerSettings(r.o.workerEnv))
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ratio := r.realRate / r.ceilingRate
	fmt.Fprintln(t, "figure\tvalue\ttarget\t")
	fmt.Fprintf(t, "ceiling: no-op workflow of the same shape\t%.1f onboardings/s\t\t\n", r.ceilingRate)
	fmt.Fprintf(t, "onboarding: real worker + webhook POST /confirm\t%.1f onboardings/s\t\t\n", r.realRate)
	fmt.Fprintf(t, "ratio onboarding / ceiling\t%.2f\t≥ 0.80 %s\t\n", ratio, verdict(ratio >= 0.8))
	fmt.Fprintf(t, "webhook answer to POST /confirm p50 / p99\t%s / %s\t\t\n", ms(r.post.p(50)), ms(r.post.p(99)))
	fmt.Fprintf(t, "bare SignalWorkflow, same phase, p50 / p99\t%s / %s\t\t\n", ms(r.pingReal.p(50)), ms(r.pingReal.p(99)))
	over := r.post.p(99) - r.pingReal.p(99)
	fmt.Fprintf(t, "webhook p99 − bare signal p99\t%s\t≤ 10 ms %s\t\n", ms(over), verdict(over <= 10*time.Millisecond))
	fmt.Fprintf(t, "bare SignalWorkflow, ceiling phase, p50 / p99\t%s / %s\t\t\n", ms(r.pingCeiling.p(50)), ms(r.pingCeiling.p(99)))
	fmt.Fprintf(t, "ceiling confirm SignalWorkflow p50 / p99\t%s / %s\t\t\n", ms(r.signal.p(50)), ms(r.signal.p(99)))
	fmt.Fprintf(t, "POST → ACTIVE with cloud p50 / p99\t%s / %s\t\t\n", ms(r.postToActive.p(50)), ms(r.postToActive.p(99)))
	fmt.Fprintf(t, "ceiling signal → done p50 / p99\t%s / %s\t\t\n", ms(r.ceilingToDone.p(50)), ms(r.ceilingToDone.p(99)))
	fmt.Fprintf(t, "task-queue wait, mean per workflow task / activity: ceiling\t%s\t\t\n", r.ceilingWait.String())
	fmt.Fprintf(t, "task-queue wait, mean per workflow task / activity: onboarding\t%s\t\t\n", r.realWait.String())
	t.Flush()

	fmt.Fprintf(w, "\nHistory cost per onboarding (%d of each outcome; real worker):\n", r.o.costN)
	t = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "outcome\tevents\tactions (history, Cloud rules)\tactions (server `action` metric)\tactivity retries\tmetric by type\t")
	for _, c := range r.costs {
		fmt.Fprintf(t, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%s\t\n", c.outcome, c.events, c.actions, c.metric, c.retries, byType(c.metricByType))
	}
	fmt.Fprintf(t, "ceiling ACTIVE (sample)\t%d\t%d\t\t%d\t\t\n", r.ceilingCost.Events, r.ceilingCost.Actions, r.ceilingCost.ActivityRetries)
	t.Flush()
	fmt.Fprintln(w, "history rule: 1 each for start, signal, accepted update, timer, activity scheduled (+1 per retry),")
	fmt.Fprintln(w, "search-attribute upsert; side-effect markers 1 per workflow task. The server metric also counts")
	fmt.Fprintln(w, "rejected updates and queries, and not activity retries.")

	fmt.Fprintf(w, "\nWorker resident memory (VmRSS of a fresh worker process):\n")
	t = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "onboardings waiting for confirmation\tworker RSS\t")
	for _, m := range r.rss {
		fmt.Fprintf(t, "%d\t%.1f MiB\t\n", m.waiting, float64(m.rss)/(1<<20))
	}
	t.Flush()
	if n := len(r.rss); n >= 3 {
		a, z := r.rss[n-2], r.rss[n-1]
		growth := float64(z.rss-a.rss) / (1 << 20)
		fmt.Fprintf(w, "growth from %d to %d waiting: %.1f MiB (target: bounded by the sticky workflow cache, not by the number waiting)\n",
			a.waiting, z.waiting, growth)
	}
}

func byType(m map[string]float64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.1f", strings.TrimPrefix(strings.TrimPrefix(k, "command_"), "grpc_"), m[k]))
	}
	return strings.Join(parts, " ")
}

func workerSettings(env []string) string {
	if len(env) == 0 {
		return "defaults of worker/main.go"
	}
	return strings.Join(env, " ")
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "processor\t:")
}
