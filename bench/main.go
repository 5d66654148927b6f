// Command bench measures onboarding against Temporal's own ceiling on one
// private dev server, in one run, and prints one table: throughput of a no-op
// workflow of the onboarding's shape and of real onboardings confirmed
// through the webhook's POST /confirm, confirm latencies beside a bare
// SignalWorkflow, history events and billable actions per outcome, and the
// worker's resident memory with 0, 1,000 and 2,000 onboardings waiting.
// Then the portal phase seeds one partner with 100,000 customers and times
// the dashboard, the JSON list API and `starter list` at the first, a
// middle and the last page (see portal.go). Last, the audit phase grows one
// partner's audit log to 100,000 and 1,000,000 events and exports it through
// the action, the portal's API and `starter audit export`, with events/s
// and memory beside each (see auditphase.go).
//
// It starts its own stack (scripts/stack.sh with STACK_STATE=.local/bench
// and free ports), the real worker, webhook, portal and starter binaries,
// and stops them all at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/stack"
)

func main() { daemon.Main("bench", run) }

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
	only           string // "": every phase; "onboarding", "import" or "portal": those phases alone

	importRows        int // customers of the import phase's large file (0: no import phase)
	importConcurrency int // its --concurrency, and the bare starts'

	portalCustomers int    // customers of the portal phase's partner
	portalSamples   int    // timed requests per row of the portal table
	portalWarmup    int    // untimed requests per row before them
	starterSamples  int    // timed `starter list` runs per row
	portalSearch    string // the name search of the filtered rows

	auditRows []int // the sizes the audit phase's log is grown to and exported at, ascending

	workers []int // -workers: the worker counts of the scaling table, ascending (none: one worker, no table)
}

// Values of -only.
const (
	onlyOnboarding = "onboarding"
	onlyImport     = "import"
	onlyPortal     = "portal"
	onlyAudit      = "audit"
)

// runs reports whether the phases named run under -only.
func (o options) runs(phases string) bool { return o.only == "" || o.only == phases }

// parseFlags reads and checks the flags.
func parseFlags(args []string, stdout io.Writer) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var o options
	var memory, workerEnv, auditRows, workers string
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
	fs.StringVar(&o.only, "only", "", "run only these phases: onboarding (throughput, cost, memory), import, portal or audit")
	fs.IntVar(&o.importRows, "import", 10000, "customers of the import phase (starter import against bare StartWorkflow, then worker memory with them all waiting); 0 skips it")
	fs.IntVar(&o.importConcurrency, "import-concurrency", 8, "the import's --concurrency (starter import's default), and the bare starts'")
	fs.IntVar(&o.portalCustomers, "portal-customers", 100000, "customers of the portal phase's partner")
	fs.IntVar(&o.portalSamples, "portal-samples", 200, "timed requests per row of the portal table (sequential)")
	fs.IntVar(&o.portalWarmup, "portal-warmup", 20, "untimed requests per row of the portal table before the timed ones")
	fs.IntVar(&o.starterSamples, "starter-samples", 20, "timed `starter list` runs per row (each a new process)")
	fs.StringVar(&auditRows, "audit-rows", "100000,1000000", "audit events of the audit phase's partner at which its export is measured (the log grows to each in turn)")
	fs.StringVar(&workers, "workers", "", "worker counts, comma-separated (e.g. 1,2,3): the throughput rounds run at each, the real phase on that many worker processes, the ceiling on that many in-process workers (each its own connection), and a table gives onboardings/s and the ratio at each; the main table is the first count's")
	fs.StringVar(&o.portalSearch, "portal-search", "globex", "the name search (q=) of the searched rows; one customer name in 20 holds \"Globex\"")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.n < 1 || o.concurrency < 1 || o.costN < 1 || o.rounds < 1 || o.rounds > o.n {
		return o, errors.New("-n, -concurrency, -cost-n and -rounds must be at least 1, -rounds at most -n")
	}
	if o.only != "" && o.only != onlyOnboarding && o.only != onlyImport && o.only != onlyPortal && o.only != onlyAudit {
		return o, fmt.Errorf("-only: want %s, %s, %s or %s, got %q", onlyOnboarding, onlyImport, onlyPortal, onlyAudit, o.only)
	}
	if o.importRows < 0 || o.importConcurrency < 1 || o.importConcurrency > 64 {
		return o, errors.New("-import must be at least 0, -import-concurrency 1 to 64 (as starter import's --concurrency)")
	}
	if o.portalCustomers < 4*portalPage || o.portalSamples < 1 || o.portalWarmup < 0 || o.starterSamples < 1 {
		return o, fmt.Errorf("-portal-customers must be at least %d, -portal-samples and -starter-samples at least 1, -portal-warmup at least 0", 4*portalPage)
	}
	if strings.TrimSpace(o.portalSearch) == "" {
		return o, errors.New("-portal-search: want some text to search customer names for")
	}
	var err error
	if o.memory, err = counts("-memory", memory); err != nil {
		return o, err
	}
	if o.auditRows, err = counts("-audit-rows", auditRows); err != nil {
		return o, err
	}
	if o.workers, err = counts("-workers", workers); err != nil {
		return o, err
	}
	if len(o.workers) > 0 && o.workers[len(o.workers)-1] > maxWorkers {
		return o, fmt.Errorf("-workers: at most %d workers, got %q", maxWorkers, workers)
	}
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

// counts parses a flag's comma-separated counts, each at least 1, into
// ascending order.
func counts(flag, s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 1 {
			return nil, fmt.Errorf("%s: want counts such as 1000,2000, got %q", flag, s)
		}
		out = append(out, v)
	}
	sort.Ints(out)
	return out, nil
}

