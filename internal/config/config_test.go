package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(vars map[string]string) Getenv { return func(k string) string { return vars[k] } }

func TestDefaults(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, DefaultDatabaseURL, c.DatabaseURL)
	require.Equal(t, "127.0.0.1:7233", c.Temporal.HostPort)
	require.Equal(t, "default", c.Temporal.Namespace)
	require.Equal(t, 7*24*time.Hour, c.ConfirmWithin)
	require.Equal(t, 60*time.Second, c.ResendAfter)
	require.Equal(t, 5, c.MaxSends)
	require.Equal(t, "cloud.example", c.MailHost())
	require.Equal(t, "http://127.0.0.1:8088", c.PublicURL)
	require.Equal(t, DefaultTaskQueue, c.TaskQueue)
	require.Equal(t, float64(DefaultWebhookRate), c.WebhookRate)
	require.Equal(t, DefaultWebhookBurst, c.WebhookBurst)
	require.Equal(t, 60*24*time.Hour, c.SuspendRetention)
	require.Equal(t, "dev-1", c.Codec.Primary())
	require.NotNil(t, c.Temporal.DataConverter, "every client encrypts payloads")
	require.NotNil(t, c.Temporal.FailureConverter)
}

// The links point where the webhook listens unless PUBLIC_BASE_URL says otherwise.
func TestPublicURLFollowsTheWebhookAddress(t *testing.T) {
	c, err := Load(env(map[string]string{"WEBHOOK_ADDR": "127.0.0.1:9099"}))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9099", c.PublicURL)
	c, err = Load(env(map[string]string{"WEBHOOK_ADDR": "0.0.0.0:9099", "PUBLIC_BASE_URL": "https://onboard.example.com/"}))
	require.NoError(t, err)
	require.Equal(t, "https://onboard.example.com", c.PublicURL)
}

func TestWebhookLimits(t *testing.T) {
	c, err := Load(env(map[string]string{"WEBHOOK_RATE": "0.5", "WEBHOOK_BURST": "3"}))
	require.NoError(t, err)
	require.Equal(t, 0.5, c.WebhookRate)
	require.Equal(t, 3, c.WebhookBurst)
	for _, bad := range []map[string]string{
		{"WEBHOOK_RATE": "0"}, {"WEBHOOK_RATE": "fast"}, {"WEBHOOK_RATE": "NaN"}, {"WEBHOOK_RATE": "+Inf"},
		{"WEBHOOK_BURST": "0"}, {"WEBHOOK_BURST": "1.5"},
	} {
		_, err := Load(env(bad))
		for name := range bad {
			require.ErrorContains(t, err, name+": want")
		}
	}
}

