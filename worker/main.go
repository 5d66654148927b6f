// Command worker runs onboarding workflows and activities against Temporal,
// Postgres and SMTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	prom "github.com/prometheus/client_golang/prometheus"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/mail"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/telemetry"
	"github.com/cloudpartners/onboarding/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}

// run wires config → store → mail → Temporal client → worker and runs until
// ctx is done.
func run(ctx context.Context, _ []string, getenv config.Getenv, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logger := cfg.Logger(stderr).With("service", "worker")
	tracing, err := telemetry.Start(ctx, cfg, "worker", logger)
	if err != nil {
		return err
	}
	defer tracing.Close(ctx) // last: after the worker's final spans

	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{MaxOpenConns: cfg.DBMaxConns, Tracing: tracing.Provider()})
	if err != nil {
		return err
	}
	defer st.Close()
	mailer, err := mail.New(mail.Options{Addr: cfg.SMTPAddr, From: cfg.SMTPFrom, Username: cfg.SMTPUsername, Password: cfg.SMTPPassword, TLS: cfg.SMTPTLS,
		Tracing: tracing.Provider()})
	if err != nil {
		return err
	}
	sealer, err := seal.New(cfg.Secret)
	if err != nil {
		return err
	}

	metrics, closeMetrics := newMetrics(logger)
	defer closeMetrics()

	opts := cfg.Temporal
	opts.Logger = tlog.NewStructuredLogger(logger)
	opts.MetricsHandler = metrics.handler
	opts.Interceptors = append(opts.Interceptors, tracing.Interceptors()...)
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("connect to Temporal at %s: %w", opts.HostPort, err)
	}
	defer c.Close()

	worker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	// The activities that carry out the customer's answer continue the
	// answer's trace: one trace from POST /confirm to the cloud.
	w := worker.New(c, cfg.TaskQueue, worker.Options{Interceptors: tracing.FollowSignals(workflows.SignalConfirm, workflows.SignalDecline),
		MaxConcurrentWorkflowTaskPollers: cfg.WorkflowPollers, MaxConcurrentActivityTaskPollers: cfg.ActivityPollers})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: workflows.WorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Customer, workflow.RegisterOptions{Name: workflows.CustomerWorkflowName})
	w.RegisterActivity(&activities.Activities{
		Store: st, Mailer: mailer, Sealer: sealer, Links: links.NewSigner(cfg.Secret),
		PublicURL: cfg.PublicURL, Brand: cfg.Brand, MailHost: cfg.MailHost(), Now: time.Now,
	})

	srv, err := serveHealth(cfg.WorkerAddr, st.Ping, metrics.http, logger)
	if err != nil {
		return err
	}
	defer srv.Shutdown(context.WithoutCancel(ctx)) //nolint:errcheck

	logger.Info("worker started", "task_queue", cfg.TaskQueue, "temporal", opts.HostPort, "namespace", opts.Namespace, "health", "http://"+cfg.WorkerAddr+"/healthz", "metrics", "http://"+cfg.WorkerAddr+"/metrics")
	stop := make(chan any)
	go func() { <-ctx.Done(); close(stop) }()
	if err := w.Run(stop); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	logger.Info("worker stopped")
	return nil
}

// workerMetrics are the SDK's worker and client metrics (task latencies,
// schedule-to-start, sticky cache, failures...) and the workflows' business
// metrics (workflows/metrics.go), in Prometheus format.
type workerMetrics struct {
	handler client.MetricsHandler
	http    http.Handler
}

// latencyBuckets are the histogram buckets of every timer, in seconds:
// from the SDK's task latencies (milliseconds) to the time a customer takes
// to confirm (days; the default window is 7, a longer wait than 30 counts
// in +Inf).
var latencyBuckets = []float64{
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, // a task's latencies
	60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600, 14 * 24 * 3600, 30 * 24 * 3600, // up to a confirmation
}

// newMetrics reports the metrics to a registry of this worker's own.
// Timers are histograms, which add up across workers (a summary's
// quantiles do not) and which the dashboard reads with histogram_quantile.
func newMetrics(logger *slog.Logger) (workerMetrics, func()) {
	reg := prom.NewRegistry()
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: reg, Gatherer: reg,
		DefaultTimerType: tallyprom.HistogramTimerType, DefaultHistogramBuckets: latencyBuckets,
		// A metric emitted with other labels than before is a bug to see in
		// the log, never a panic in a workflow task.
		OnRegisterError: func(err error) { logger.Error("register metric", "error", err) }})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return workerMetrics{handler: sdktally.NewMetricsHandler(scope), http: reporter.HTTPHandler()},
		func() { _ = closer.Close() }
}

// serveHealth answers /healthz with 200 while Postgres answers, and
// /metrics with the SDK's metrics.
func serveHealth(addr string, ping func(context.Context) error, metrics http.Handler, logger *slog.Logger) (*http.Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("WORKER_ADDR %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := ping(r.Context()); err != nil {
			logger.Warn("health check: database unreachable", "error", err)
			http.Error(w, "database unreachable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /metrics", metrics)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("health server", "error", err)
		}
	}()
	return srv, nil
}
