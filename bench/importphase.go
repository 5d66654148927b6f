package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/workflows"
)

// importResult is what the import phase measured.
type importResult struct {
	rows, small   int           // rows of the large and the small import
	concurrency   int           // the import's --concurrency, and the bare starts'
	bare          time.Duration // n bare StartWorkflow calls
	large, smallT time.Duration // the imports' wall time
	largeRSS      int64         // the starter's peak RSS importing rows
	smallRSS      int64         // … importing small rows
	worker0       int64         // a fresh worker's RSS before the imported onboardings reach it
	workerN       int64         // its RSS with every imported onboarding waiting
	settle        time.Duration // from the worker's start until all waited
}

// importPhase measures `starter import` against the bare StartWorkflow rate
// on the same server in the same run, both on task queues no worker polls
// so that only the starts count: first n bare starts of onboarding
// workflows from this process, then the real starter binary importing a
// CSV file of n customers (and one of n/10, to compare its peak memory).
// Then a fresh worker takes the n imported onboardings to the wait for
// confirmation, and its resident memory is read with all n waiting.
func (b *bench) importPhase(ctx context.Context, stdout io.Writer) (*importResult, error) {
	r := &importResult{rows: b.o.importRows, small: max(1, b.o.importRows/10), concurrency: b.o.importConcurrency}
	const partner = "bench-import"
	if _, err := b.st.AddPartner(ctx, partner, "Benchmark partner (import)", nil); err != nil {
		return nil, err
	}
	bin, err := b.stack.Dir("bin")
	if err != nil {
		return nil, err
	}
	bins, err := stack.Build(ctx, b.root, bin, "starter")
	if err != nil {
		return nil, err
	}
	queue := "bench-import-" + b.sfx

	fmt.Fprintf(stdout, "bench: import: %d bare StartWorkflow calls, %d at a time …\n", r.rows, r.concurrency)
	bareQueue := "bench-bare-" + b.sfx
	if r.bare, err = drive(ctx, r.rows, r.concurrency, func(ctx context.Context, i int) error {
		c := b.customer("bare", i, 24*time.Hour)
		// The very start every launch makes (workflows.StartOptions), without
		// the launch's checks.
		_, err := b.tc.ExecuteWorkflow(ctx, workflows.StartOptions(bareQueue, partner, c.name),
			workflows.WorkflowName, workflows.Input{PartnerID: partner, CustomerName: c.name, CloudName: c.cloud, Email: c.email})
		return err
	}); err != nil {
		return nil, fmt.Errorf("bare starts: %w", err)
	}

	// starter import: the small file onto a queue nobody ever polls, the
	// large one onto the queue the worker will poll.
	for _, run := range []struct {
		rows  int
		phase string
		queue string
		took  *time.Duration
		rss   *int64
	}{{r.small, "import-small", "bench-import-idle-" + b.sfx, &r.smallT, &r.smallRSS}, {r.rows, "import", queue, &r.large, &r.largeRSS}} {
		fmt.Fprintf(stdout, "bench: import: starter import of %d customers …\n", run.rows)
		file := filepath.Join(b.logDir, run.phase+".csv")
		if err := b.writeCSV(file, run.phase, run.rows); err != nil {
			return nil, err
		}
		if *run.took, *run.rss, err = b.starterImport(ctx, bins[0], run.queue, partner, file, r.concurrency); err != nil {
			return nil, err
		}
	}

	// A fresh worker on the imported onboardings' queue.
	fmt.Fprintf(stdout, "bench: import: a fresh worker takes the %d imported onboardings to the wait …\n", r.rows)
	addr, err := stack.FreeAddr()
	if err != nil {
		return nil, err
	}
	w, err := stack.StartProc(b.workerB, append(b.apps.WorkerEnv(b.o.workerEnv...), "TASK_QUEUE="+queue, "WORKER_ADDR="+addr),
		filepath.Join(b.logDir, "worker-import.log"))
	if err != nil {
		return nil, err
	}
	defer w.Stop()
	t0 := time.Now()
	if err := stack.WaitHTTP(ctx, "http://"+addr+"/healthz", 30*time.Second); err != nil {
		return nil, err
	}
	if r.worker0, err = stack.RSS(w.Pid()); err != nil {
		return nil, err
	}
	for {
		var n int
		if err := b.st.DB().QueryRowContext(ctx,
			`SELECT count(*) FROM subaccounts s WHERE s.partner_id = $1 AND s.name LIKE $2
			   AND EXISTS (SELECT 1 FROM emails e WHERE e.subaccount_id = s.id)`,
			partner, "Bench import "+b.sfx+" %").Scan(&n); err != nil {
			return nil, err
		}
		if n >= r.rows {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-w.Done():
			return nil, fmt.Errorf("the import's worker exited (see %s)", filepath.Join(b.logDir, "worker-import.log"))
		case <-time.After(time.Second):
		}
	}
	r.settle = time.Since(t0)
	time.Sleep(3 * time.Second) // every onboarding waits on its timer and signal; let the worker settle
	if r.workerN, err = stack.RSS(w.Pid()); err != nil {
		return nil, err
	}
	return r, nil
}

