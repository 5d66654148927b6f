// Command portal is the partners' edge: its staff sign in with the cloud's
// identity provider (OpenID Connect) and onboard and look after their
// customers — pages for people, a JSON API for machines with API keys —
// each scoped to their own partner, every action audited. It only
// translates: the actions live in internal/onboarding, internal/lifecycle,
// internal/access and internal/audit.
package main

import (
	"context"
	"io"
	"time"

	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/deps"
)

func main() { daemon.Main("portal", run) }

// run opens the dependencies and the actions, adds sign-in, serves until
// ctx is done, then drains: readiness fails first, then the requests in
// flight finish.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	set, vars := loadSettings(getenv)
	if done, err := vars.Help(args, stdout, "portal", summaryText); done {
		return err
	}
	if err := vars.Err(); err != nil {
		return err
	}
	logger := set.log.Logger(stderr, "portal")
	metrics := daemon.NewMetrics()
	d, err := deps.Open(ctx, deps.Options{Service: "portal", Logger: logger, Tracing: set.tracing, Postgres: set.postgres,
		Temporal: set.temporal, OnStatement: metrics.DBStatements.Inc})
	if err != nil {
		return err
	}
	defer d.Close()
	health := daemon.NewHealth(logger, daemon.Check{Name: "database", Fn: d.Store.Ping},
		daemon.Check{Name: "temporal", Fn: func(ctx context.Context) error { _, err := d.Temporal.CheckHealth(ctx, nil); return err }})
	s, err := newServer(set, d.Actions(set.launch, set.links), d.Store, health, logger, time.Now)
	if err != nil {
		return err
	}
	stopMetrics, err := daemon.ServeMetrics("METRICS_ADDR", set.metricsAddr, metrics, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()
	ln, err := daemon.Listen("PORTAL_ADDR", set.addr)
	if err != nil {
		return err
	}
	logger.Info("portal listening", "addr", ln.Addr().String(), "public_url", set.publicURL, "issuer", set.issuer,
		"temporal", set.temporal.Options.HostPort, "namespace", set.temporal.Options.Namespace, "trusted_proxies", set.proxies.String())
	return daemon.Serve(ctx, daemon.NewServer(d.Tracing.HTTP(s.routes(), "/static/"), logger), ln, health, set.drainDelay, logger)
}
