package main

import (
	"time"

	"github.com/cloudpartners/onboarding/internal/config"
)

// settings are the worker's: it runs the workflows and activities, so it
// needs Temporal, Postgres, the mail relay and what the emails say.
type settings struct {
	log             config.Log
	temporal        config.Temporal
	postgres        config.Postgres
	smtp            config.SMTP
	links           config.Links
	tracing         config.Tracing
	brand           string
	taskQueue       string
	cacheSize       int
	workflowPollers int
	activityPollers int
	stopTimeout     time.Duration
	addr            string
}

const summary = "Runs the onboarding and customer workflows and their activities against Temporal, Postgres and SMTP;\n" +
	"serves /healthz, /readyz and /metrics on WORKER_ADDR."

// loadSettings reads the worker's settings; vars lists them for -h.
func loadSettings(getenv config.Getenv) (settings, *config.Vars) {
	v := config.New(getenv)
	s := settings{
		log:       config.LoadLog(v),
		temporal:  config.LoadTemporal(v),
		postgres:  config.LoadPostgres(v),
		smtp:      config.LoadSMTP(v),
		links:     config.LoadLinks(v),
		tracing:   config.LoadTracing(v),
		brand:     config.Brand(v),
		taskQueue: config.TaskQueue(v),
		cacheSize: v.Int("WORKFLOW_CACHE_SIZE", 500, 1, 1_000_000,
			"workflows kept in memory between their tasks (the SDK's sticky cache): it bounds the worker's memory"),
		workflowPollers: v.Int("WORKFLOW_POLLERS", 2, 1, 256, "long polls kept open on the task queue for workflow tasks"),
		activityPollers: v.Int("ACTIVITY_POLLERS", 2, 1, 256, "long polls kept open on the task queue for activity tasks"),
		stopTimeout: v.Duration("WORKER_STOP_TIMEOUT", 20*time.Second, 0, 10*time.Minute,
			"on SIGTERM, how long activities under way may take to finish before the worker exits"),
		addr: v.Addr("WORKER_ADDR", "127.0.0.1:9464", "where the worker serves /healthz, /readyz and /metrics"),
	}
	return s, v
}
