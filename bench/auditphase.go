package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/text"
)

// The audit phase: one partner's log grown to each of -audit-rows events
// (seeded with one INSERT … SELECT generate_series a step, beside another
// partner's events that must never show), exported whole, newest first,
// as CSV three ways: through the action in this process (events/s, and the
// growth of the heap sampled every 5 ms over its value after a GC, and the
// bytes allocated an event), through the real portal's API (events/s, and
// the portal's go_memstats_heap_inuse_bytes sampled from its /metrics),
// and by `starter audit export` as a process (events/s, its peak RSS). The
// store reads in keyset batches of store.ExportBatch, so memory must not
// grow with the number of events.

// Partners of the audit phase: the exported one, and another whose events
// (by otherActor) must never show.
const (
	auditPartner = "bench-audit"
	auditOther   = "bench-audit-other"
	otherActor   = "elsewhere@other.example"
	auditOtherN  = 1000
	auditDetail  = 100 // bytes of each seeded event's detail
)

// auditResults are the audit phase's figures, a row a surface a size.
type auditResults struct {
	rows         []exportFigure
	load0, load1 string
}

// exportFigure is one export measured.
type exportFigure struct {
	size    int    // the events seeded so far
	surface string // "action", "api" or "starter"
	events  int    // the events written (the seeded ones and the phase's own: its API key, its exports)
	bytes   int64
	took    time.Duration
	seed    time.Duration // how long seeding up to size took (on the first surface's row)
	memory  string        // the surface's memory figure, in words
	growth  int64         // the memory figure compared across sizes, bytes: the action's heap growth, the portal's peak heap, the starter's peak RSS
}

// auditPhase seeds the log step by step and measures each export at each size.
func (b *bench) auditPhase(ctx context.Context, stdout io.Writer) (*auditResults, error) {
	res := &auditResults{load0: loadavg()}
	db := b.st.DB()
	for _, p := range []string{auditPartner, auditOther} {
		if _, err := b.st.AddPartner(ctx, p, "Audit benchmark partner "+p, nil); err != nil {
			return nil, err
		}
	}
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := stack.SeedAudit(ctx, db, auditOther, otherActor, auditOtherN, start, auditDetail); err != nil {
		return nil, err
	}
	p, err := b.startPortal(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.signIn(ctx, auditPartner); err != nil {
		return nil, err
	}
	by := domain.Actor{Kind: domain.ActorUser, ID: "bench@" + auditPartner + ".example", PartnerID: auditPartner, Role: domain.StaffViewer, PartnerStatus: true}
	seeded := 0
	for _, size := range b.o.auditRows {
		fmt.Fprintf(stdout, "bench: audit: seeding %s's log to %d events …\n", auditPartner, size)
		t0 := time.Now()
		if err := stack.SeedAudit(ctx, db, auditPartner, "seed@"+auditPartner+".example", size-seeded, start.Add(time.Duration(seeded)*time.Second), auditDetail); err != nil {
			return nil, err
		}
		if _, err := db.ExecContext(ctx, "VACUUM (ANALYZE) audit_events"); err != nil {
			return nil, fmt.Errorf("vacuum analyze audit_events: %w", err)
		}
		seedTook := time.Since(t0)
		seeded = size
		fmt.Fprintf(stdout, "bench: audit: exporting %d events: the action, the API, the starter …\n", size)
		f, err := exportInProcess(ctx, b.drv.Audit, by)
		if err != nil {
			return nil, err
		}
		f.seed = seedTook
		api, err := p.exportAPI(ctx)
		if err != nil {
			return nil, err
		}
		cli, err := p.exportStarter(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range []exportFigure{f, api, cli} {
			if r.events < size {
				return nil, fmt.Errorf("audit: %s exported %d events of %d", r.surface, r.events, size)
			}
			r.size = size
			res.rows = append(res.rows, r)
		}
	}
	res.load1 = loadavg()
	return res, nil
}

// counted is a writer that counts what it is given, and checks that no
// event of the other partner goes by.
type counted struct {
	bytes, lines atomic.Int64
	leaked       atomic.Bool
}

func (c *counted) Write(p []byte) (int, error) {
	c.bytes.Add(int64(len(p)))
	c.lines.Add(int64(bytes.Count(p, []byte("\n"))))
	if bytes.Contains(p, []byte(otherActor)) {
		c.leaked.Store(true)
	}
	return len(p), nil
}

// check fails an export that showed another partner's event.
func (c *counted) check(surface string) error {
	if c.leaked.Load() {
		return fmt.Errorf("audit: the %s's export shows another partner's event", surface)
	}
	return nil
}

// exportInProcess exports through the action, sampling the heap.
func exportInProcess(ctx context.Context, log *audit.Log, by domain.Actor) (exportFigure, error) {
	runtime.GC()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	peak := sample(5*time.Millisecond, func() int64 {
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapInuse)
	})
	w := &counted{}
	t0 := time.Now()
	n, err := log.Export(ctx, by, audit.Query{}, w)
	took := time.Since(t0)
	top := peak()
	runtime.ReadMemStats(&m1)
	if err != nil {
		return exportFigure{}, fmt.Errorf("audit: export: %w", err)
	}
	growth := max(top-int64(m0.HeapInuse), 0)
	return exportFigure{surface: "action", events: n, bytes: w.bytes.Load(), took: took, growth: growth,
		memory: fmt.Sprintf("heap +%s at most over %s after a GC; %.0f B allocated an event",
			mib(growth), mib(int64(m0.HeapInuse)), float64(m1.TotalAlloc-m0.TotalAlloc)/float64(max(n, 1)))}, w.check("action")
}

// sample calls read every period until the returned stop is called, which
// returns the largest value read.
func sample(period time.Duration, read func() int64) (stop func() int64) {
	done, out := make(chan struct{}), make(chan int64)
	go func() {
		top := read()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-done:
				out <- max(top, read())
				return
			case <-t.C:
				top = max(top, read())
			}
		}
	}()
	return func() int64 { close(done); return <-out }
}

