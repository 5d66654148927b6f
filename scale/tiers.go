package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
)

// tier is the instances of one binary, started on slots and rolled one at
// a time as a Deployment's rolling update does with maxSurge 0: SIGTERM,
// start the new one, wait until it is ready, next.
type tier struct {
	name    string
	bin     string
	env     func(addr string) []string // the instance's environment, listening on addr
	lb      *balancer                  // nil for the workers, which nobody calls
	slots   []string                   // the HTTP tiers' addresses behind the balancer: one more than the instances
	drain   time.Duration              // DRAIN_DELAY of the HTTP tiers
	grace   time.Duration              // how long after SIGTERM an instance may take to exit
	logDir  string
	live    []*instance
	started int
}

// instance is one running process of a tier.
type instance struct {
	name string // "webhook-3": the tier and the how-manieth start
	proc *stack.Proc
	slot int // its slot behind the balancer; -1 for a worker
	addr string
}

// step is what one step of a roll did.
type step struct {
	old, new   string
	exit       int           // the old instance's exit code
	exitAfter  time.Duration // SIGTERM → exit
	downAfter  time.Duration // SIGTERM → the balancer no longer sends to it (HTTP tiers)
	readyAfter time.Duration // start → ready (and in the balancer)
	err        error
}

// start starts an instance on a free slot and waits until it is ready:
// its /readyz answers 200 and, behind the balancer, the balancer sends to it.
func (t *tier) start(ctx context.Context) (*instance, error) {
	t.started++
	in := &instance{name: fmt.Sprintf("%s-%d", t.name, t.started), slot: -1}
	if t.lb == nil {
		addr, err := stack.FreeAddr()
		if err != nil {
			return nil, err
		}
		in.addr = addr
	} else {
		for i, a := range t.slots {
			if !slices.ContainsFunc(t.live, func(l *instance) bool { return l.slot == i }) {
				in.slot, in.addr = i, a
				break
			}
		}
		if in.slot < 0 {
			return nil, fmt.Errorf("%s: no free slot behind the balancer", in.name)
		}
	}
	var err error
	if in.proc, err = stack.StartProc(t.bin, t.env(in.addr), filepath.Join(t.logDir, in.name+".log")); err != nil {
		return nil, err
	}
	if err := stack.WaitHTTP(ctx, "http://"+in.addr+"/readyz", time.Minute); err != nil {
		in.proc.Kill()
		return nil, fmt.Errorf("%s: %w (log %s)", in.name, err, filepath.Join(t.logDir, in.name+".log"))
	}
	if t.lb != nil {
		if err := t.lb.wait(ctx, t.name, in.slot, "UP", 30*time.Second); err != nil {
			return nil, fmt.Errorf("%s: %w", in.name, err)
		}
	}
	return in, nil
}

// up starts n instances.
func (t *tier) up(ctx context.Context, n int) error {
	for range n {
		in, err := t.start(ctx)
		if err != nil {
			return err
		}
		t.live = append(t.live, in)
	}
	return nil
}

// roll replaces every instance, one at a time, and reports each step.
func (t *tier) roll(ctx context.Context, report func(step)) {
	for i, old := range t.live {
		s := step{old: old.name}
		signalled := time.Now()
		old.proc.Terminate()
		// The balancer must stop sending to it within its DRAIN_DELAY, while
		// it still takes connections.
		down := make(chan time.Duration, 1)
		if t.lb != nil {
			go func() {
				if err := t.lb.wait(ctx, t.name, old.slot, "DOWN", t.drain); err != nil {
					down <- -1
					return
				}
				down <- time.Since(signalled)
			}()
		}
		started := time.Now()
		nu, err := t.start(ctx)
		s.readyAfter = time.Since(started)
		if err != nil {
			s.err = err
		} else {
			s.new = nu.name
		}
		select {
		case <-old.proc.Done():
			s.exit, s.exitAfter = old.proc.ExitCode(), time.Since(signalled)
		case <-time.After(t.grace - time.Since(signalled)):
			old.proc.Kill()
			s.exit, s.exitAfter = old.proc.ExitCode(), time.Since(signalled)
			s.err = fmt.Errorf("%s did not exit within %s of SIGTERM: killed", old.name, t.grace)
		}
		if t.lb != nil {
			if s.downAfter = <-down; s.downAfter < 0 && s.err == nil {
				s.err = fmt.Errorf("the balancer still sent to %s when its DRAIN_DELAY %s ended", old.name, t.drain)
			}
		}
		report(s)
		if nu == nil {
			// Without its replacement the tier runs one short; the run is failed anyway.
			t.live = slices.Delete(t.live, i, i+1)
			return
		}
		t.live[i] = nu
	}
}

// stop stops every instance.
func (t *tier) stop() {
	for _, in := range t.live {
		in.proc.Stop()
	}
}
