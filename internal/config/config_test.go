package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/httpserver"
)

func env(vars map[string]string) Getenv { return func(k string) string { return vars[k] } }

// shared loads every section the binaries share.
type shared struct {
	log      Log
	temporal Temporal
	postgres Postgres
	smtp     SMTP
	links    Links
	tracing  Tracing
	launch   Launch
	brand    string
	proxies  httpserver.Proxies
}

func loadShared(vars map[string]string) (shared, *Vars) {
	v := New(env(vars))
	return shared{LoadLog(v), LoadTemporal(v), LoadPostgres(v), LoadSMTP(v), LoadLinks(v), LoadTracing(v), LoadLaunch(v), Brand(v), TrustedProxies(v)}, v
}

func TestDefaults(t *testing.T) {
	c, v := loadShared(nil)
	require.NoError(t, v.Err())
	require.Equal(t, DefaultDatabaseURL, c.postgres.URL)
	require.Equal(t, 40, c.postgres.MaxConns)
	require.Equal(t, "auto", c.postgres.Migrate, "every binary migrates at start unless told otherwise")
	require.Equal(t, "127.0.0.1:7233", c.temporal.Options.HostPort)
	require.Equal(t, "default", c.temporal.Options.Namespace)
	require.Equal(t, 7*24*time.Hour, c.launch.ConfirmWithin)
	require.Equal(t, 60*time.Second, c.launch.ResendAfter)
	require.Equal(t, 5, c.launch.MaxSends)
	require.Equal(t, 60*24*time.Hour, c.launch.SuspendRetention)
	require.Equal(t, DefaultTaskQueue, c.launch.TaskQueue)
	require.Equal(t, "cloud.example", c.smtp.MailHost())
	require.Equal(t, "http://127.0.0.1:8088", c.links.PublicURL)
	require.Equal(t, DevSecret, string(c.links.Secret))
	require.Equal(t, "dev-1", c.temporal.Codec.Primary())
	require.NotNil(t, c.temporal.Options.DataConverter, "every client encrypts payloads")
	require.NotNil(t, c.temporal.Options.FailureConverter)
	require.False(t, c.log.JSON)
	require.Equal(t, DefaultBrand, c.brand)
	require.Empty(t, c.proxies, "no proxy is trusted unless named")
	require.False(t, v.Production)
}

// The links point where the webhook listens unless PUBLIC_BASE_URL says otherwise.
func TestPublicURLFollowsTheWebhookAddress(t *testing.T) {
	c, v := loadShared(map[string]string{"WEBHOOK_ADDR": "127.0.0.1:9099"})
	require.NoError(t, v.Err())
	require.Equal(t, "http://127.0.0.1:9099", c.links.PublicURL)
	c, v = loadShared(map[string]string{"WEBHOOK_ADDR": "0.0.0.0:9099", "PUBLIC_BASE_URL": "https://onboard.example.com/"})
	require.NoError(t, v.Err())
	require.Equal(t, "https://onboard.example.com", c.links.PublicURL)
}

func TestTemporalSettingsFollowTheSDK(t *testing.T) {
	c, v := loadShared(map[string]string{"TEMPORAL_ADDRESS": "ns.acct.tmprl.cloud:7233", "TEMPORAL_NAMESPACE": "ns.acct", "TEMPORAL_API_KEY": "k"})
	require.NoError(t, v.Err())
	require.Equal(t, "ns.acct.tmprl.cloud:7233", c.temporal.Options.HostPort)
	require.Equal(t, "ns.acct", c.temporal.Options.Namespace)
	require.NotNil(t, c.temporal.Options.Credentials, "an API key becomes client credentials")
}

func TestEveryErrorNamesTheVariable(t *testing.T) {
	cases := map[string]map[string]string{
		"DATABASE_URL: not a postgres:// URL":                           {"DATABASE_URL": "mysql://db/x"},
		"DB_MAX_CONNS: want a whole number":                             {"DB_MAX_CONNS": "0"},
		`DB_MIGRATE: want auto or check or off, got "always"`:           {"DB_MIGRATE": "always"},
		"SMTP_ADDR: not a host:port":                                    {"SMTP_ADDR": "mailhost"},
		"PUBLIC_BASE_URL: not an http(s) URL":                           {"PUBLIC_BASE_URL": "ftp://x"},
		"ONBOARDING_SECRET: want at least 32":                           {"ONBOARDING_SECRET": "short"},
		"CONFIRM_WITHIN: want a duration from 1s to 8760h such as 168h": {"CONFIRM_WITHIN": "soon"},
		"CONFIRM_WITHIN: want a duration from 1s":                       {"CONFIRM_WITHIN": "9000h"},
		"CONFIRM_WITHIN: want a duration from 1s ":                      {"CONFIRM_WITHIN": "0s"},
		"RESEND_MAX: want a whole number":                               {"RESEND_MAX": "0"},
		"SMTP_TLS: want true or false":                                  {"SMTP_TLS": "maybe"},
		"LOG_FORMAT: want text or json":                                 {"LOG_FORMAT": "xml"},
		"ONBOARDING_ENV: want development or production":                {"ONBOARDING_ENV": "staging"},
		"SMTP_FROM: not an email address":                               {"SMTP_FROM": "nobody"},
		"SUSPEND_RETENTION: want a duration from 1s to 1440h":           {"SUSPEND_RETENTION": "1441h"},
		"SUSPEND_RETENTION: want a duration":                            {"SUSPEND_RETENTION": "forever"},
		"PAYLOAD_KEYS: key":                                             {"PAYLOAD_KEYS": "k1:short"},
		"BRAND: want one line":                                          {"BRAND": "two\nlines"},
		"TEMPORAL_*: invalid TLS config":                                {"TEMPORAL_TLS_CLIENT_CERT_PATH": "/no/such/cert.pem"},
		"TEMPORAL_TLS: want true or false":                              {"TEMPORAL_TLS": "sometimes"},
		"OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL":               {"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"},
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: not an http(s) URL":        {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "grpc://collector"},
		"OTEL_EXPORTER_OTLP_PROTOCOL: only grpc":                        {"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"},
		"OTEL_SDK_DISABLED: want true or false":                         {"OTEL_SDK_DISABLED": "yes please"},
		`TRUSTED_PROXIES: "10.0.0.0/33" is neither a network`:           {"TRUSTED_PROXIES": "10.0.0.0/33"},
		"TRUSTED_PROXIES: ::/0 trusts every address":                    {"TRUSTED_PROXIES": "::/0"},
	}
	for want, vars := range cases {
		t.Run(want, func(t *testing.T) {
			_, v := loadShared(vars)
			require.ErrorContains(t, v.Err(), want)
		})
	}
}

