package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/stack"
)

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

func (l *latencies) p(q float64) time.Duration { return stack.Percentile(l.ds, q) }

// queueWait sums how long tasks waited in their task queue, from the
// histories of sampled onboardings (read after the timed runs).
type queueWait struct {
	mu  sync.Mutex
	ids []string
	sum stack.Cost
}

func (q *queueWait) sample(id string) {
	q.mu.Lock()
	q.ids = append(q.ids, id)
	q.mu.Unlock()
}

func (q *queueWait) read(ctx context.Context, c client.Client) error {
	for _, id := range q.ids {
		h, err := stack.History(ctx, c, id, "")
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