// writeCSV writes the import file of n customers of a phase.
func (b *bench) writeCSV(file, phase string, n int) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	_ = w.Write([]string{"name", "email", "cloud"})
	for i := range n {
		c := b.customer(phase, i, 0)
		_ = w.Write([]string{c.name, c.email, c.cloud})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// starterImport runs `starter import` and returns its wall time and peak
// resident memory; a failed row fails the benchmark.
func (b *bench) starterImport(ctx context.Context, bin, queue, partner, file string, conc int) (time.Duration, int64, error) {
	cmd := exec.CommandContext(ctx, bin, "import", "--partner", partner, "--file", file, "--concurrency", fmt.Sprint(conc), "--json")
	cmd.Env = append(append([]string{}, b.apps.Env...), "TASK_QUEUE="+queue)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("starter import: %w: %s", err, stack.Tail(stderr.String(), 2000))
	}
	took := time.Since(t0)
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0, 0, fmt.Errorf("starter import: no resource usage")
	}
	return took, ru.Maxrss * 1024, nil // Linux reports kB
}

// print writes the import table.
func (r *importResult) print(w io.Writer) {
	rate := func(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }
	bare, imp := rate(r.rows, r.bare), rate(r.rows, r.large)
	fmt.Fprintf(w, "\nImport (`starter import`, --concurrency %d) against bare StartWorkflow, same server, same run:\n", r.concurrency)
	t := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(t, "\tcustomers\ttime\tper second\tstarter peak RSS\t")
	fmt.Fprintf(t, "bare StartWorkflow (this process)\t%d\t%.1f s\t%.0f\t—\t\n", r.rows, r.bare.Seconds(), bare)
	fmt.Fprintf(t, "starter import\t%d\t%.1f s\t%.0f\t%.1f MiB\t\n", r.small, r.smallT.Seconds(), rate(r.small, r.smallT), float64(r.smallRSS)/(1<<20))
	fmt.Fprintf(t, "starter import\t%d\t%.1f s\t%.0f\t%.1f MiB\t\n", r.rows, r.large.Seconds(), imp, float64(r.largeRSS)/(1<<20))
	t.Flush()
	fmt.Fprintf(w, "import / bare: %.0f%% (each row also checks the store for a live customer and Temporal for a running onboarding)\n", 100*imp/bare)
	fmt.Fprintf(w, "Worker resident memory with the %d imported onboardings waiting: %.1f MiB (fresh: %.1f MiB; all %d waiting %.0f s after it started)\n",
		r.rows, float64(r.workerN)/(1<<20), float64(r.worker0)/(1<<20), r.rows, r.settle.Seconds())
}
