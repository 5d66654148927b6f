// Command scale runs several of every tier — three workers, two webhooks
// and two portals, the HTTP tiers behind HAProxy checking their /readyz —
// on a private stack (the Temporal server TEMPORAL_SERVER names), and
// while a load of onboardings is added through the portals' API and
// confirmed through the webhooks, rolls every tier one instance at a time:
// SIGTERM, start the new one, wait until it is ready, next. It prints the
// HTTP requests sent and failed, the onboardings lost or duplicated, the
// emails duplicated and the p99 latency before and during the roll, and
// exits non-zero when any of them misses its target (0 failed, 0 lost, 0
// duplicated) or an instance did not drain cleanly.
//
// It starts its own stack (scripts/stack.sh with STACK_STATE=.local/scale
// and free ports) and stops it at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

func main() { daemon.Main("scale", run) }

// options are the run's flags.
type options struct {
	state                      string
	workers, webhooks, portals int
	rate                       float64
	before, after              time.Duration
	drainDelay                 time.Duration
	checks                     checks
	finishTimeout              time.Duration
	keep                       bool
}

func parseFlags(args []string, out io.Writer) (options, error) {
	fs := flag.NewFlagSet("scale", flag.ContinueOnError)
	fs.SetOutput(out)
	var o options
	fs.StringVar(&o.state, "state", ".local/scale", "STACK_STATE of the run's own stack (wiped first)")
	fs.IntVar(&o.workers, "workers", 3, "workers")
	fs.IntVar(&o.webhooks, "webhooks", 2, "webhooks behind the balancer")
	fs.IntVar(&o.portals, "portals", 2, "portals behind the balancer")
	fs.Float64Var(&o.rate, "rate", 3, "onboardings added per second, each then confirmed")
	fs.DurationVar(&o.before, "before", 20*time.Second, "load before the roll (the latency to compare with)")
	fs.DurationVar(&o.after, "after", 5*time.Second, "load after the roll")
	fs.DurationVar(&o.drainDelay, "drain-delay", 3*time.Second, "DRAIN_DELAY of the webhooks and portals: above the balancer's -check-interval × -fall")
	fs.DurationVar(&o.checks.inter, "check-interval", time.Second, "the balancer's health-check interval")
	fs.IntVar(&o.checks.fall, "fall", 2, "failed checks in a row that take a server out of the balancer")
	fs.IntVar(&o.checks.rise, "rise", 2, "passed checks in a row that put a server in")
	fs.DurationVar(&o.finishTimeout, "finish-timeout", 3*time.Minute, "how long after the load every onboarding has to finish before it counts as lost")
	fs.BoolVar(&o.keep, "keep", false, "leave the stack running at the end (to look around)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	switch {
	case o.workers < 1 || o.webhooks < 1 || o.portals < 1 || o.rate <= 0 || o.before <= 0:
		return o, errors.New("want -workers, -webhooks, -portals ≥ 1, -rate > 0 and -before > 0")
	case o.checks.inter <= 0 || o.checks.fall < 1 || o.checks.rise < 1:
		return o, errors.New("want -check-interval > 0, -fall ≥ 1 and -rise ≥ 1")
	case o.drainDelay <= o.checks.inter*time.Duration(o.checks.fall):
		// Otherwise a server stops taking connections while the balancer
		// still sends to it, and those requests fail.
		return o, fmt.Errorf("-drain-delay %s must exceed -check-interval × -fall (%s): the balancer must stop sending before the server stops accepting",
			o.drainDelay, o.checks.inter*time.Duration(o.checks.fall))
	}
	return o, nil
}

// scale is one run.
type scale struct {
	o      options
	root   string
	out    io.Writer
	server string
	stack  *stack.Stack
	drv    *stack.Driver
	st     *store.Store
	lb     *balancer
	tiers  []*tier
	load   *load
	steps  []step
	took   time.Duration // of the roll
}

