package config

import (
	"io"
	"log/slog"
	"net/mail"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"github.com/cloudpartners/onboarding/internal/codec"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/httpserver"
)

// Development defaults: each exists only so that a fresh clone runs
// without setup, and each secret among them is refused in production.
const (
	DefaultDatabaseURL = "postgres://postgres@127.0.0.1:55432/onboarding?sslmode=disable"
	DefaultTemporal    = "127.0.0.1:7233" // loopback, not "localhost", which may resolve to ::1 first
	DefaultWebhookAddr = "127.0.0.1:8088"
	DefaultTaskQueue   = domain.DefaultTaskQueue
	DefaultBrand       = "Example Cloud"
	// DevPayloadKey is the payload encryption key when PAYLOAD_KEYS is
	// unset outside production (id "dev-1").
	DevPayloadKey = "dev-1:ZGV2LW9ubHktcGF5bG9hZC1rZXktMzItYnl0ZXMhISE="
	// DevSecret is ONBOARDING_SECRET outside production when unset.
	DevSecret = "dev-only-secret-change-me-in-production-0123456789"
)

// Log is how a daemon logs: LOG_FORMAT.
type Log struct {
	JSON bool
}

// LoadLog reads LOG_FORMAT.
func LoadLog(v *Vars) Log {
	return Log{JSON: v.OneOf("LOG_FORMAT", "text", "text for people, json for a log collector", "text", "json") == "json"}
}

// Logger is the binary's logger on w: text locally, JSON in production,
// tagged with the service's name.
func (l Log) Logger(w io.Writer, service string) *slog.Logger {
	var h slog.Handler = slog.NewTextHandler(w, nil)
	if l.JSON {
		h = slog.NewJSONHandler(w, nil)
	}
	return slog.New(h).With("service", service)
}

// Temporal is how to reach Temporal: the SDK's client options, read with
// the SDK's own environment conventions (the temporal CLI's names and
// profile file), with the payload codec as data and failure converter.
type Temporal struct {
	Options client.Options
	Codec   *codec.Codec
}

// LoadTemporal reads the Temporal client settings and PAYLOAD_KEYS.
func LoadTemporal(v *Vars) Temporal {
	v.declare("TEMPORAL_ADDRESS", DefaultTemporal, "the Temporal frontend host:port (Temporal Cloud: ns.acct.tmprl.cloud:7233)")
	v.declare("TEMPORAL_NAMESPACE", client.DefaultNamespace, "the Temporal namespace")
	v.declare("TEMPORAL_API_KEY", "", "Temporal Cloud API key")
	v.declare("TEMPORAL_TLS", "", "true: TLS to the frontend (implied by an API key or a client certificate)")
	v.declare("TEMPORAL_TLS_CLIENT_CERT_PATH", "", "mTLS: client certificate (PEM); also TEMPORAL_TLS_CLIENT_CERT_DATA")
	v.declare("TEMPORAL_TLS_CLIENT_KEY_PATH", "", "mTLS: client key (PEM); also TEMPORAL_TLS_CLIENT_KEY_DATA")
	v.declare("TEMPORAL_TLS_SERVER_CA_CERT_PATH", "", "the CA that signed the frontend's certificate; also TEMPORAL_TLS_SERVER_CA_CERT_DATA")
	v.declare("TEMPORAL_TLS_SERVER_NAME", "", "the frontend's name in its certificate, when it differs from the address")
	v.declare("TEMPORAL_CONFIG_FILE", "", "a temporal CLI profile file (TOML) to read the settings above from")
	v.declare("TEMPORAL_PROFILE", "default", "the profile of that file")
	switch tls := v.Lookup("TEMPORAL_TLS"); tls {
	case "", "true", "false", "1", "0":
	default:
		// The SDK's loader takes anything else silently as false.
		v.Bad("TEMPORAL_TLS", "want true or false, got %q", tls)
	}
	t := Temporal{Codec: LoadCodec(v)}
	opts, err := envconfig.LoadClientOptions(envconfig.LoadClientOptionsRequest{EnvLookup: envLookup(v.getenv)})
	if err != nil {
		v.Bad("TEMPORAL_*", "%v", err)
	}
	if opts.HostPort == "" {
		opts.HostPort = DefaultTemporal
	}
	if opts.Namespace == "" {
		opts.Namespace = client.DefaultNamespace
	}
	if t.Codec != nil {
		opts.DataConverter, opts.FailureConverter = t.Codec.DataConverter(), t.Codec.FailureConverter()
	}
	t.Options = opts
	return t
}

