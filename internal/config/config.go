// Package config reads the onboarding service's settings from the environment,
// applies defaults and validates them once.
package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/mail"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/cloudpartners/onboarding/internal/codec"
	"github.com/cloudpartners/onboarding/internal/customer"
)

// Defaults for local development; each is overridable through its variable.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:55432/onboarding?sslmode=disable"
	DefaultSMTPAddr    = "127.0.0.1:1025"
	DefaultSMTPFrom    = "Cloud onboarding <onboarding@cloud.example>"
	DefaultWebhookAddr = "127.0.0.1:8088"
	DefaultWorkerAddr  = "127.0.0.1:9464"
	DefaultPortalAddr  = "127.0.0.1:8090"
	DefaultOIDCIssuer  = "http://127.0.0.1:5556" // make up's local identity provider (devidp)
	// DefaultOIDCClientID and DevOIDCClientSecret are the local identity
	// provider's client for the portal; the secret is refused when
	// ONBOARDING_ENV=production.
	DefaultOIDCClientID = "portal"
	DevOIDCClientSecret = "portal-dev-secret"
	DefaultBrand        = "Example Cloud"
	DefaultTaskQueue    = "onboarding"
	DefaultCacheSize    = 500
	// DefaultWebhookRate and DefaultWebhookBurst are generous: a benchmark
	// posts many confirms from one address.
	DefaultPollers      = 2   // the SDK's own default, per kind of task
	DefaultDBMaxConns   = 40  // per binary
	DefaultWebhookRate  = 200 // POSTs per second per client address
	DefaultWebhookBurst = 400
	// DevPayloadKey is the payload encryption key when PAYLOAD_KEYS is
	// unset and ONBOARDING_ENV is not "production" (id "dev-1").
	DevPayloadKey = "dev-1:ZGV2LW9ubHktcGF5bG9hZC1rZXktMzItYnl0ZXMhISE="
	// DevSecret is used when ONBOARDING_SECRET is unset and ONBOARDING_ENV is not
	// "production"; it exists only so that a fresh clone runs without setup.
	DevSecret = "dev-only-secret-change-me-in-production-0123456789"
)