const partner = "scale"

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
	s := &scale{o: o, root: root, out: stdout, server: stack.Server(getenv)}
	fmt.Fprintf(stdout, "scale: %d workers, %d webhooks and %d portals on the Temporal %s server; starting a private stack in %s …\n",
		o.workers, o.webhooks, o.portals, s.server, o.state)
	t0 := time.Now()
	defer s.down()
	if err := s.up(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "scale: every instance ready behind the balancer (%s); load of %.1f onboardings/s for %s before the roll …\n",
		time.Since(t0).Round(time.Second), o.rate, o.before)

	mctx, stopMail := context.WithCancel(ctx)
	defer stopMail()
	go s.load.mail.Watch(mctx, 300*time.Millisecond)
	stop := make(chan struct{})
	var adding sync.WaitGroup
	adding.Go(func() { s.load.run(ctx, o.rate, stop) })
	sleep(ctx, o.before)

	s.load.phase.Store(during)
	rolled := time.Now()
	for _, t := range s.tiers {
		fmt.Fprintf(stdout, "scale: rolling the %ss …\n", t.name)
		t.roll(ctx, func(st step) {
			s.steps = append(s.steps, st)
			fmt.Fprintln(stdout, "  "+st.String())
		})
	}
	s.took = time.Since(rolled)
	s.load.phase.Store(after)
	sleep(ctx, o.after)
	close(stop)
	adding.Wait()
	fmt.Fprintln(stdout, "scale: load over; waiting for every onboarding to be confirmed and finish …")
	s.load.wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	err = s.check(ctx)
	fmt.Fprintf(stdout, "scale: took %s\n", time.Since(t0).Round(time.Second))
	return err
}

// up starts the stack, the balancer and every instance.
func (s *scale) up(ctx context.Context) error {
	var err error
	if s.stack, err = stack.Open(ctx, s.root, s.o.state); err != nil {
		return err
	}
	logDir, err := s.stack.Dir("logs")
	if err != nil {
		return err
	}
	apps, err := s.stack.BuildApps(ctx, workflows.TaskQueue)
	if err != nil {
		return err
	}
	bin, err := s.stack.Dir("bin")
	if err != nil {
		return err
	}
	portalBin, err := stack.Build(ctx, s.root, bin, "portal")
	if err != nil {
		return err
	}
	sdkLog, err := os.Create(filepath.Join(logDir, "scale-sdk.log"))
	if err != nil {
		return err
	}
	// The driver opens (and migrates) the database before any instance.
	if s.drv, err = stack.OpenDriver(ctx, apps.Getenv("DB_MAX_CONNS=10"), s.stack.MailpitURL(), sdkLog); err != nil {
		return err
	}
	s.st = s.drv.Store
	key, err := s.partnerKey(ctx)
	if err != nil {
		return err
	}

	hooks, portals := backend{name: "webhook"}, backend{name: "portal"}
	for _, b := range []*backend{&hooks, &portals} {
		if b.front, err = stack.FreeAddr(); err != nil {
			return err
		}
	}
	for range s.o.webhooks + 1 {
		a, err := stack.FreeAddr()
		if err != nil {
			return err
		}
		hooks.slots = append(hooks.slots, a)
	}
	for range s.o.portals + 1 {
		a, err := stack.FreeAddr()
		if err != nil {
			return err
		}
		portals.slots = append(portals.slots, a)
	}
	if s.lb, err = startBalancer(ctx, s.stack.State, s.o.checks, []backend{hooks, portals}, s.out); err != nil {
		return err
	}
	// Every instance: the links in the emails point at the balancer, which
	// adds X-Forwarded-For; a few Postgres connections each.
	env := func(extra ...string) []string {
		return append(append(append([]string{}, apps.Env...), "PUBLIC_BASE_URL=http://"+hooks.front, "DB_MAX_CONNS=8",
			"TRUSTED_PROXIES=127.0.0.1/32"), extra...)
	}
	drain := "DRAIN_DELAY=" + s.o.drainDelay.String()
	// The grace: the drain delay, the requests in flight (daemon.ShutdownTimeout), and the
	// worker's WORKER_STOP_TIMEOUT (20 s); as terminationGracePeriodSeconds would be.
	grace := s.o.drainDelay + daemon.ShutdownTimeout + 5*time.Second
	s.tiers = []*tier{
		{name: "worker", bin: apps.Worker, grace: 25 * time.Second, logDir: logDir,
			env: func(addr string) []string { return env("WORKER_ADDR=" + addr) }},
		{name: "webhook", bin: apps.Webhook, lb: s.lb, slots: hooks.slots, drain: s.o.drainDelay, grace: grace, logDir: logDir,
			env: func(addr string) []string {
				return env("WEBHOOK_ADDR="+addr, drain, "WEBHOOK_RATE=1000000", "WEBHOOK_BURST=1000000")
			}},
		{name: "portal", bin: portalBin[0], lb: s.lb, slots: portals.slots, drain: s.o.drainDelay, grace: grace, logDir: logDir,
			env: func(addr string) []string {
				return env("PORTAL_ADDR="+addr, drain, "PORTAL_PUBLIC_URL=http://"+portals.front, "OIDC_ISSUER=http://oidc.invalid")
			}},
	}
	for _, t := range s.tiers {
		n := map[string]int{"worker": s.o.workers, "webhook": s.o.webhooks, "portal": s.o.portals}[t.name]
		if err := t.up(ctx, n); err != nil {
			return err
		}
	}
	// The spare slots are out of the balancer before the load begins.
	for _, t := range s.tiers[1:] {
		if err := s.lb.wait(ctx, t.name, len(t.slots)-1, "DOWN", 30*time.Second); err != nil {
			return err
		}
	}
	s.load = &load{hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}},
		portal: "http://" + portals.front, key: key, mail: stack.NewMailpit(s.stack.MailpitURL()), sfx: stack.Suffix(),
		waitFor: s.o.finishTimeout}
	return nil
}

