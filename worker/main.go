// Command worker runs onboarding workflows and activities against Temporal,
// Postgres and SMTP.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"time"

	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/mail"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/workflows"
)

func main() { daemon.Main("worker", run) }

// run wires settings → metrics → store, Temporal client (deps) → mailer →
// worker, serves health and metrics, and runs until ctx is done; then the
// worker stops polling, lets the tasks it holds finish and exits.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	set, vars := loadSettings(getenv)
	if done, err := vars.Help(args, stdout, "worker", summary); done {
		return err
	}
	if err := vars.Err(); err != nil {
		return err
	}
	logger := set.log.Logger(stderr, "worker")
	metrics := daemon.NewMetrics()
	sdkMetrics, closeMetrics := newSDKMetrics(metrics, logger)
	defer closeMetrics()
	businessMetricsAtZero(sdkMetrics, set.temporal.Options.Namespace, set.taskQueue)
	d, err := deps.Open(ctx, deps.Options{Service: "worker", Logger: logger, Tracing: set.tracing, Postgres: set.postgres,
		Temporal: set.temporal, MetricsHandler: sdkMetrics, OnStatement: metrics.DBStatements.Inc})
	if err != nil {
		return err
	}
	defer d.Close() // last: after the worker's final spans
	mailer, err := mail.New(mail.Options{Addr: set.smtp.Addr, From: set.smtp.From, Username: set.smtp.Username, Password: set.smtp.Password,
		TLS: set.smtp.TLS, Tracing: d.Tracing.Provider()})
	if err != nil {
		return err
	}
	sealer, err := seal.New(set.links.Secret)
	if err != nil {
		return err
	}

	worker.SetStickyWorkflowCacheSize(set.cacheSize)
	// The activities that carry out the customer's answer continue the
	// answer's trace: one trace from POST /confirm to the cloud.
	w := worker.New(d.Temporal, set.taskQueue, worker.Options{Interceptors: d.Tracing.FollowSignals(workflows.SignalConfirm, workflows.SignalDecline),
		MaxConcurrentWorkflowTaskPollers: set.workflowPollers, MaxConcurrentActivityTaskPollers: set.activityPollers,
		WorkerStopTimeout: set.stopTimeout})
	w.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: workflows.WorkflowName})
	w.RegisterWorkflowWithOptions(workflows.Customer, workflow.RegisterOptions{Name: workflows.CustomerWorkflowName})
	w.RegisterActivity(&activities.Activities{
		Store: d.Store, Mailer: mailer, Sealer: sealer, Links: links.NewSigner(set.links.Secret),
		PublicURL: set.links.PublicURL, Brand: set.brand, MailHost: set.smtp.MailHost(), Now: time.Now,
	})

	health := daemon.NewHealth(logger, daemon.Check{Name: "database", Fn: d.Store.Ping},
		daemon.Check{Name: "temporal", Fn: func(ctx context.Context) error { _, err := d.Temporal.CheckHealth(ctx, nil); return err }})
	ln, err := daemon.Listen("WORKER_ADDR", set.addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	health.Routes(mux)
	mux.Handle("GET /metrics", metrics.Handler())
	srv := daemon.NewServer(mux, logger)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	defer srv.Shutdown(context.WithoutCancel(ctx)) //nolint:errcheck

	logger.Info("worker started", "task_queue", set.taskQueue, "temporal", set.temporal.Options.HostPort, "namespace", set.temporal.Options.Namespace,
		"health", "http://"+ln.Addr().String()+"/healthz", "metrics", "http://"+ln.Addr().String()+"/metrics")
	stop := make(chan any)
	go func() {
		select {
		case <-ctx.Done():
		case err := <-served:
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("health server", "error", err)
			}
		}
		health.Drain()
		close(stop)
	}()
	if err := w.Run(stop); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	logger.Info("worker stopped")
	return nil
}

// latencyBuckets are the histogram buckets of every timer, in seconds:
// from the SDK's task latencies (milliseconds) to the time a customer takes
// to confirm (days; the default window is 7, a longer wait than 30 counts
// in +Inf).
var latencyBuckets = []float64{
	0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, // a task's latencies
	60, 300, 900, 3600, 6 * 3600, 24 * 3600, 3 * 24 * 3600, 7 * 24 * 3600, 14 * 24 * 3600, 30 * 24 * 3600, // up to a confirmation
}

// newSDKMetrics reports the SDK's worker and client metrics (task
// latencies, schedule-to-start, sticky cache, failures...) and the
// workflows' business metrics (workflows/metrics.go) into the process's
// registry. Timers are histograms, which add up across workers (a
// summary's quantiles do not) and which the dashboard reads with
// histogram_quantile.
func newSDKMetrics(m *daemon.Metrics, logger *slog.Logger) (client.MetricsHandler, func()) {
	reporter := tallyprom.NewReporter(tallyprom.Options{Registerer: m.Registry, Gatherer: m.Registry,
		DefaultTimerType: tallyprom.HistogramTimerType, DefaultHistogramBuckets: latencyBuckets,
		// A metric emitted with other labels than before is a bug to see in
		// the log, never a panic in a workflow task.
		OnRegisterError: func(err error) { logger.Error("register metric", "error", err) }})
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter:  reporter,
		Separator:       tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	return sdktally.NewMetricsHandler(scope), func() { _ = closer.Close() }
}

// businessMetricsAtZero creates every series of the business metrics
// (workflows.MetricSeries) at zero when the worker starts, so that rate(),
// increase() and alerts work before the first onboarding. Each gets the
// labels the SDK's handler puts on what a workflow emits — its client's
// (namespace, client_name, and "none" for worker_type and activity_type),
// the worker's task_queue and the workflow_type, as SDK v1.51 sets them
// (internal/common/metrics: RootTags, TaskQueueTags, WorkflowTags) — so
// that each is the very series the workflows then count in, through the
// same scope; TestMetricsEndToEnd fails if the SDK's labels drift.
func businessMetricsAtZero(h client.MetricsHandler, namespace, taskQueue string) {
	for _, s := range workflows.MetricSeries() {
		tags := workflowLabels(namespace, taskQueue, s.WorkflowType)
		maps.Copy(tags, s.Labels)
		m := h.WithTags(tags)
		if s.Histogram {
			m.Timer(s.Name)
		} else {
			m.Counter(s.Name)
		}
	}
}

// workflowLabels are the labels the SDK's handler puts on what a workflow
// of that type emits on the task queue.
func workflowLabels(namespace, taskQueue, workflowType string) map[string]string {
	return map[string]string{"namespace": namespace, "client_name": "temporal_go", "worker_type": "none", "activity_type": "none",
		"task_queue": taskQueue, "workflow_type": workflowType}
}
