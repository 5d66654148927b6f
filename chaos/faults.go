package main

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// faultCounts are the faults injected so far, and a line for each.
type faultCounts struct {
	mu                              sync.Mutex
	kills, pgRestarts, tempRestarts int
	hookKills                       int // the webhook, the customer's edge, SIGKILLed
	historyKills, frontendKills     int // a cluster's hosts SIGKILLed
	log                             []string
}

// note adds a line to the fault log.
func (f *faultCounts) note(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, fmt.Sprintf(format, args...))
}

// injectFaults kills the worker at random instants until the batch is
// driven and the minimum of every fault has happened, the webhook with
// every third kill; between kills it
// stops Postgres hard (with the full server, Temporal's databases too) and
// takes the Temporal server down, and on a cluster SIGKILLs a history host
// and a frontend.
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
		cluster := c.server == "cluster"
		enough = enough && (!cluster || f.historyKills >= c.o.historyKills && f.frontendKills >= c.o.frontendKills)
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
		kills := f.kills
		f.mu.Unlock()
		f.note("%s worker SIGKILL #%d (back after %s)", time.Now().Format("15:04:05.000"), kills, pause.Round(time.Millisecond))

		if kills%3 == 1 {
			// The edge too: a confirm in flight is lost with it, or its
			// answer is; the customer's retry must do it once.
			c.hook.Crash(pause)
			f.mu.Lock()
			f.hookKills++
			f.mu.Unlock()
			f.note("%s webhook SIGKILL (back after %s)", time.Now().Format("15:04:05.000"), pause.Round(time.Millisecond))
		}
		f.mu.Lock()
		historyKills, frontendKills := f.historyKills, f.frontendKills
		f.mu.Unlock()
		switch {
		case cluster && kills%4 == 1 && historyKills < c.o.historyKills:
			c.killHost(ctx, "history")
		case cluster && kills%4 == 3 && frontendKills < c.o.frontendKills:
			c.killHost(ctx, "frontend")
		case kills%4 == 2 && f.pgRestarts < c.o.pgRestarts:
			c.restartPostgres(ctx)
		case kills%4 == 0 && f.tempRestarts < c.o.temporalRestarts:
			c.restartTemporal(ctx)
		case kills%4 == 0 && f.pgRestarts < c.o.pgRestarts:
			c.restartPostgres(ctx)
		}
	}
}

// killHost SIGKILLs one host of the cluster of that service, chosen at
// random ("history": its shards move to the other once the membership
// notices; "frontend": clients reconnect through HAProxy to the other),
// and starts it again after -host-down.
func (c *chaos) killHost(ctx context.Context, service string) {
	host := fmt.Sprintf("%s-%d", service, 1+c.rnd.IntN(2))
	if err := c.stack.KillTemporalHost(ctx, host); err != nil {
		c.faults.note("temporal %s SIGKILL failed: %v", host, err)
		return
	}
	at := time.Now()
	time.Sleep(c.o.hostDown)
	if err := c.stack.StartTemporalHost(ctx, host); err != nil {
		c.faults.note("temporal %s restart failed: %v", host, err)
		return
	}
	c.faults.mu.Lock()
	if service == "history" {
		c.faults.historyKills++
	} else {
		c.faults.frontendKills++
	}
	c.faults.mu.Unlock()
	c.faults.note("%s Temporal cluster host %s SIGKILLed, back after %s", at.Format("15:04:05.000"), host,
		time.Since(at).Round(100*time.Millisecond))
}

// restartPostgres stops Postgres hard and starts it again after one to three seconds.
func (c *chaos) restartPostgres(ctx context.Context) {
	down := time.Second + time.Duration(c.rnd.Int64N(int64(2*time.Second)))
	if err := c.bouncePostgres(ctx, down); err != nil {
		c.faults.note("%v", err)
		return
	}
	c.faults.mu.Lock()
	c.faults.pgRestarts++
	c.faults.mu.Unlock()
	c.faults.note("%s Postgres stopped -m immediate, restarted after %s", time.Now().Format("15:04:05.000"), down.Round(time.Millisecond))
}

// bouncePostgres stops Postgres hard and starts it again after down.
func (c *chaos) bouncePostgres(ctx context.Context, down time.Duration) error {
	if err := c.stack.KillPostgres(ctx); err != nil {
		return fmt.Errorf("postgres hard stop failed: %w", err)
	}
	time.Sleep(down)
	// up starts Postgres and whatever else is missing, and waits until all
	// of it answers: on a cluster a host that Postgres's crash took down, or
	// a frontend still reconnecting, can make that wait fail once; up is
	// idempotent, so it is tried again, as an operator (or Kubernetes) would.
	var err error
	for attempt := range 3 {
		if err = c.stack.Up(ctx); err == nil {
			return nil
		}
		c.faults.note("%s after the Postgres hard stop, up failed (attempt %d): %v", time.Now().Format("15:04:05.000"), attempt+1, err)
		time.Sleep(2 * time.Second)
	}
	return fmt.Errorf("postgres restart failed: %w", err)
}

// restartTemporal takes the Temporal server down and starts it again a
// second later (bounceTemporal).
func (c *chaos) restartTemporal(ctx context.Context) {
	how, err := c.bounceTemporal(ctx)
	if err != nil {
		c.faults.note("%v", err)
		return
	}
	c.faults.mu.Lock()
	c.faults.tempRestarts++
	c.faults.mu.Unlock()
	c.faults.note("%s Temporal %s server %s and restarted", time.Now().Format("15:04:05.000"), c.server, how)
}

// bounceTemporal takes the Temporal server down and starts it again a
// second later: the dev server is stopped (its SQLite file is its state);
// the full server, or every host of a cluster, is SIGKILLed, as a crash
// would, since its state is in Postgres. how says which.
func (c *chaos) bounceTemporal(ctx context.Context) (how string, err error) {
	how = "stopped"
	stop := c.stack.StopTemporal
	switch c.server {
	case "full":
		how, stop = "SIGKILLed", c.stack.KillTemporal
	case "cluster":
		how, stop = "SIGKILLed (all six hosts)", c.stack.KillTemporal
	}
	if err := stop(ctx); err != nil {
		return how, fmt.Errorf("temporal %s failed: %w", how, err)
	}
	time.Sleep(time.Second)
	// The dev server picks internal ports of its own; on a busy machine one
	// may be taken meanwhile, so a failed start is tried again.
	for range 3 {
		if err = c.stack.Up(ctx); err == nil {
			return how, nil
		}
		_ = c.stack.StopTemporal(ctx)
	}
	return how, fmt.Errorf("temporal restart failed: %w", err)
}

// faultSummary counts the faults in one line.
func (c *chaos) faultSummary() string {
	c.faults.mu.Lock()
	defer c.faults.mu.Unlock()
	s := fmt.Sprintf("worker SIGKILLs %d, worker starts %d, webhook SIGKILLs %d, Postgres hard stops %d, Temporal restarts %d",
		c.faults.kills, c.worker.Starts(), c.faults.hookKills, c.faults.pgRestarts, c.faults.tempRestarts)
	if c.server == "cluster" {
		s += fmt.Sprintf(", history-host SIGKILLs %d, frontend SIGKILLs %d", c.faults.historyKills, c.faults.frontendKills)
	}
	return s
}
