// Command webhook is the public HTTP edge of onboarding: the customer's
// confirmation page and the identity system's signed login callback. It
// confirms by signalling the onboarding workflow.
package main

import (
	"context"
	"io"
	"time"

	"golang.org/x/time/rate"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/httpserver"
)

func main() { daemon.Main("webhook", run) }

// maxClients bounds the rate limiter's memory.
const maxClients = 10_000

// run opens the dependencies (store, Temporal client) and the actions,
// serves until ctx is done, then drains: readiness fails first, then the
// requests in flight finish.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	set, vars := loadSettings(getenv)
	if done, err := vars.Help(args, stdout, "webhook", summary); done {
		return err
	}
	if err := vars.Err(); err != nil {
		return err
	}
	logger := set.log.Logger(stderr, "webhook")
	metrics := daemon.NewMetrics()
	d, err := deps.Open(ctx, deps.Options{Service: "webhook", Logger: logger, Tracing: set.tracing, Postgres: set.postgres,
		Temporal: set.temporal, OnStatement: metrics.DBStatements.Inc})
	if err != nil {
		return err
	}
	defer d.Close()
	pg, err := parsePages()
	if err != nil {
		return err
	}
	actions := d.Actions(config.Launch{}, set.links)
	origins, err := httpserver.NewSameOrigin(set.links.PublicURL)
	if err != nil {
		return err
	}
	health := daemon.NewHealth(logger, daemon.Check{Name: "database", Fn: d.Store.Ping},
		daemon.Check{Name: "temporal", Fn: func(ctx context.Context) error { _, err := d.Temporal.CheckHealth(ctx, nil); return err }})
	s := &server{
		invitations: actions.Onboarding, loginCalls: d.Store, loginSecret: set.loginSecret,
		brand: set.brand, now: time.Now, logger: logger, pages: pg, health: health,
		limiter: newLimiter(rate.Limit(set.rate), set.burst, maxClients, time.Now), proxies: set.proxies, origins: origins,
	}
	stopMetrics, err := daemon.ServeMetrics("METRICS_ADDR", set.metricsAddr, metrics, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := daemon.Listen("WEBHOOK_ADDR", set.addr)
	if err != nil {
		return err
	}
	logger.Info("webhook listening", "addr", ln.Addr().String(),
		"temporal", set.temporal.Options.HostPort, "namespace", set.temporal.Options.Namespace, "rate", set.rate, "burst", set.burst,
		"trusted_proxies", set.proxies.String())
	return daemon.Serve(ctx, daemon.NewServer(d.Tracing.HTTP(s.routes()), logger), ln, health, set.drainDelay, logger)
}