// run is the benchmark: flags, the private stack, the phases, the table.
func run(ctx context.Context, args []string, _ func(string) string, stdout, _ io.Writer) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	root, state, err := stack.StateIn(o.state)
	if err != nil {
		return err
	}
	o.state = state
	b := &bench{o: o, root: root, sfx: stack.Suffix(), hc: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: o.concurrency}}}
	load0 := loadavg()

	fmt.Fprintf(stdout, "bench: starting a private stack in %s …\n", o.state)
	defer b.down() // also after a failed start: stop whatever did start
	if err := b.up(ctx); err != nil {
		return err
	}

	res := &results{o: o, load0: load0}
	if o.runs(onlyOnboarding) {
		if err := b.onboardingPhases(ctx, res, stdout); err != nil {
			return err
		}
	}
	if o.runs(onlyImport) && o.importRows > 0 {
		if res.imp, err = b.importPhase(ctx, stdout); err != nil {
			return fmt.Errorf("import: %w", err)
		}
	}
	if o.runs(onlyPortal) {
		if res.portal, err = b.portalPhase(ctx, stdout); err != nil {
			return fmt.Errorf("portal: %w", err)
		}
	}
	if o.runs(onlyAudit) && len(o.auditRows) > 0 {
		if res.audit, err = b.auditPhase(ctx, stdout); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
	}
	res.load1 = loadavg()
	res.print(stdout, b)
	return nil
}

// maxWorkers bounds -workers: each is a process with its own pollers.
const maxWorkers = 8

// onboardingPhases are the throughput, history-cost and worker-memory
// phases.
func (b *bench) onboardingPhases(ctx context.Context, res *results, stdout io.Writer) error {
	o := b.o
	counts := o.workers
	if len(counts) == 0 {
		counts = []int{1}
	}
	for j, k := range counts {
		if err := b.scaleWorkers(ctx, k); err != nil {
			return err
		}
		// The main table's latencies are the first count's.
		into := res
		if j > 0 {
			into = &results{}
		}
		ceilingRate, realRate, err := b.throughput(ctx, into, k, stdout)
		if err != nil {
			return err
		}
		if j == 0 {
			res.ceilingRate, res.realRate = ceilingRate, realRate
		}
		if len(o.workers) > 0 {
			res.scaling = append(res.scaling, scalePoint{workers: k, ceilingRate: ceilingRate, realRate: realRate})
		}
	}
	// The phases below measure one worker, as they always did.
	if err := b.scaleWorkers(ctx, 1); err != nil {
		return err
	}
	if err := res.ceilingWait.read(ctx, b.tc); err != nil {
		return err
	}
	if err := res.realWait.read(ctx, b.tc); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "bench: round-trip phase …")
	if err := b.roundTripPhase(ctx, res); err != nil {
		return fmt.Errorf("round trips: %w", err)
	}
	fmt.Fprintln(stdout, "bench: history-cost phase …")
	if err := b.costPhase(ctx, res); err != nil {
		return fmt.Errorf("history cost: %w", err)
	}
	fmt.Fprintln(stdout, "bench: worker-memory phase …")
	if err := b.memoryPhase(ctx, res); err != nil {
		return fmt.Errorf("worker memory: %w", err)
	}
	res.onboarding = true
	return nil
}

// throughput warms up, then alternates the ceiling and onboarding phases
// in rounds on k workers and returns both rates.
func (b *bench) throughput(ctx context.Context, res *results, k int, stdout io.Writer) (ceilingRate, realRate float64, err error) {
	o := b.o
	name := func(kind, round string) string { return kind + "-" + round }
	if len(o.workers) > 0 {
		name = func(kind, round string) string { return fmt.Sprintf("%s-w%d-%s", kind, k, round) }
		fmt.Fprintf(stdout, "bench: %d worker(s) …\n", k)
	}
	if o.warmup > 0 {
		// A fresh server, worker and database are slower at first: warm
		// every part up with both kinds, unmeasured, so that neither
		// phase pays for starting.
		fmt.Fprintf(stdout, "bench: warm-up (%d of each, not measured) …\n", o.warmup)
		if _, err := b.ceilingPhase(ctx, &results{}, name("ceiling", "warm"), o.warmup, k); err != nil {
			return 0, 0, fmt.Errorf("warm-up: %w", err)
		}
		if _, err := b.onboardingPhase(ctx, &results{}, name("real", "warm"), o.warmup); err != nil {
			return 0, 0, fmt.Errorf("warm-up: %w", err)
		}
	}
	// The two phases alternate in rounds, so that the machine's other load
	// falls on both alike; each rate is its onboardings over its time.
	var ceilingTime, realTime time.Duration
	for r := range o.rounds {
		chunk := o.n/o.rounds + btoi(r < o.n%o.rounds)
		fmt.Fprintf(stdout, "bench: round %d/%d: %d ceiling, then %d onboardings …\n", r+1, o.rounds, chunk, chunk)
		d, err := b.ceilingPhase(ctx, res, name("ceiling", strconv.Itoa(r)), chunk, k)
		if err != nil {
			return 0, 0, fmt.Errorf("ceiling: %w", err)
		}
		ceilingTime += d
		if d, err = b.onboardingPhase(ctx, res, name("real", strconv.Itoa(r)), chunk); err != nil {
			return 0, 0, fmt.Errorf("onboarding: %w", err)
		}
		realTime += d
	}
	return float64(o.n) / ceilingTime.Seconds(), float64(o.n) / realTime.Seconds(), nil
}
