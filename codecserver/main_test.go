package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cloudpartners/onboarding/deploy/kubernetes/kubetest"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

const token = "test-operator-token-0123456789"

// start runs the codec server through run, as main does.
func start(t *testing.T) string {
	t.Helper()
	addr := testenv.FreePort(t)
	vars := map[string]string{"CODEC_ADDR": addr, "CODEC_TOKEN": token, "CODEC_ALLOWED_ORIGINS": "http://127.0.0.1:8233"}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, func(k string) string { return vars[k] }, io.Discard, io.Discard) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })
	testenv.Eventually(t, 10*time.Second, "the codec server", func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	// The probes Kubernetes sends (deploy/kubernetes): both answer.
	resp, err := http.Get("http://" + addr + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	return "http://" + addr
}

// encrypted is a payload the project's clients write: encrypted with the development key.
func encrypted(t *testing.T, v any) []byte {
	t.Helper()
	p, err := config.LoadCodec(config.New(func(string) string { return "" })).DataConverter().ToPayload(v)
	require.NoError(t, err)
	b, err := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{p}})
	require.NoError(t, err)
	return b
}

func decode(t *testing.T, hc *http.Client, base string, body []byte, header http.Header) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, base+"/decode", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Namespace", "default")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestOnlyOperatorsDecode(t *testing.T) {
	base := start(t)
	body := encrypted(t, map[string]string{"email": "owner@acme.example"})
	require.NotContains(t, string(body), "owner@acme.example")
	hc := &http.Client{Timeout: 10 * time.Second}

	for name, h := range map[string]http.Header{
		"no credential": {},
		"wrong token":   {"Authorization": {"Bearer not-the-token-at-all"}},
		"not bearer":    {"Authorization": {"Basic " + token}},
		"forged cookie": {"Cookie": {cookieName + "=9999999999.00"}},
	} {
		code, got := decode(t, hc, base, body, h)
		require.Equal(t, http.StatusUnauthorized, code, name)
		require.NotContains(t, got, "owner@acme.example", name)
	}
	code, got := decode(t, hc, base, body, http.Header{"Authorization": {"Bearer " + token}})
	require.Equal(t, http.StatusOK, code)
	// The decoded payload is the JSON the client wrote, base64 in the protocol's JSON.
	var out commonpb.Payloads
	require.NoError(t, protojson.Unmarshal([]byte(got), &out))
	require.Contains(t, string(out.Payloads[0].Data), "owner@acme.example")

	// The Web UI's way: sign in on the page, then the cookie opens /decode.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	resp, err := browser.PostForm(base+"/login", url.Values{"token": {"wrong"}})
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, err = browser.PostForm(base+"/login", url.Values{"token": {token}})
	require.NoError(t, err)
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(page), "You are signed in")
	code, _ = decode(t, browser, base, body, nil)
	require.Equal(t, http.StatusOK, code)
	resp, err = browser.PostForm(base+"/logout", nil)
	require.NoError(t, err)
	resp.Body.Close()
	code, _ = decode(t, browser, base, body, nil)
	require.Equal(t, http.StatusUnauthorized, code, "signed out")
}

func TestCORS(t *testing.T) {
	base := start(t)
	hc := &http.Client{Timeout: 10 * time.Second}
	preflight := func(origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, base+"/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		resp, err := hc.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	ok := preflight("http://127.0.0.1:8233")
	require.Equal(t, http.StatusNoContent, ok.StatusCode)
	require.Equal(t, "http://127.0.0.1:8233", ok.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", ok.Header.Get("Access-Control-Allow-Credentials"))
	require.True(t, strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "X-Namespace"))
	evil := preflight("http://evil.example")
	require.Equal(t, http.StatusForbidden, evil.StatusCode)
	require.Empty(t, evil.Header.Get("Access-Control-Allow-Origin"))
}

func TestSessionsExpireAndFollowTheToken(t *testing.T) {
	now := time.Now()
	s := &server{token: token, now: func() time.Time { return now }}
	v := s.session(now.Add(time.Hour))
	require.True(t, s.validSession(v))
	now = now.Add(2 * time.Hour)
	require.False(t, s.validSession(v), "expired")
	now = now.Add(-2 * time.Hour)
	other := &server{token: token + "-rotated", now: s.now}
	require.False(t, other.validSession(v), "a new token ends every session")
	require.False(t, s.validSession("garbage"))
}

func TestSettings(t *testing.T) {
	load := func(vars map[string]string) (settings, error) {
		s, v := loadSettings(func(k string) string { return vars[k] })
		return s, v.Err()
	}
	prod := "ONBOARDING_ENV"
	_, err := load(map[string]string{prod: "production", "PAYLOAD_KEYS": "k1:" + strings.Repeat("A", 43) + "="})
	require.ErrorContains(t, err, "CODEC_TOKEN: required in production")
	_, err = load(map[string]string{prod: "production", "CODEC_TOKEN": devToken})
	require.ErrorContains(t, err, "CODEC_TOKEN: the development value is refused in production")
	_, err = load(map[string]string{"CODEC_TOKEN": "short"})
	require.ErrorContains(t, err, "CODEC_TOKEN: want at least 16 characters")
	s, err := load(nil)
	require.NoError(t, err)
	require.Equal(t, defaultAddr, s.addr)
	require.Equal(t, devToken, s.token)
	require.Equal(t, []string{"http://127.0.0.1:8233", "http://localhost:8233"}, s.origins)
}

// TestHelpListsTheSettings: -h prints every variable the codec server
// reads, as docs/configuration.md does, and nothing of a database; an
// argument is refused with nothing on stdout.
func TestHelpListsTheSettings(t *testing.T) {
	unset := func(string) string { return "" }
	var out strings.Builder
	require.NoError(t, run(t.Context(), []string{"-h"}, unset, &out, io.Discard))
	_, vars := loadSettings(unset)
	testenv.RequireDocumented(t, "codecserver", vars.Declared(), out.String())
	require.NotContains(t, out.String(), "DATABASE_URL", "the codec server needs no database")
	out.Reset()
	require.ErrorContains(t, run(t.Context(), []string{"extra"}, unset, &out, io.Discard), `unexpected argument "extra"`)
	require.Empty(t, out.String())
}

// TestManifestSettings: the codec server loads the settings every overlay of
// deploy/kubernetes gives it (production's once its placeholders are
// replaced, and not before).
func TestManifestSettings(t *testing.T) {
	kubetest.RequireSettings(t, "Deployment", "codecserver", func(getenv config.Getenv) *config.Vars { _, v := loadSettings(getenv); return v })
}