// Tracing is off unless the OpenTelemetry SDK's standard variables name a
// collector; the traces-only endpoint wins over the general one.
func TestTracingFollowsTheOpenTelemetryVariables(t *testing.T) {
	for _, tc := range []struct {
		vars           map[string]string
		endpoint, name string
	}{
		{nil, "", ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_SERVICE_NAME": "onboarding-worker-eu"}, "http://127.0.0.1:4317", "onboarding-worker-eu"},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://b:4317"}, "https://b:4317", ""},
		{map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:4317", "OTEL_SDK_DISABLED": "true"}, "", ""}, // disabled: off
	} {
		c, v := loadShared(tc.vars)
		require.NoError(t, v.Err())
		require.Equal(t, tc.endpoint, c.tracing.Endpoint, "%v", tc.vars)
		require.Equal(t, tc.name, c.tracing.ServiceName)
	}
}

func TestProductionRefusesDevelopmentSecrets(t *testing.T) {
	_, v := loadShared(map[string]string{"ONBOARDING_ENV": "production"})
	require.ErrorContains(t, v.Err(), "ONBOARDING_SECRET: required in production")
	require.ErrorContains(t, v.Err(), "PAYLOAD_KEYS: required in production")
	_, v = loadShared(map[string]string{"ONBOARDING_ENV": "production", "ONBOARDING_SECRET": DevSecret, "PAYLOAD_KEYS": DevPayloadKey})
	require.ErrorContains(t, v.Err(), "ONBOARDING_SECRET: the development value is refused in production")
	require.ErrorContains(t, v.Err(), "PAYLOAD_KEYS: the development key is refused in production")
	require.True(t, v.Production)
}

// The usage lists each variable once, with its default, and hides secrets.
func TestUsageListsWhatIsRead(t *testing.T) {
	_, v := loadShared(nil)
	var out strings.Builder
	v.Usage(&out, "test", "What it is.")
	for _, want := range []string{"Usage: test", "What it is.", "DATABASE_URL", "[" + DefaultDatabaseURL + "]", "ONBOARDING_SECRET", "[a development value]", "TEMPORAL_ADDRESS"} {
		require.Contains(t, out.String(), want)
	}
	require.NotContains(t, out.String(), DevSecret, "a secret's value is never shown")
	seen := map[string]int{}
	for _, x := range v.Declared() {
		seen[x.Name]++
		require.NotEmpty(t, x.Doc, "%s has no meaning", x.Name)
	}
	for name, n := range seen {
		require.Equal(t, 1, n, "%s is declared %d times", name, n)
	}
}

func TestHelp(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		done  bool
		err   string
		usage bool
	}{{nil, false, "", false}, {[]string{"-h"}, true, "", true}, {[]string{"--help"}, true, "", true}, {[]string{"-help"}, true, "", true},
		{[]string{"serve"}, true, `unexpected argument "serve": the settings come from the environment (see worker -h)`, false},
		{[]string{"-h", "x"}, true, `unexpected argument "-h"`, false}} {
		v := New(func(string) string { return "" })
		LoadLog(v)
		var out strings.Builder
		done, err := v.Help(tc.args, &out, "worker", "Runs things.")
		require.Equal(t, tc.done, done, "%v", tc.args)
		if tc.err == "" {
			require.NoError(t, err, "%v", tc.args)
		} else {
			require.ErrorContains(t, err, tc.err, "%v", tc.args)
		}
		if tc.usage {
			require.Contains(t, out.String(), "Usage: worker\n\nRuns things.\n")
			require.Contains(t, out.String(), "LOG_FORMAT")
		} else {
			require.Empty(t, out.String(), "%v: nothing on stdout", tc.args)
		}
	}
}
