package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/cloudpartners/onboarding/bench/ceiling"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/workflows"
)

// ceilingPhase drives n ceiling workflows on k workers inside this process
// and returns the wall time.
func (b *bench) ceilingPhase(ctx context.Context, res *results, phase string, n, k int) (time.Duration, error) {
	mem := &memReady{}
	queue := "bench-ceiling-" + b.sfx
	for i := range k {
		c, err := b.ceilingClient(ctx, i)
		if err != nil {
			return 0, err
		}
		// The same options as worker/main.go gives the real worker: the SDK's defaults.
		w := worker.New(c, queue, worker.Options{})
		ceiling.Register(w, &ceiling.Activities{Sent: mem.Mark})
		if err := w.Start(); err != nil {
			return 0, err
		}
		defer w.Stop()
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := newPoller(pctx, mem.Source, b.o.poll)
	var sample string
	elapsed, err := drive(ctx, n, b.o.concurrency, func(ctx context.Context, i int) error {
		id, err := b.launch(ctx, queue, ceiling.WorkflowName, "bench", b.customer(phase, i, time.Hour))
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
	res.ceilingCost, err = stack.History(ctx, b.tc, sample, "")
	return elapsed, err
}

// onboardingPhase drives n real onboardings through the worker and the
// webhook's POST /confirm and returns the wall time.
func (b *bench) onboardingPhase(ctx context.Context, res *results, phase string, n int) (time.Duration, error) {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := newPoller(pctx, dbReady(b.st.DB()), b.o.poll)
	elapsed, err := drive(ctx, n, b.o.concurrency, func(ctx context.Context, i int) error {
		id, err := b.launch(ctx, workflows.TaskQueue, workflows.WorkflowName, "bench", b.customer(phase, i, time.Hour))
		if err != nil {
			return err
		}
		token, err := b.token(ctx, poller, id)
		if err != nil {
			return err
		}
		if err := b.ping(ctx, i, &res.pingReal); err != nil {
			return err
		}
		t0 := time.Now()
		took, err := b.confirm(ctx, id, token)
		if err != nil {
			return err
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

// token waits until the onboarding has sent its first email and returns
// the token of its link. The token a browser posts is the one in the email:
// the same signer over the subaccount id and the deadline on its row.
func (b *bench) token(ctx context.Context, poller *readyPoller, id string) (string, error) {
	r, err := poller.Wait(ctx, id)
	if err != nil {
		return "", err
	}
	return b.signer.Token(r.SubaccountID, r.Deadline)
}

// confirm posts the token to the webhook as the customer's browser does and
// returns the time to its answer, which must be 200.
func (b *bench) confirm(ctx context.Context, id, token string) (time.Duration, error) {
	code, took, err := stack.PostConfirm(ctx, b.hc, b.webhook, token)
	if err != nil {
		return 0, fmt.Errorf("confirm %s: %w", id, err)
	}
	if code != http.StatusOK {
		return 0, fmt.Errorf("POST /confirm for %s answered %d", id, code)
	}
	return took, nil
}

// metricFlush is how long to wait for the server's counters to reach its
// metrics endpoint.
const metricFlush = 3 * time.Second

// outcomeCost is the history cost of one outcome, averaged per onboarding.
type outcomeCost struct {
	outcome      string
	events       float64
	actions      float64 // counted from the histories
	metric       float64 // the server's action counter, delta around the runs
	metricByType map[string]float64
	retries      float64
}

// costPhase runs -cost-n onboardings of each outcome and reads their
// histories and the server's action counter.
func (b *bench) costPhase(ctx context.Context, res *results) error {
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := newPoller(pctx, dbReady(b.st.DB()), b.o.poll)
	for _, outcome := range []string{workflows.OutcomeActive, workflows.OutcomeExpired, workflows.OutcomeCancelled} {
		// The server flushes its counters to the Prometheus endpoint about
		// once a second: let what came before land first.
		time.Sleep(metricFlush)
		before, err := stack.Actions(ctx, b.stack.MetricsURL())
		if err != nil {
			return err
		}
		ids := make([]string, b.o.costN)
		_, err = drive(ctx, b.o.costN, b.o.costN, func(ctx context.Context, i int) error {
			within := time.Hour
			if outcome == workflows.OutcomeExpired {
				within = b.o.expireWithin
			}
			id, err := b.launch(ctx, workflows.TaskQueue, workflows.WorkflowName, "bench-cost", b.customer("cost-"+strings.ToLower(outcome), i, within))
			if err != nil {
				return err
			}
			ids[i] = id
			switch outcome {
			case workflows.OutcomeActive:
				token, err := b.token(ctx, poller, id)
				if err != nil {
					return err
				}
				if _, err := b.confirm(ctx, id, token); err != nil {
					return err
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
		after, err := stack.Actions(ctx, b.stack.MetricsURL())
		if err != nil {
			return err
		}
		oc := outcomeCost{outcome: outcome, metricByType: stack.Delta(before, after)}
		for _, id := range ids {
			c, err := stack.History(ctx, b.tc, id, "")
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
		oc.metric = stack.Sum(oc.metricByType) / n
		for k := range oc.metricByType {
			oc.metricByType[k] /= n
		}
		res.costs = append(res.costs, oc)
	}
	return nil
}

// memoryPhase reads a fresh worker's memory with more and more onboardings
// waiting for confirmation.
func (b *bench) memoryPhase(ctx context.Context, res *results) error {
	// A fresh worker process, so that what the throughput phases left in
	// its heap does not count.
	b.worker.Stop()
	if err := b.startWorker(ctx); err != nil {
		return err
	}
	time.Sleep(3 * time.Second)
	rss, err := stack.RSS(b.worker.Pid())
	if err != nil {
		return err
	}
	res.rss = append(res.rss, memPoint{0, rss})
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	poller := newPoller(pctx, dbReady(b.st.DB()), 200*time.Millisecond)
	have := 0
	for _, target := range b.o.memory {
		from := have
		if _, err := drive(ctx, target-from, b.o.concurrency, func(ctx context.Context, i int) error {
			id, err := b.launch(ctx, workflows.TaskQueue, workflows.WorkflowName, "bench-mem", b.customer("mem", from+i, 24*time.Hour))
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
		rss, err := stack.RSS(b.worker.Pid())
		if err != nil {
			return err
		}
		res.rss = append(res.rss, memPoint{target, rss})
	}
	return nil
}

// memPoint is the worker's memory with some onboardings waiting.
type memPoint struct {
	waiting int
	rss     int64
}
