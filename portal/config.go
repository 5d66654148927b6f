package main

import (
	"time"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/httpserver"
)

// settings are the portal's: partners sign in to it, so it needs the
// identity provider and its sessions besides Temporal, Postgres, links and
// the defaults of a launch.
type settings struct {
	log          config.Log
	temporal     config.Temporal
	postgres     config.Postgres
	links        config.Links
	launch       config.Launch
	tracing      config.Tracing
	brand        string
	addr         string
	publicURL    string
	metricsAddr  string
	proxies      httpserver.Proxies
	issuer       string
	clientID     string
	clientSecret string
	sessionIdle  time.Duration
	sessionMax   time.Duration
	drainDelay   time.Duration
}

// Development defaults of the portal's identity provider: make up's local
// provider (devidp) and its client for the portal.
const (
	defaultAddr         = "127.0.0.1:8090"
	defaultIssuer       = "http://127.0.0.1:5556"
	defaultClientID     = "portal"
	devClientSecret     = "portal-dev-secret"
	defaultSessionIdle  = 30 * time.Minute
	defaultSessionMax   = 12 * time.Hour
	sessionLimitsMin    = time.Minute
	sessionLimitsMost   = 30 * 24 * time.Hour
	summaryText         = "The partners' edge: signed-in pages and the JSON API under /api/v1, each scoped to the partner;\n/healthz and /readyz for balancers."
	productionURLReason = "https://partners.example.com"
)

// loadSettings reads the portal's settings; vars lists them for -h.
func loadSettings(getenv config.Getenv) (settings, *config.Vars) {
	v := config.New(getenv)
	s := settings{
		log:      config.LoadLog(v),
		temporal: config.LoadTemporal(v),
		postgres: config.LoadPostgres(v),
		links:    config.LoadLinks(v),
		launch:   config.LoadLaunch(v),
		tracing:  config.LoadTracing(v),
		brand:    config.Brand(v),
		addr:     v.Addr("PORTAL_ADDR", defaultAddr, "where the portal listens"),
	}
	addr := s.addr
	s.publicURL = v.URL("PORTAL_PUBLIC_URL", "http://"+addr, "where partners reach the portal (https in production: cookies become Secure)",
		productionURLReason, true, true)
	s.metricsAddr = v.String("METRICS_ADDR", "", "where to serve /metrics (Prometheus), apart from the public port; unset: nowhere")
	s.proxies = config.TrustedProxies(v)
	s.issuer = v.URL("OIDC_ISSUER", defaultIssuer, "the OpenID Connect provider partners sign in with", "https://id.example.com", false, true)
	s.clientID = v.String("OIDC_CLIENT_ID", defaultClientID, "the portal's client id at that provider")
	s.clientSecret = v.Secret("OIDC_CLIENT_SECRET", devClientSecret, 1, "the portal's client secret at that provider",
		"the portal's client secret at the identity provider")
	s.sessionIdle = v.Duration("SESSION_IDLE", defaultSessionIdle, sessionLimitsMin, sessionLimitsMost, "a session unused this long ends")
	s.sessionMax = v.Duration("SESSION_MAX", defaultSessionMax, sessionLimitsMin, sessionLimitsMost, "a session ends this long after sign-in, used or not")
	if s.sessionIdle > s.sessionMax {
		v.Bad("SESSION_IDLE", "want at most SESSION_MAX (%s), got %s", s.sessionMax, s.sessionIdle)
	}
	s.drainDelay = v.Duration("DRAIN_DELAY", 0, 0, time.Minute,
		"on SIGTERM, how long /readyz fails before the portal stops taking connections (a balancer's health-check interval)")
	return s, v
}
