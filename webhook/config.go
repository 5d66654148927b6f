package main

import (
	"time"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/httpserver"
)

// settings are the webhook's: it checks links and signals onboardings, so
// it needs Temporal, Postgres, the link secret and the login hook's, and
// where customers reach it (PUBLIC_BASE_URL), which its forms come from.
type settings struct {
	log         config.Log
	temporal    config.Temporal
	postgres    config.Postgres
	links       config.Links
	tracing     config.Tracing
	loginSecret []byte
	brand       string
	addr        string
	metricsAddr string
	rate        float64
	burst       int
	proxies     httpserver.Proxies
	drainDelay  time.Duration
}

const summary = "The customer's HTTP edge: the confirmation page (GET and POST /confirm) and the identity system's\n" +
	"signed login hook (POST /hooks/login); /healthz and /readyz for balancers."

// loadSettings reads the webhook's settings; vars lists them for -h.
func loadSettings(getenv config.Getenv) (settings, *config.Vars) {
	v := config.New(getenv)
	s := settings{
		log:      config.LoadLog(v),
		temporal: config.LoadTemporal(v),
		postgres: config.LoadPostgres(v),
		links:    config.LoadLinks(v),
		tracing:  config.LoadTracing(v),
		loginSecret: []byte(v.Secret("LOGIN_HOOK_SECRET", config.DevSecret+"-login", 32, "the HMAC key shared with the identity system for POST /hooks/login",
			"at least 32 random characters shared with the identity system")),
		brand:       config.Brand(v),
		addr:        v.Addr("WEBHOOK_ADDR", config.DefaultWebhookAddr, "where the webhook listens"),
		metricsAddr: v.String("METRICS_ADDR", "", "where to serve /metrics (Prometheus), apart from the public port; unset: nowhere"),
		rate:        v.Rate("WEBHOOK_RATE", 200, "POSTs per second per client address; over it, 429"),
		burst:       v.Int("WEBHOOK_BURST", 400, 1, 1_000_000, "POSTs per client address in a burst"),
		proxies:     config.TrustedProxies(v),
		drainDelay: v.Duration("DRAIN_DELAY", 0, 0, time.Minute,
			"on SIGTERM, how long /readyz fails before the webhook stops taking connections (a balancer's health-check interval)"),
	}
	return s, v
}
