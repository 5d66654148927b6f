// Package edge opens what an HTTP edge of the product — the customer's
// webhook, the partner's portal — runs on: the configuration, the logger,
// tracing, the store, the Temporal client and the actions over them, in
// that order, and closes them in reverse. The edges differ only in their
// routes.
package edge

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/telemetry"
)

// Edge is an opened edge's dependencies.
type Edge struct {
	Config   config.Config
	Logger   *slog.Logger // tagged with the service's name
	Tracing  *telemetry.Tracing
	Store    *store.Store
	Temporal client.Client
	Actions  *onboarding.Service

	closers []func()
}

// Open loads the configuration and opens everything an edge named service
// ("webhook", "portal") needs; logs go to stderr. On failure what was
// opened is closed again.
func Open(ctx context.Context, service string, getenv config.Getenv, stderr io.Writer) (*Edge, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	e := &Edge{Config: cfg, Logger: cfg.Logger(stderr).With("service", service)}
	if err := e.open(ctx, service); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

func (e *Edge) open(ctx context.Context, service string) error {
	var err error
	if e.Tracing, err = telemetry.Start(ctx, e.Config, service, e.Logger); err != nil {
		return err
	}
	e.closers = append(e.closers, func() { e.Tracing.Close(context.WithoutCancel(ctx)) })
	if e.Store, err = store.Open(ctx, e.Config.DatabaseURL,
		store.Options{MaxOpenConns: e.Config.DBMaxConns, Tracing: e.Tracing.Provider()}); err != nil {
		return err
	}
	e.closers = append(e.closers, func() { e.Store.Close() })
	opts := e.Config.Temporal
	opts.Logger = tlog.NewStructuredLogger(e.Logger)
	opts.Interceptors = append(opts.Interceptors, e.Tracing.Interceptors()...)
	if e.Temporal, err = client.DialContext(ctx, opts); err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	e.closers = append(e.closers, e.Temporal.Close)
	e.Actions, err = onboarding.New(e.Config, e.Store, e.Temporal)
	return err
}

// Close closes what Open opened, the last first.
func (e *Edge) Close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}
