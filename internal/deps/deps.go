// Package deps opens what a binary of the product runs on — tracing, the
// store, the Temporal client, the audit log and the request sender over
// them — in that order, and closes them in reverse. The worker, the
// webhook, the portal and the starter differ only in what they build on
// top.
package deps

import (
	"context"
	"fmt"
	"log/slog"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/lifecycle"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/telemetry"
)

// What cannot be opened: each edge words its own hint for them.
var (
	ErrDatabase = domain.New(domain.Unavailable, "DatabaseUnavailable", "cannot use the database")
	ErrTemporal = domain.New(domain.Unavailable, "TemporalUnavailable", "cannot reach Temporal")
)

// Options are the settings the dependencies are opened with.
type Options struct {
	Service  string       // the binary's name, in traces
	Logger   *slog.Logger // the binary's; the SDK logs through it too
	Tracing  config.Tracing
	Postgres config.Postgres
	Temporal config.Temporal
	// MetricsHandler receives the Temporal SDK's metrics (the worker's).
	MetricsHandler client.MetricsHandler
	// OnStatement is called for every round trip to Postgres.
	OnStatement func()
	// Traced, when set, is tracing the caller started already (the
	// starter's, for the command's span): used instead of Tracing, and
	// left to the caller to close.
	Traced *telemetry.Tracing
}

// Deps are a binary's opened dependencies.
type Deps struct {
	Logger   *slog.Logger
	Tracing  *telemetry.Tracing
	Store    *store.Store
	Temporal client.Client
	Audit    *audit.Log
	Requests *request.Sender

	closers []func()
}

// Open opens everything; on failure what was opened is closed again.
func Open(ctx context.Context, o Options) (*Deps, error) {
	d := &Deps{Logger: o.Logger}
	if err := d.open(ctx, o); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Deps) open(ctx context.Context, o Options) error {
	var err error
	switch {
	case o.Traced != nil:
		d.Tracing = o.Traced
	default:
		if d.Tracing, err = telemetry.Start(ctx, o.Tracing, o.Service, d.Logger); err != nil {
			return err
		}
		d.closers = append(d.closers, func() { d.Tracing.Close(context.WithoutCancel(ctx)) })
	}
	if d.Store, err = store.Open(ctx, o.Postgres.URL,
		store.Options{MaxOpenConns: o.Postgres.MaxConns, Tracing: d.Tracing.Provider(), OnStatement: o.OnStatement,
			Migrate: o.Postgres.Migrate}); err != nil {
		return fmt.Errorf("%w (%w)", ErrDatabase, err)
	}
	d.closers = append(d.closers, func() { d.Store.Close() })
	opts := o.Temporal.Options
	opts.Logger = tlog.NewStructuredLogger(d.Logger)
	opts.MetricsHandler = o.MetricsHandler
	opts.Interceptors = append(opts.Interceptors, d.Tracing.Interceptors()...)
	if d.Temporal, err = client.DialContext(ctx, opts); err != nil {
		return fmt.Errorf("%w at %s namespace %s (%w)", ErrTemporal, opts.HostPort, opts.Namespace, err)
	}
	d.closers = append(d.closers, d.Temporal.Close)
	d.Audit = audit.New(d.Store, d.Logger)
	d.Requests = request.New(d.Temporal, d.Store, 0)
	return nil
}

// Close closes what Open opened, the last first; twice is harmless.
func (d *Deps) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
	d.closers = nil
}

// Actions are the product's actions over the opened dependencies, each
// written once in its own package: what every edge calls.
type Actions struct {
	Onboarding *onboarding.Service
	Lifecycle  *lifecycle.Service
	Access     *access.Service
	Audit      *audit.Log
}

// Actions builds the actions with the settings of a launch (task queue,
// the defaults of a new onboarding, a suspension's retention) and of links.
func (d *Deps) Actions(launch config.Launch, links config.Links) Actions {
	return Actions{
		Onboarding: onboarding.New(onboarding.Settings{TaskQueue: launch.TaskQueue, PublicURL: links.PublicURL, Secret: links.Secret,
			ConfirmWithin: launch.ConfirmWithin, ResendAfter: launch.ResendAfter, MaxSends: launch.MaxSends}, d.Store, d.Temporal, d.Audit, d.Requests),
		Lifecycle: lifecycle.New(d.Temporal, d.Store, d.Audit, d.Requests, launch.TaskQueue, launch.SuspendRetention),
		Access:    access.New(d.Store, d.Audit),
		Audit:     d.Audit,
	}
}