// exportAPI downloads the log from the portal's API with the API key,
// sampling the portal's heap from its metrics.
func (p *portal) exportAPI(ctx context.Context) (exportFigure, error) {
	heap := func() int64 {
		v, err := p.statements.value(ctx, "go_memstats_heap_inuse_bytes")
		if err != nil {
			return 0
		}
		return int64(v)
	}
	idle := heap()
	peak := sample(20*time.Millisecond, heap)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/api/v1/audit?format=csv", nil)
	if err != nil {
		return exportFigure{}, err
	}
	req.Header.Set("Authorization", "Bearer "+p.apiKey)
	hc := &http.Client{} // no timeout: a download of a million events takes a while
	t0 := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		peak()
		return exportFigure{}, fmt.Errorf("audit: API export: %w", err)
	}
	w := &counted{}
	_, err = io.Copy(w, resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	top := peak()
	switch {
	case err != nil:
		return exportFigure{}, fmt.Errorf("audit: API export: %w", err)
	case resp.StatusCode != http.StatusOK:
		return exportFigure{}, fmt.Errorf("audit: API export: %d", resp.StatusCode)
	}
	// The portal's heap is compared at its peak: what it held before
	// depends on when its collector last ran.
	return exportFigure{surface: "api", events: int(w.lines.Load()) - 1, bytes: w.bytes.Load(), took: took, growth: top,
		memory: fmt.Sprintf("the portal's heap %s at most (%s before)", mib(top), mib(idle))}, w.check("API")
}

// exportStarter runs `starter audit export --partner` as a process, its
// stdout counted here, and reads its peak resident memory.
func (p *portal) exportStarter(ctx context.Context) (exportFigure, error) {
	cmd := exec.CommandContext(ctx, p.starter, "audit", "export", "--partner", auditPartner)
	cmd.Env = append([]string{}, p.b.apps.Env...)
	w := &counted{}
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = w, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return exportFigure{}, fmt.Errorf("starter audit export: %w: %s", err, text.Truncate(stderr.String(), 300))
	}
	took := time.Since(t0)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return exportFigure{}, fmt.Errorf("starter audit export: no resource usage")
	}
	rss := ru.Maxrss * 1024 // Linux reports kB
	return exportFigure{surface: "starter", events: int(w.lines.Load()) - 1, bytes: w.bytes.Load(), took: took, growth: rss,
		memory: fmt.Sprintf("peak RSS %s", mib(rss))}, w.check("starter")
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// print writes the audit table, and how each surface's memory compares
// between the smallest and the largest log.
func (r *auditResults) print(w io.Writer) {
	fmt.Fprintf(w, "\nAudit log export (%s's whole log, newest first, CSV; keyset batches of 1,000; beside %d events of another partner that never show):\n",
		auditPartner, auditOtherN)
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "log\tsurface\tevents\ttime\tevents/s\tMB/s\tmemory\t")
	for _, f := range r.rows {
		size := ""
		if f.surface == "action" {
			size = fmt.Sprintf("%d (seeded in %.1f s)", f.size, f.seed.Seconds())
		}
		fmt.Fprintf(t, "%s\t%s\t%d\t%.1f s\t%.0f\t%.1f\t%s\t\n", size, f.surface, f.events, f.took.Seconds(),
			float64(f.events)/f.took.Seconds(), float64(f.bytes)/1e6/f.took.Seconds(), f.memory)
	}
	t.Flush()
	if len(r.rows) < 6 {
		return
	}
	first, last := r.rows[:3], r.rows[len(r.rows)-3:]
	var parts []string
	for i := range first {
		parts = append(parts, fmt.Sprintf("%s %s → %s", map[string]string{"action": "action's heap growth", "api": "portal's peak heap",
			"starter": "starter's peak RSS"}[first[i].surface], mib(first[i].growth), mib(last[i].growth)))
	}
	fmt.Fprintf(w, "memory from %d to %d events (%.0f× the events): %s\n", first[0].size, last[0].size,
		float64(last[0].size)/float64(first[0].size), strings.Join(parts, "; "))
	fmt.Fprintf(w, "load average before / after: %s / %s\n", r.load0, r.load1)
}
