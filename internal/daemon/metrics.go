package daemon

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is a process's Prometheus registry: the Go runtime's and the
// process's own metrics, the Postgres round trips it makes, and whatever
// the binary adds (the worker's SDK and business metrics).
type Metrics struct {
	Registry *prometheus.Registry
	// DBStatements counts every round trip to Postgres: each statement,
	// BEGIN, COMMIT, ROLLBACK and ping (store.Options.OnStatement).
	DBStatements prometheus.Counter
}

// NewMetrics returns a process's metrics, each counter at zero from the start.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{Registry: reg, DBStatements: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "db_statements_total",
		Help: "Round trips to Postgres since the process started: statements, BEGIN, COMMIT, ROLLBACK and pings.",
	})}
	reg.MustRegister(m.DBStatements)
	return m
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// ServeMetrics serves /metrics on addr, apart from a public port, until
// the returned stop is called; an empty addr serves nothing. variable
// names the setting addr came from, for the error.
func ServeMetrics(variable, addr string, m *Metrics, logger *slog.Logger) (stop func(), err error) {
	if addr == "" {
		return func() {}, nil
	}
	ln, err := Listen(variable, addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := NewServer(mux, logger)
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}