// Config is every setting the binaries share.
type Config struct {
	// Temporal holds the SDK client options loaded with the SDK's own
	// environment/profile conventions (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
	// TEMPORAL_API_KEY, TEMPORAL_TLS*, TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE),
	// with the payload codec as data and failure converter.
	Temporal client.Options
	// Codec encrypts payloads under PAYLOAD_KEYS ("id:base64,id:base64",
	// the primary first; the others still decrypt what they encrypted).
	Codec *codec.Codec

	DatabaseURL  string // DATABASE_URL
	SMTPAddr     string // SMTP_ADDR, host:port
	SMTPUsername string // SMTP_USERNAME (optional)
	SMTPPassword string // SMTP_PASSWORD (optional)
	SMTPTLS      bool   // SMTP_TLS: require STARTTLS
	SMTPFrom     string // SMTP_FROM
	PublicURL    string // PUBLIC_BASE_URL: where customers reach the webhook; default http://WEBHOOK_ADDR
	WebhookAddr  string // WEBHOOK_ADDR: the webhook's listen address
	WorkerAddr   string // WORKER_ADDR: the worker's metrics and health address
	PortalAddr   string // PORTAL_ADDR: the portal's listen address
	PortalURL    string // PORTAL_PUBLIC_URL: where partners reach the portal; default http://PORTAL_ADDR
	// OIDCIssuer, OIDCClientID and OIDCClientSecret (OIDC_ISSUER,
	// OIDC_CLIENT_ID, OIDC_CLIENT_SECRET) name the identity provider the
	// portal signs people in with and the portal's client there.
	OIDCIssuer       string
	OIDCClientID     string
	OIDCClientSecret string
	SessionIdle      time.Duration // SESSION_IDLE: a session unused this long ends
	SessionMax       time.Duration // SESSION_MAX: a session ends this long after sign-in, used or not
	Secret           []byte        // ONBOARDING_SECRET: signs links, encrypts personal data in payloads
	LoginSecret      []byte        // LOGIN_HOOK_SECRET: shared with the identity system
	Brand            string        // BRAND: the cloud's name in emails and pages
	ConfirmWithin    time.Duration // CONFIRM_WITHIN: default confirmation window
	ResendAfter      time.Duration // RESEND_MIN_INTERVAL: shortest gap between two sends
	MaxSends         int           // RESEND_MAX: most emails one onboarding may send
	// SuspendRetention (SUSPEND_RETENTION) is how long a suspended
	// customer's data is kept by default: at most 60 days.
	SuspendRetention time.Duration
	Production       bool   // ONBOARDING_ENV=production: no development defaults
	TaskQueue        string // TASK_QUEUE: the worker's task queue
	// WorkflowCacheSize (WORKFLOW_CACHE_SIZE) bounds the workflows the worker
	// keeps in memory between their tasks (the SDK's sticky cache, whose own
	// default is 10,000). It, not the number of onboardings waiting, bounds
	// the worker's memory: about 40 KB per cached onboarding (make bench). An
	// onboarding pushed out is replayed from its short history when its next
	// signal, update or timer arrives.
	WorkflowCacheSize int
	// WorkflowPollers and ActivityPollers (WORKFLOW_POLLERS,
	// ACTIVITY_POLLERS) are how many long polls the worker keeps open on its
	// task queue for each kind of task; the SDK's default is 2 each.
	WorkflowPollers, ActivityPollers int
	// DBMaxConns (DB_MAX_CONNS) bounds each binary's connections to
	// Postgres; every replica of every binary holds up to this many.
	DBMaxConns   int
	WebhookRate  float64 // WEBHOOK_RATE: POSTs per second per client address
	WebhookBurst int     // WEBHOOK_BURST
	LogFormat    string  // LOG_FORMAT: text or json
	// OTLPEndpoint is the OpenTelemetry collector the binaries export traces
	// to over OTLP/gRPC: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, else
	// OTEL_EXPORTER_OTLP_ENDPOINT, the standard variables. Empty (or
	// OTEL_SDK_DISABLED=true): tracing is off.
	OTLPEndpoint string
	// ServiceName (OTEL_SERVICE_NAME) names the binary in traces; empty: its
	// own name (worker, webhook, portal, starter, codecserver).
	ServiceName string
}

// Getenv looks up one environment variable; os.Getenv in production, a map in tests.
type Getenv func(string) string

