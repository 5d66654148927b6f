package stack

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// clusterProbeWorkflow runs one activity and returns what it answered: the
// smallest piece of work that touches history (its shard), matching (the
// task queues) and the frontends.
func clusterProbeWorkflow(ctx workflow.Context, n int) (int, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, MaximumInterval: time.Second}})
	var out int
	err := workflow.ExecuteActivity(ctx, "ClusterProbeDouble", n).Get(ctx, &out)
	return out, err
}

// TestCluster runs the Temporal server as a cluster (TEMPORAL_SERVER=cluster),
// as `make up` does, whatever server the rest of the tests use: six hosts
// behind HAProxy run workflows; with a history host SIGKILLed (its shards
// move to the other) and then each frontend SIGKILLed in turn (clients go
// through the other), every workflow whose start was accepted still
// completes, starts succeed again within seconds, and each host comes back.
// It logs the figures of docs/operations.md: the time until every host is
// ready, their memory together, and how long starts fail after each kill.
func TestCluster(t *testing.T) {
	s, log, ctx := serverStack(t, &Stack{Server: "cluster"})
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		for _, h := range ClusterHosts {
			if b, err := os.ReadFile(filepath.Join(s.State, "temporal-"+h+".log")); err == nil {
				t.Logf("temporal-%s.log:\n%s", h, Tail(string(b), 2000))
			}
		}
	})
	if err := s.Up(ctx, "postgres"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if err := s.Up(ctx, "temporal"); err != nil {
		t.Fatalf("up the cluster: %v", err)
	}
	firstUp := time.Since(t0)

	c, err := s.Dial(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	queue := "cluster-test-" + Suffix()
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(clusterProbeWorkflow, workflow.RegisterOptions{Name: "ClusterProbe"})
	w.RegisterActivityWithOptions(func(_ context.Context, n int) (int, error) { return 2 * n, nil },
		activity.RegisterOptions{Name: "ClusterProbeDouble"})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	p := &probe{c: c, queue: queue}
	// Work runs before any fault, on every shard (ids spread over the 8).
	for i := range 16 {
		if !p.start(ctx, i) {
			t.Fatalf("start %d on the healthy cluster: %v", i, p.lastErr)
		}
	}
	p.awaitAll(ctx, t)

	// Every host up again after all six are SIGKILLed: their start alone,
	// the databases already made.
	if err := s.KillTemporal(ctx); err != nil {
		t.Fatal(err)
	}
	t0 = time.Now()
	if err := s.Up(ctx, "temporal"); err != nil {
		t.Fatalf("up after killing every host: %v", err)
	}
	restart := time.Since(t0)
	var rss int64
	for _, h := range ClusterHosts {
		pid, err := s.TemporalHostPid(h)
		if err != nil {
			t.Fatal(err)
		}
		r, err := RSS(pid)
		if err != nil {
			t.Fatalf("host %s (pid %d) is not running: %v", h, pid, err)
		}
		rss += r
	}

	pctx, stopProbe := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { p.loop(pctx) })
	windows := map[string]time.Duration{}
	for _, host := range []string{"history-1", "frontend-1", "frontend-2"} {
		time.Sleep(2 * time.Second) // starts succeed before the fault
		killed := time.Now()
		if err := s.KillTemporalHost(ctx, host); err != nil {
			t.Fatal(err)
		}
		// The kill is real: the host's process is gone.
		if _, err := s.TemporalHostPid(host); err == nil {
			t.Fatalf("%s still has a pid file after SIGKILL", host)
		}
		if !p.succeedsAfter(ctx, killed, 60*time.Second) {
			t.Fatalf("no start succeeded within 60 s of SIGKILL of %s (last error: %v)", host, p.lastErr)
		}
		time.Sleep(10 * time.Second) // past the membership's failure detection
		windows[host] = p.failureWindow(killed)
		if err := s.StartTemporalHost(ctx, host); err != nil {
			t.Fatalf("start %s again: %v", host, err)
		}
		if _, err := s.TemporalHostPid(host); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(2 * time.Second)
	stopProbe()
	wg.Wait()

	// Nothing accepted was lost: every workflow whose start was answered
	// completes, with its activity's answer.
	p.awaitAll(ctx, t)
	if p.accepted() < 50 {
		t.Errorf("only %d starts accepted during the faults", p.accepted())
	}
	t.Logf("cluster: first up (empty databases, schema) %.1f s; all six hosts up again after SIGKILL %.1f s; RSS of the six %.0f MiB",
		firstUp.Seconds(), restart.Seconds(), float64(rss)/(1<<20))
	t.Logf("cluster: %d starts accepted, %d failed (1 s timeout each); starts failing after SIGKILL of history-1 for %s, frontend-1 %s, frontend-2 %s",
		p.accepted(), p.failed(), windows["history-1"].Round(100*time.Millisecond),
		windows["frontend-1"].Round(100*time.Millisecond), windows["frontend-2"].Round(100*time.Millisecond))
}

// probe starts workflows one after another and records which were
// accepted and when a start failed.
type probe struct {
	c     client.Client
	queue string

	mu      sync.Mutex
	ids     map[string]int // accepted: workflow id → its input
	fails   []time.Time
	oks     []time.Time
	lastErr error
}

// start starts one workflow with a second to answer, and records the answer.
func (p *probe) start(ctx context.Context, i int) bool {
	sctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	id := fmt.Sprintf("%s/%d", p.queue, i)
	_, err := p.c.ExecuteWorkflow(sctx, client.StartWorkflowOptions{ID: id, TaskQueue: p.queue}, "ClusterProbe", i)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if err != nil {
		p.fails, p.lastErr = append(p.fails, now), err
		return false
	}
	if p.ids == nil {
		p.ids = map[string]int{}
	}
	p.ids[id] = i
	p.oks = append(p.oks, now)
	return true
}

// loop starts a workflow every 50 ms until ctx ends.
func (p *probe) loop(ctx context.Context) {
	for i := 1000; ctx.Err() == nil; i++ {
		p.start(ctx, i)
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// succeedsAfter waits until a start after since succeeded.
func (p *probe) succeedsAfter(ctx context.Context, since time.Time, within time.Duration) bool {
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		p.mu.Lock()
		ok := len(p.oks) > 0 && p.oks[len(p.oks)-1].After(since)
		p.mu.Unlock()
		if ok {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// failureWindow is how long after since starts kept failing: to the last
// failure after it, 0 when none failed.
func (p *probe) failureWindow(since time.Time) time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	var last time.Time
	for _, f := range p.fails {
		if f.After(since) {
			last = f
		}
	}
	if last.IsZero() {
		return 0
	}
	return last.Sub(since)
}

func (p *probe) accepted() int { p.mu.Lock(); defer p.mu.Unlock(); return len(p.ids) }
func (p *probe) failed() int   { p.mu.Lock(); defer p.mu.Unlock(); return len(p.fails) }

// awaitAll checks that every accepted workflow completes with its answer.
func (p *probe) awaitAll(ctx context.Context, t *testing.T) {
	t.Helper()
	p.mu.Lock()
	ids := make(map[string]int, len(p.ids))
	for id, n := range p.ids {
		ids[id] = n
	}
	p.mu.Unlock()
	actx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	var bad []string
	for id, n := range ids {
		var out int
		err := p.c.GetWorkflow(actx, id, "").Get(actx, &out)
		if err != nil || out != 2*n {
			bad = append(bad, fmt.Sprintf("%s: %d, %v", id, out, err))
		}
	}
	if len(bad) > 0 {
		t.Fatalf("%d of %d accepted workflows did not complete right: %s", len(bad), len(ids), strings.Join(bad[:min(len(bad), 5)], "; "))
	}
}