func TestTemporalSettingsFollowTheSDK(t *testing.T) {
	c, err := Load(env(map[string]string{"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "ns.acct", "TEMPORAL_API_KEY": "k"}))
	require.NoError(t, err)
	require.Equal(t, "ns.acct.tmprl.cloud:7233", c.Temporal.HostPort)
	require.Equal(t, "ns.acct", c.Temporal.Namespace)
	require.NotNil(t, c.Temporal.Credentials, "an API key becomes client credentials")
}

func TestEveryErrorNamesTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"DATABASE_URL: not a postgres:// URL":                    {"DATABASE_URL": "mysql://db/x"},
		"SMTP_ADDR: not a host:port":                             {"SMTP_ADDR": "mailhost"},
		"PUBLIC_BASE_URL: not an http(s) URL":                    {"PUBLIC_BASE_URL": "ftp://x"},
		"ONBOARDING_SECRET: want at least 32":                    {"ONBOARDING_SECRET": "short"},
		"CONFIRM_WITHIN: want a duration":                        {"CONFIRM_WITHIN": "soon"},
		"RESEND_MAX: want a whole number":                        {"RESEND_MAX": "0"},
		"SMTP_TLS: want true or false":                           {"SMTP_TLS": "maybe"},
		"LOG_FORMAT: want text or json":                          {"LOG_FORMAT": "xml"},
		"SMTP_FROM: not an email address":                        {"SMTP_FROM": "nobody"},
		"WORKFLOW_CACHE_SIZE: want a whole":                      {"WORKFLOW_CACHE_SIZE": "-1"},
		"WORKFLOW_POLLERS: want a whole number from 1 to 256":    {"WORKFLOW_POLLERS": "0"},
		"ACTIVITY_POLLERS: want a whole number from 1 to 256":    {"ACTIVITY_POLLERS": "many"},
		"DB_MAX_CONNS: want a whole number":                      {"DB_MAX_CONNS": "0"},
		"CONFIRM_WITHIN: want at most":                           {"CONFIRM_WITHIN": "9000h"},
		"SUSPEND_RETENTION: want at most":                        {"SUSPEND_RETENTION": "1441h"},
		"PAYLOAD_KEYS: key":                                      {"PAYLOAD_KEYS": "k1:short"},
		"SUSPEND_RETENTION: want a duration":                     {"SUSPEND_RETENTION": "forever"},
		"WEBHOOK_RATE: want POSTs per second":                    {"WEBHOOK_RATE": "0"},
		"WEBHOOK_BURST: want a whole number":                     {"WEBHOOK_BURST": "lots"},
		"WEBHOOK_ADDR: not a host:port":                          {"WEBHOOK_ADDR": "8088"},
		"PORTAL_ADDR: not a host:port":                           {"PORTAL_ADDR": "portal"},
		"PORTAL_PUBLIC_URL: not an http(s)":                      {"PORTAL_PUBLIC_URL": "https://x.example/portal"},
		"OIDC_ISSUER: not an http(s) URL":                        {"OIDC_ISSUER": "id.example.com"},
		"SESSION_IDLE: want at most":                             {"SESSION_IDLE": "24h", "SESSION_MAX": "1h"},
		"SESSION_MAX: want a duration":                           {"SESSION_MAX": "1s"},
		"OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL":        {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"},
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: not an http(s) URL": {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://collector"},
		"OTEL_EXPORTER_OTLP_PROTOCOL: only grpc":                 {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
	}
	for want, vars := range cases {
		t.Run(want, func(t *testing.T) {
			_, err := Load(env(vars))
			require.ErrorContains(t, err, want)
		})
	}
}

// The scaling settings: the SDK's poller default unless set, and each
// binary's Postgres pool.
func TestScalingSettings(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, [3]int{2, 2, 40}, [3]int{c.WorkflowPollers, c.ActivityPollers, c.DBMaxConns})
	c, err = Load(env(map[string]string{"WORKFLOW_POLLERS": "8", "ACTIVITY_POLLERS": "16", "DB_MAX_CONNS": "20"}))
	require.NoError(t, err)
	require.Equal(t, [3]int{8, 16, 20}, [3]int{c.WorkflowPollers, c.ActivityPollers, c.DBMaxConns})
}

// Tracing is off unless the OpenTelemetry SDK's standard variables name a
// collector; the traces-only endpoint wins over the general one.
func TestTracingFollowsTheOpenTelemetryVariables(t *testing.T) {
	c, err := Load(env(nil))
	require.NoError(t, err)
	require.Empty(t, c.OTLPEndpoint)
	require.Empty(t, c.ServiceName)
	c, err = Load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_SERVICE_NAME": "onboarding-worker-eu"}))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:4317", c.OTLPEndpoint)
	require.Equal(t, "onboarding-worker-eu", c.ServiceName)
	c, err = Load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b:4317"}))
	require.NoError(t, err)
	require.Equal(t, "https://b:4317", c.OTLPEndpoint)
	c, err = Load(env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_SDK_DISABLED": "true"}))
	require.NoError(t, err)
	require.Empty(t, c.OTLPEndpoint, "OTEL_SDK_DISABLED turns tracing off")
}

func TestProductionRefusesDevelopmentSecrets(t *testing.T) {
	_, err := Load(env(map[string]string{"ONBOARDING_ENV": "production"}))
	require.ErrorContains(t, err, "ONBOARDING_SECRET")
	require.ErrorContains(t, err, "LOGIN_HOOK_SECRET")
	require.ErrorContains(t, err, "OIDC_CLIENT_SECRET")
	require.ErrorContains(t, err, "PAYLOAD_KEYS: required in production")
	_, err = Load(env(map[string]string{"ONBOARDING_ENV": "production", "PORTAL_PUBLIC_URL": "http://partners.example.com"}))
	require.ErrorContains(t, err, "PORTAL_PUBLIC_URL: want https in production")
}