// partnerKey registers the partner with an owner and returns an API key
// for its machine, made through the action the portal's API keys page
// takes.
func (s *scale) partnerKey(ctx context.Context) (string, error) {
	if _, err := s.st.AddPartner(ctx, partner, "Scale partner", nil); err != nil {
		return "", err
	}
	owner, err := s.st.AddStaff(ctx, store.NewStaff{ID: uuid.NewString(), PartnerID: partner, Email: "owner@scale.example",
		Role: domain.StaffOwner, PersonalData: true, CreatedBy: "scale"}, nil)
	if err != nil {
		return "", err
	}
	k, err := s.drv.Access.CreateAPIKey(ctx, access.StaffActor(owner, "127.0.0.1"), "scale test", domain.StaffEditor)
	if err != nil {
		return "", err
	}
	return k.Secret, nil
}

// down stops everything up started.
func (s *scale) down() {
	for _, t := range s.tiers {
		t.stop()
	}
	s.lb.stop()
	if s.drv != nil {
		s.drv.Close()
	}
	if s.stack != nil && !s.o.keep {
		_ = s.stack.Down(context.Background())
	}
}

// String is a step of the roll as the report shows it.
func (st step) String() string {
	line := st.old + ": SIGTERM"
	if st.downAfter > 0 {
		line += ", out of the balancer after " + st.downAfter.Round(10*time.Millisecond).String()
	}
	line += ", exit " + strconv.Itoa(st.exit) + " after " + st.exitAfter.Round(10*time.Millisecond).String()
	if st.new != "" {
		line += "; " + st.new + " ready after " + st.readyAfter.Round(10*time.Millisecond).String()
	}
	if st.err != nil {
		line += "; FAILED: " + st.err.Error()
	}
	return line
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