// LoadCodec reads PAYLOAD_KEYS: the payload codec's AES-256 keys.
func LoadCodec(v *Vars) *codec.Codec {
	const name = "PAYLOAD_KEYS"
	def := ""
	if !v.Production {
		def = "a development key"
	}
	v.declare(name, def, "payload encryption keys, id:base64[,id:base64...], the primary first; the others still decrypt")
	keys := v.getenv(name)
	if keys == "" && !v.Production {
		keys = DevPayloadKey
	}
	if keys == "" {
		v.Bad(name, "required in production: id:base64-key[,id:base64-key...], the primary first (generate a key with: openssl rand -base64 32)")
		return nil
	}
	if v.Production && keys == DevPayloadKey {
		v.Bad(name, "the development key is refused in production (generate a key with: openssl rand -base64 32)")
		return nil
	}
	k, err := codec.ParseKeys(keys)
	if err != nil {
		v.Bad(name, "%v", err)
		return nil
	}
	c, err := codec.New(k)
	if err != nil {
		v.Bad(name, "%v", err)
		return nil
	}
	return c
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

// Postgres is the system of record.
type Postgres struct {
	URL      string
	MaxConns int
	// Migrate is what the binary does about the schema when it starts:
	// store.MigrateAuto, MigrateCheck or MigrateOff (the same words,
	// written here so that config does not link the store into the
	// binaries without a database).
	Migrate string
}

// LoadPostgres reads DATABASE_URL, DB_MAX_CONNS and DB_MIGRATE.
func LoadPostgres(v *Vars) Postgres {
	p := Postgres{URL: v.String("DATABASE_URL", DefaultDatabaseURL, "Postgres, postgres://user:password@host:port/db?sslmode=...")}
	if !strings.HasPrefix(p.URL, "postgres://") && !strings.HasPrefix(p.URL, "postgresql://") {
		v.Bad("DATABASE_URL", "not a postgres:// URL (want postgres://user@host:port/db)")
	}
	p.MaxConns = v.Int("DB_MAX_CONNS", 40, 1, 10_000, "this process's Postgres connections at most; every replica holds up to this many")
	p.Migrate = v.OneOf("DB_MIGRATE", "auto",
		"at start, auto: apply the missing migrations; check: refuse a database lacking one (a job runs `starter migrate` per release); off: neither",
		"auto", "check", "off")
	return p
}

// SMTP is the mail relay.
type SMTP struct {
	Addr, Username, Password, From string
	TLS                            bool
}

// LoadSMTP reads the SMTP_* settings.
func LoadSMTP(v *Vars) SMTP {
	s := SMTP{
		Addr:     v.Addr("SMTP_ADDR", "127.0.0.1:1025", "the mail relay's host:port"),
		Username: v.String("SMTP_USERNAME", "", "the relay's user, if it wants one"),
		Password: v.String("SMTP_PASSWORD", "", "that user's password"),
		TLS:      v.Bool("SMTP_TLS", false, "require STARTTLS"),
		From:     v.String("SMTP_FROM", "Cloud onboarding <onboarding@cloud.example>", "the sender of confirmation emails"),
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		v.Bad("SMTP_FROM", "not an email address (want \"Name <addr@example.com>\")")
	}
	return s
}

// MailHost is the domain of the From address, used in Message-IDs.
func (s SMTP) MailHost() string {
	a, err := mail.ParseAddress(s.From)
	if err != nil {
		return "onboarding.invalid"
	}
	return a.Address[strings.LastIndexByte(a.Address, '@')+1:]
}

// Links are the confirmation links: the secret that signs them and where
// customers reach the webhook.
type Links struct {
	Secret    []byte
	PublicURL string
}

// LoadLinks reads ONBOARDING_SECRET and PUBLIC_BASE_URL: what makes a
// link. The public URL's default is where the webhook listens
// (WEBHOOK_ADDR), over http.
func LoadLinks(v *Vars) Links {
	secret := LoadLinkSecret(v)
	addr := v.Lookup("WEBHOOK_ADDR")
	if addr == "" {
		addr = DefaultWebhookAddr
	}
	return Links{Secret: secret,
		PublicURL: v.URL("PUBLIC_BASE_URL", "http://"+addr, "where customers reach the webhook: links point here", "https://onboarding.example.com", false, false)}
}

// LoadLinkSecret reads ONBOARDING_SECRET alone: what checks a link.
func LoadLinkSecret(v *Vars) []byte {
	return []byte(v.Secret("ONBOARDING_SECRET", DevSecret, 32, "signs confirmation links (and opens the sealed contact of onboardings launched before the payload codec)",
		"at least 32 random characters (generate with: openssl rand -hex 32)"))
}

// Tracing is where spans go: OpenTelemetry's standard variables.
type Tracing struct {
	// Endpoint is the OTLP/gRPC collector; "" is tracing off.
	Endpoint string
	// ServiceName names the binary in traces; "": its own name.
	ServiceName string
}

// LoadTracing reads OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT, OTEL_SERVICE_NAME,
// OTEL_SDK_DISABLED and checks the protocol is gRPC.
func LoadTracing(v *Vars) Tracing {
	endpoint := "OTEL_EXPORTER_OTLP_ENDPOINT"
	traces := v.String("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "", "the OTLP/gRPC collector for traces (wins over OTEL_EXPORTER_OTLP_ENDPOINT)")
	all := v.String(endpoint, "", "the OTLP/gRPC collector, http://host:4317 (https:// for TLS); unset: tracing off")
	t := Tracing{Endpoint: all, ServiceName: v.String("OTEL_SERVICE_NAME", "", "the service's name in traces; default the binary's")}
	if traces != "" {
		t.Endpoint, endpoint = traces, "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
	}
	if v.Bool("OTEL_SDK_DISABLED", false, "true: tracing off whatever the endpoint") {
		t.Endpoint = ""
	}
	if t.Endpoint != "" && !strings.HasPrefix(t.Endpoint, "http://") && !strings.HasPrefix(t.Endpoint, "https://") {
		v.Bad(endpoint, "not an http(s) URL of an OTLP/gRPC collector (want http://127.0.0.1:4317, or https:// for TLS)")
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if p := v.Lookup(name); p != "" && p != "grpc" {
			v.Bad(name, "only grpc is supported, got %q", p)
		}
	}
	return t
}

// TrustedProxies reads TRUSTED_PROXIES: the networks of the reverse
// proxies whose X-Forwarded-For and Forwarded headers name the client, for
// the rate limits, the request log and the audit; unset, nobody's.
func TrustedProxies(v *Vars) httpserver.Proxies {
	const name = "TRUSTED_PROXIES"
	p, err := httpserver.ParseProxies(v.String(name, "",
		"the reverse proxies' networks, comma-separated CIDR (10.0.0.0/8,192.0.2.7): only from them are X-Forwarded-For and Forwarded believed; unset: nobody's"))
	if err != nil {
		v.Bad(name, "%v", err)
	}
	return p
}

// Brand is the cloud's name in emails and pages: BRAND.
func Brand(v *Vars) string {
	b := v.String("BRAND", DefaultBrand, "the cloud's name in the email subject and on pages")
	if strings.ContainsAny(b, "\r\n") || len(b) > 60 {
		v.Bad("BRAND", "want one line of at most 60 characters")
	}
	return b
}

// TaskQueue is the onboarding workflows' task queue: TASK_QUEUE.
func TaskQueue(v *Vars) string {
	return v.String("TASK_QUEUE", DefaultTaskQueue, "the task queue of the onboarding and customer workflows")
}

// Launch is what a new onboarding is launched with, and a suspension by
// default: the starter and the portal launch, and each onboarding keeps
// the settings in force at its launch.
type Launch struct {
	TaskQueue        string
	ConfirmWithin    time.Duration
	ResendAfter      time.Duration
	MaxSends         int
	SuspendRetention time.Duration
}

// LoadLaunch reads TASK_QUEUE, CONFIRM_WITHIN, RESEND_MIN_INTERVAL,
// RESEND_MAX and SUSPEND_RETENTION.
func LoadLaunch(v *Vars) Launch {
	return Launch{
		TaskQueue:     TaskQueue(v),
		ConfirmWithin: v.Duration("CONFIRM_WITHIN", domain.DefaultConfirmWithin, time.Second, domain.MaxConfirmWithin, "how long a customer has to confirm, unless the launch says otherwise"),
		ResendAfter:   v.Duration("RESEND_MIN_INTERVAL", domain.DefaultResendAfter, 0, 24*time.Hour, "the shortest gap between two confirmation emails (fixed into each onboarding at launch)"),
		MaxSends:      v.Int("RESEND_MAX", domain.DefaultMaxSends, 1, 100, "the most confirmation emails one onboarding sends, the first included (fixed at launch)"),
		SuspendRetention: v.Duration("SUSPEND_RETENTION", domain.DefaultRetention, time.Second, domain.MaxRetention,
			"how long a suspended customer's data is kept when a suspension does not say"),
	}
}
