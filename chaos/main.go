// Command chaos first makes every kind of request with no worker running
// and restarts Temporal and Postgres while they wait (the outage), then
// runs a mixed batch of onboardings against a private stack
// while it injects faults — the worker SIGKILLed at random instants and
// restarted, Postgres stopped hard and restarted, the Temporal server
// restarted (the full server, TEMPORAL_SERVER=full, SIGKILLed; its Postgres
// is the one stopped hard); on a cluster (TEMPORAL_SERVER=cluster) also a
// history host SIGKILLed, its shards moving to the other, and a frontend
// SIGKILLed, clients going through the other, each brought back — then waits for every onboarding to finish and checks from
// Postgres, mailpit and Temporal that nothing was lost, duplicated or left
// half-done. It prints the counts and exits non-zero on any violation.
//
// It starts its own stack (scripts/stack.sh with STACK_STATE=.local/chaos
// and free ports), because it kills Postgres and Temporal, and stops it at
// the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"time"

	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/stack"
)

func main() { daemon.Main("chaos", run) }

// options are the chaos run's flags.
type options struct {
	n                int
	state            string
	rate             float64
	confirmWithin    time.Duration
	expireWithin     time.Duration
	kills            int
	pgRestarts       int
	temporalRestarts int
	historyKills     int // a cluster's
	frontendKills    int // a cluster's
	hostDown         time.Duration
	killGapMin       time.Duration
	killGapMax       time.Duration
	finishTimeout    time.Duration
	suspendRetention time.Duration
	keep             bool
	seed             uint64
}

// parseFlags reads and checks the flags.
func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(out)
	var o options
	fs.IntVar(&o.n, "n", 200, "onboardings; of every 20: 6 confirmed through the webhook, 2 confirmed then given a second cloud (asked for twice), 1 confirmed then suspended and resumed, 1 confirmed then suspended until deleted, 2 declined, 2 cancelled, 2 left to expire, 2 resent then confirmed, 2 resent then left to expire")
	fs.StringVar(&o.state, "state", ".local/chaos", "STACK_STATE of the run's own stack (wiped first)")
	fs.Float64Var(&o.rate, "rate", 8, "onboardings launched per second")
	fs.DurationVar(&o.confirmWithin, "confirm-within", 15*time.Minute, "confirmation window of the onboardings that are confirmed or cancelled")
	fs.DurationVar(&o.expireWithin, "expire-within", 40*time.Second, "confirmation window of the onboardings left to expire")
	fs.IntVar(&o.kills, "kills", 10, "at least this many worker SIGKILLs (more while the batch is still being driven)")
	fs.IntVar(&o.pgRestarts, "pg-restarts", 2, "Postgres hard stops (pg_ctl stop -m immediate) and restarts")
	fs.IntVar(&o.temporalRestarts, "temporal-restarts", 1, "Temporal server restarts (the full server, every host of a cluster: SIGKILLs)")
	fs.IntVar(&o.historyKills, "history-kills", 1, "on a cluster (TEMPORAL_SERVER=cluster): SIGKILLs of one history host, brought back after -host-down")
	fs.IntVar(&o.frontendKills, "frontend-kills", 1, "on a cluster: SIGKILLs of one frontend, brought back after -host-down")
	fs.DurationVar(&o.hostDown, "host-down", 8*time.Second, "how long a SIGKILLed cluster host stays down (past the membership's failure detection, so that its shards move)")
	fs.DurationVar(&o.killGapMin, "kill-gap-min", time.Second, "shortest time between two faults")
	fs.DurationVar(&o.killGapMax, "kill-gap-max", 4*time.Second, "longest time between two faults")
	fs.DurationVar(&o.suspendRetention, "suspend-retention", suspendRetentionDefault, "retention of the suspensions left to run out")
	fs.DurationVar(&o.finishTimeout, "finish-timeout", 5*time.Minute, "how long after the faults every onboarding has to finish before it counts as stuck")
	fs.BoolVar(&o.keep, "keep", false, "leave the stack running at the end (to look around)")
	fs.Uint64Var(&o.seed, "seed", 0, "random seed (0: random)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.n < 1 || o.rate <= 0 || o.killGapMin <= 0 || o.killGapMax < o.killGapMin {
		return o, errors.New("want -n ≥ 1, -rate > 0 and 0 < -kill-gap-min ≤ -kill-gap-max")
	}
	if o.historyKills < 0 || o.frontendKills < 0 || o.hostDown < 0 {
		return o, errors.New("want -history-kills, -frontend-kills and -host-down at least 0")
	}
	if o.seed == 0 {
		o.seed = mrand.Uint64()
	}
	return o, nil
}

// run is the chaos run: flags, the private stack, the batch under faults, the checks.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, _ io.Writer) error {
	o, err := parseFlags(args, stdout)
	if err != nil {
		return err
	}
	root, state, err := stack.StateIn(o.state)
	if err != nil {
		return err
	}
	o.state = state
	c := &chaos{o: o, root: root, out: stdout, rnd: mrand.New(mrand.NewPCG(o.seed, o.seed^0x9e3779b97f4a7c15)),
		sfx: stack.Suffix(), hc: &http.Client{Timeout: 20 * time.Second}, server: stack.Server(getenv)}
	fmt.Fprintf(stdout, "chaos: seed %d; starting a private stack with the Temporal %s server in %s …\n", o.seed, c.server, o.state)
	if err := c.up(ctx); err != nil {
		c.down()
		return err
	}
	defer c.down()

	obs := make([]*trial, o.n)
	for i := range obs {
		obs[i] = &trial{i: i, plan: planOf(i), email: fmt.Sprintf("chaos-%s-%d@chaos.example", c.sfx, i)}
	}
	mctx, stopMail := context.WithCancel(ctx)
	defer stopMail()
	go c.mail.Watch(mctx, 300*time.Millisecond)

	fmt.Fprintln(stdout, "chaos: every kind of request with no worker, then Temporal restarted and Postgres stopped hard …")
	if c.outage, err = c.runOutage(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "chaos: driving %d onboardings while injecting faults …\n", o.n)
	driven := make(chan struct{})
	go func() { c.drive(ctx, obs); close(driven) }()
	c.injectFaults(ctx, driven)
	<-driven
	if err := ctx.Err(); err != nil {
		return err
	}
	// The faults are over: make sure every part is up again.
	if err := c.stack.Up(ctx); err != nil {
		return fmt.Errorf("bring the stack back: %w", err)
	}
	fmt.Fprintf(stdout, "chaos: faults over (%s); waiting for every onboarding to finish …\n", c.faultSummary())
	c.awaitAll(ctx, obs)
	return c.check(ctx, obs)
}
