package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
)

// results are every figure of one run.
type results struct {
	o                                         options
	ceilingRate, realRate                     float64
	signal, ceilingToDone, post, postToActive latencies
	pingCeiling, pingReal                     latencies
	ceilingWait, realWait                     queueWait
	ceilingCost                               stack.Cost
	costs                                     []outcomeCost
	rss                                       []memPoint
	load0, load1                              string
	onboarding                                bool           // the onboarding phases ran
	portal                                    *portalResults // the portal phase's, if it ran
	imp                                       *importResult  // the import phase's, if it ran
	audit                                     *auditResults  // the audit phase's, if it ran
	roundTrips                                []*roundTrip
	requestDone, updateDone                   latencies    // a new cloud: the durable request, the update it replaced
	scaling                                   []scalePoint // -workers: the throughput at each worker count
}

// scalePoint is the throughput at one worker count.
type scalePoint struct {
	workers               int
	ceilingRate, realRate float64
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
	if r.onboarding {
		r.printOnboarding(w, b)
		r.printScaling(w)
		printRoundTrips(w, r.roundTrips)
		printRequestTimes(w, r)
	}
	if r.imp != nil {
		r.imp.print(w)
	}
	if r.portal != nil {
		r.portal.print(w, b)
	}
	if r.audit != nil {
		r.audit.print(w)
	}
}

func (r *results) printOnboarding(w io.Writer, b *bench) {
	fmt.Fprintf(w, "\nOnboarding benchmark — one run on one Temporal %s, %d cores; load average before %s, after %s\n",
		serverName(b), numCPU(), r.load0, r.load1)
	fmt.Fprintf(w, "n=%d per phase in %d alternating rounds after a warm-up of %d each, concurrency=%d, email poll every %s (both phases); worker settings: %s\n\n",
		r.o.n, r.o.rounds, r.o.warmup, r.o.concurrency, r.o.poll, workerSettings(r.o.workerEnv))
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	ratio := r.realRate / r.ceilingRate
	fmt.Fprintln(t, "figure\tvalue\ttarget\t")
	fmt.Fprintf(t, "ceiling: the onboarding workflow over no-op activities\t%.1f onboardings/s\t\t\n", r.ceilingRate)
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

// printScaling writes the -workers table: throughput at each worker count.
func (r *results) printScaling(w io.Writer) {
	if len(r.scaling) == 0 {
		return
	}
	fmt.Fprintf(w, "\nThroughput by worker count (each count: its own warm-up of %d, then n=%d in %d alternating rounds, concurrency=%d;\n",
		r.o.warmup, r.o.n, r.o.rounds, r.o.concurrency)
	fmt.Fprintln(w, "real: that many worker processes; ceiling: that many in-process SDK workers, each its own connection):")
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "workers\tceiling\tonboarding\tratio onboarding / ceiling\tonboarding vs the first count\t")
	first := r.scaling[0].realRate
	for _, p := range r.scaling {
		fmt.Fprintf(t, "%d\t%.1f onboardings/s\t%.1f onboardings/s\t%.2f\t×%.2f\t\n", p.workers, p.ceilingRate, p.realRate,
			p.realRate/p.ceilingRate, p.realRate/first)
	}
	t.Flush()
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

// print writes the portal phase's table.
func (r *portalResults) print(w io.Writer, b *bench) {
	fmt.Fprintf(w, "\nPortal benchmark — one partner with %d customers (%s), %d cores; load average before %s, after %s\n",
		r.customers, r.censusLine(), numCPU(), r.load0, r.load1)
	fmt.Fprintf(w, "seeded with bulk SQL in %.1f s (%s), VACUUM ANALYZE %.1f s; %d customers of another partner beside them\n",
		r.seedTook.Seconds(), rowsLine(r.seedRows), r.analyzeTook.Seconds(), otherN)
	fmt.Fprintf(w, "sequential GETs on one keep-alive connection, rows in turn: %d warm-up + %d timed each (portal), 1 + %d process runs each (starter)\n\n",
		max(b.o.portalWarmup, 1), b.o.portalSamples, b.o.starterSamples)
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "surface\tpage\tfilter\tp50\tp99\ttarget\tround trips\t")
	for _, row := range r.rows {
		target, trips := "(comparison)", "—"
		if row.target {
			target = fmt.Sprintf("p99 ≤ %s %s", ms(portalTarget), verdict(row.lat.p(99) <= portalTarget))
			trips = strconv.Itoa(row.trips)
		}
		fmt.Fprintf(t, "%s\t%s %s\t%s\t%s\t%s\t%s\t%s\t\n", surfaceName(row.surface), row.page, row.pageNo, row.filter,
			ms(row.lat.p(50)), ms(row.lat.p(99)), target, trips)
	}
	t.Flush()
	fmt.Fprintln(w, "dashboard: GET /customers (HTML) with a session cookie; api: GET /api/v1/customers (JSON) with an API key;")
	fmt.Fprintln(w, "round trips: the portal's db_statements_total around one more request of the row (the credential's look-up and the page's query).")
	fmt.Fprintln(w, "starter: `starter list --partner P --limit 50 …` as a new process, which also connects to Temporal and joins each page with its runs.")
}

func surfaceName(s string) string {
	switch s {
	case "dashboard":
		return "dashboard GET /customers"
	case "api":
		return "API GET /api/v1/customers"
	}
	return "starter list"
}

func (r *portalResults) censusLine() string {
	var parts []string
	for _, c := range r.census {
		k := c.Status
		if c.Reason != "" {
			k += " " + c.Reason
		}
		parts = append(parts, fmt.Sprintf("%s %d", k, c.N))
	}
	return strings.Join(parts, ", ")
}

func rowsLine(m map[string]int64) string {
	var parts []string
	for _, ins := range seedInserts {
		parts = append(parts, fmt.Sprintf("%d %s", m[ins.what], ins.what))
	}
	return strings.Join(parts, ", ")
}

// serverName says which Temporal server the stack runs, and where.
func serverName(b *bench) string {
	switch b.stack.TemporalServer() {
	case "full":
		return fmt.Sprintf("full server v1.29.1 (%s; services frontend, history, matching, worker in one process; Postgres persistence and SQL visibility)", b.stack.TemporalAddress())
	case "cluster":
		return fmt.Sprintf("cluster of the server v1.29.1 (%s: HAProxy over two frontends; two history hosts, matching, worker, each its own process; 8 shards; Postgres persistence and SQL visibility)", b.stack.TemporalAddress())
	}
	return fmt.Sprintf("dev server (%s, SQLite state file)", b.stack.TemporalAddress())
}