// Load reads and validates the configuration; each error names the variable.
func Load(getenv Getenv) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		DatabaseURL:  get("DATABASE_URL", DefaultDatabaseURL),
		SMTPAddr:     get("SMTP_ADDR", DefaultSMTPAddr),
		SMTPUsername: getenv("SMTP_USERNAME"),
		SMTPPassword: getenv("SMTP_PASSWORD"),
		SMTPFrom:     get("SMTP_FROM", DefaultSMTPFrom),
		WebhookAddr:  get("WEBHOOK_ADDR", DefaultWebhookAddr),
		WorkerAddr:   get("WORKER_ADDR", DefaultWorkerAddr),
		PortalAddr:   get("PORTAL_ADDR", DefaultPortalAddr),
		OIDCIssuer:   strings.TrimRight(get("OIDC_ISSUER", DefaultOIDCIssuer), "/"),
		OIDCClientID: get("OIDC_CLIENT_ID", DefaultOIDCClientID),
		Brand:        get("BRAND", DefaultBrand),
		Production:   get("ONBOARDING_ENV", "development") == "production",
		TaskQueue:    get("TASK_QUEUE", DefaultTaskQueue),
		LogFormat:    get("LOG_FORMAT", "text"),
	}
	// Links point at the webhook: by default, where it listens; the portal likewise.
	c.PublicURL = strings.TrimRight(get("PUBLIC_BASE_URL", "http://"+c.WebhookAddr), "/")
	c.PortalURL = strings.TrimRight(get("PORTAL_PUBLIC_URL", "http://"+c.PortalAddr), "/")
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}

	if u, err := url.Parse(c.DatabaseURL); err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		bad("DATABASE_URL", "not a postgres:// URL (want postgres://user@host:port/db)")
	}
	for _, hp := range []struct{ name, val string }{{"SMTP_ADDR", c.SMTPAddr}, {"WEBHOOK_ADDR", c.WebhookAddr}, {"WORKER_ADDR", c.WorkerAddr}, {"PORTAL_ADDR", c.PortalAddr}} {
		if _, port, err := net.SplitHostPort(hp.val); err != nil || port == "" {
			bad(hp.name, "not a host:port address (got %q)", hp.val)
		}
	}
	if _, err := mail.ParseAddress(c.SMTPFrom); err != nil {
		bad("SMTP_FROM", "not an email address (want \"Name <addr@example.com>\")")
	}
	if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PUBLIC_BASE_URL", "not an http(s) URL (want https://onboarding.example.com)")
	}
	if u, err := url.Parse(c.PortalURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		bad("PORTAL_PUBLIC_URL", "not an http(s) URL without a path (want https://partners.example.com)")
	} else if c.Production && u.Scheme != "https" {
		bad("PORTAL_PUBLIC_URL", "want https in production: session cookies are sent only over TLS")
	}
	if u, err := url.Parse(c.OIDCIssuer); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("OIDC_ISSUER", "not an http(s) URL (want the identity provider's issuer, such as https://id.example.com)")
	} else if c.Production && u.Scheme != "https" {
		bad("OIDC_ISSUER", "want https in production")
	}
	switch v := getenv("SMTP_TLS"); v {
	case "", "false", "0":
	case "true", "1":
		c.SMTPTLS = true
	default:
		bad("SMTP_TLS", "want true or false, got %q", v)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("LOG_FORMAT", "want text or json, got %q", c.LogFormat)
	}
	if strings.ContainsAny(c.Brand, "\r\n") || len(c.Brand) > 60 {
		bad("BRAND", "want one line of at most 60 characters")
	}

	secret := getenv("ONBOARDING_SECRET")
	if secret == "" && !c.Production {
		secret = DevSecret
	}
	if len(secret) < 32 {
		bad("ONBOARDING_SECRET", "want at least 32 random characters (generate with: openssl rand -hex 32)")
	}
	c.Secret = []byte(secret)
	login := getenv("LOGIN_HOOK_SECRET")
	if login == "" && !c.Production {
		login = DevSecret + "-login"
	}
	if len(login) < 32 {
		bad("LOGIN_HOOK_SECRET", "want at least 32 random characters shared with the identity system")
	}
	c.LoginSecret = []byte(login)
	c.OIDCClientSecret = getenv("OIDC_CLIENT_SECRET")
	if c.OIDCClientSecret == "" && !c.Production {
		c.OIDCClientSecret = DevOIDCClientSecret
	}
	if c.OIDCClientSecret == "" {
		bad("OIDC_CLIENT_SECRET", "required in production: the portal's client secret at the identity provider")
	}

	duration := func(name string, def, min time.Duration) time.Duration {
		v := getenv(name)
		if v == "" {
			return def
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			bad(name, "want a duration of at least %s such as 168h or 90s, got %q", min, v)
			return def
		}
		return d
	}
	c.ConfirmWithin = duration("CONFIRM_WITHIN", customer.DefaultConfirmWithin, time.Second)
	if c.ConfirmWithin > customer.MaxConfirmWithin {
		bad("CONFIRM_WITHIN", "want at most %s, got %s", customer.MaxConfirmWithin, c.ConfirmWithin)
	}
	c.ResendAfter = duration("RESEND_MIN_INTERVAL", customer.DefaultResendAfter, 0)
	c.SuspendRetention = duration("SUSPEND_RETENTION", customer.DefaultRetention, time.Second)
	c.SessionIdle = duration("SESSION_IDLE", 30*time.Minute, time.Minute)
	c.SessionMax = duration("SESSION_MAX", 12*time.Hour, time.Minute)
	if c.SessionIdle > c.SessionMax {
		bad("SESSION_IDLE", "want at most SESSION_MAX (%s), got %s", c.SessionMax, c.SessionIdle)
	}
	if c.SuspendRetention > customer.DefaultRetention {
		bad("SUSPEND_RETENTION", "want at most %s (60 days), got %s", customer.DefaultRetention, c.SuspendRetention)
	}
	whole := func(name string, def, lo, hi int, example string) int {
		v := getenv(name)
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad(name, "want a whole number from %d to %d such as %s, got %q", lo, hi, example, v)
			return def
		}
		return n
	}
	c.WorkflowCacheSize = whole("WORKFLOW_CACHE_SIZE", DefaultCacheSize, 1, 1_000_000, "500")
	c.WorkflowPollers = whole("WORKFLOW_POLLERS", DefaultPollers, 1, 256, "2")
	c.ActivityPollers = whole("ACTIVITY_POLLERS", DefaultPollers, 1, 256, "2")
	c.DBMaxConns = whole("DB_MAX_CONNS", DefaultDBMaxConns, 1, 10_000, "40")
	c.MaxSends = whole("RESEND_MAX", customer.DefaultMaxSends, 1, 100, "5")
	c.WebhookBurst = whole("WEBHOOK_BURST", DefaultWebhookBurst, 1, 1_000_000, "400")
	c.WebhookRate = DefaultWebhookRate
	if v := getenv("WEBHOOK_RATE"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || !(f > 0) || math.IsInf(f, 0) {
			bad("WEBHOOK_RATE", "want POSTs per second per client address, a number above 0 such as 200 or 0.5, got %q", v)
		} else {
			c.WebhookRate = f
		}
	}

	// Tracing: the OpenTelemetry SDK's own variables, the traces-only one first.
	endpoint := "OTEL_EXPORTER_OTLP_ENDPOINT"
	if get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "") != "" {
		endpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	}
	c.OTLPEndpoint, c.ServiceName = get(endpoint, ""), get("OTEL_SERVICE_NAME", "")
	if strings.EqualFold(get("OTEL_SDK_DISABLED", "false"), "true") {
		c.OTLPEndpoint = ""
	}
	if u, err := url.Parse(c.OTLPEndpoint); c.OTLPEndpoint != "" && (err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "") {
		bad(endpoint, "not an http(s) URL of an OTLP/gRPC collector (want http://127.0.0.1:4317, or https:// for TLS)")
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if v := get(name, "grpc"); v != "grpc" {
			bad(name, "only grpc is supported, got %q", v)
		}
	}

	keys := getenv("PAYLOAD_KEYS")
	if keys == "" && !c.Production {
		keys = DevPayloadKey
	}
	if keys == "" {
		bad("PAYLOAD_KEYS", "required in production: id:base64-key[,id:base64-key...], the primary first (generate a key with: openssl rand -base64 32)")
	} else if k, err := codec.ParseKeys(keys); err != nil {
		bad("PAYLOAD_KEYS", "%v", err)
	} else if c.Production && keys == DevPayloadKey {
		bad("PAYLOAD_KEYS", "the development key is refused in production")
	} else if c.Codec, err = codec.New(k); err != nil {
		bad("PAYLOAD_KEYS", "%v", err)
	}

	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: envLookup(getenv)})
	if err != nil {
		bad("TEMPORAL_*", "%v", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = "127.0.0.1:7233" // loopback, not "localhost", which may resolve to ::1 first
	}
	if opts.Namespace == "" {
		opts.Namespace = client.DefaultNamespace
	}
	if c.Codec != nil {
		opts.DataConverter, opts.FailureConverter = c.Codec.DataConverter(), c.Codec.FailureConverter()
	}
	c.Temporal = opts

	if err := errors.Join(errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// envLookup adapts a Getenv to the SDK's envconfig lookup.
type envLookup Getenv

func (e envLookup) LookupEnv(key string) (string, bool) {
	v := e(key)
	return v, v != ""
}

// Environ is consulted by the SDK only for TEMPORAL_GRPC_META_* headers,
// which have no fixed names, so those come from the process environment.
func (e envLookup) Environ() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "TEMPORAL_GRPC_META_") {
			out = append(out, kv)
		}
	}
	return out
}

// Logger returns the slog logger the binaries use: text locally, JSON in production.
func (c Config) Logger(w io.Writer) *slog.Logger {
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// MailHost is the domain of the From address, used in Message-IDs.
func (c Config) MailHost() string {
	a, err := mail.ParseAddress(c.SMTPFrom)
	if err != nil {
		return "onboarding.invalid"
	}
	return a.Address[strings.LastIndexByte(a.Address, '@')+1:]
}
