package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// postVia submits the confirm form with a malformed token (refused, and
// counted by the rate limit) and a forwarding header.
func (e *env) postVia(t *testing.T, header, value string) answer {
	t.Helper()
	h := map[string]string{}
	if header != "" {
		h[header] = value
	}
	return e.submit(t, url.Values{"token": {"bad"}}, h)
}

// TestSpoofedForwardingChangesNothing: with no trusted proxy (the
// default), X-Forwarded-For and Forwarded are ignored: a client that has
// used up its rate limit is still limited whatever address it claims, and
// the log names its real address.
func TestSpoofedForwardingChangesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"WEBHOOK_RATE": "0.01", "WEBHOOK_BURST": "2"})
	expect(t, e.postVia(t, "X-Forwarded-For", "203.0.113.1"), http.StatusBadRequest, pageMalformed)
	expect(t, e.postVia(t, "Forwarded", "for=203.0.113.1"), http.StatusBadRequest, pageMalformed)
	for _, spoof := range []struct{ header, value string }{
		{"X-Forwarded-For", "203.0.113.2"},
		{"X-Forwarded-For", "203.0.113.3, 198.51.100.3"},
		{"Forwarded", "for=203.0.113.4"},
		{"Forwarded", `for="[2001:db8::5]:4711"`},
		{"", ""},
	} {
		expect(t, e.postVia(t, spoof.header, spoof.value), http.StatusTooManyRequests, pageTooMany)
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "client=127.0.0.1") || strings.Contains(logs, "203.0.113.") || strings.Contains(logs, "2001:db8::5") {
		t.Errorf("the log does not name the real peer alone:\n%s", logs)
	}
}

// TestTrustedProxyForwardsClients: behind a trusted proxy (the test's
// loopback), the clients it forwards have limits of their own, a client's
// spoofed entries left of what the proxy appended change nothing, and the
// log names the client.
func TestTrustedProxyForwardsClients(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"WEBHOOK_RATE": "0.01", "WEBHOOK_BURST": "2", "TRUSTED_PROXIES": "127.0.0.1,::1"})
	const a, b = "203.0.113.1", "203.0.113.2"
	for range 2 {
		expect(t, e.postVia(t, "X-Forwarded-For", a), http.StatusBadRequest, pageMalformed)
	}
	expect(t, e.postVia(t, "X-Forwarded-For", a), http.StatusTooManyRequests, pageTooMany)
	expect(t, e.postVia(t, "Forwarded", "for="+a), http.StatusTooManyRequests, pageTooMany)
	// The client claims to be b; the proxy appends who it is.
	expect(t, e.postVia(t, "X-Forwarded-For", b+", "+a), http.StatusTooManyRequests, pageTooMany)
	// Other clients, through either header, and the proxy itself.
	expect(t, e.postVia(t, "X-Forwarded-For", b), http.StatusBadRequest, pageMalformed)
	expect(t, e.postVia(t, "Forwarded", `for="[2001:db8::c]:4711";proto=https`), http.StatusBadRequest, pageMalformed)
	expect(t, e.postVia(t, "", ""), http.StatusBadRequest, pageMalformed)
	logs := e.logs.String()
	for _, client := range []string{a, b, "2001:db8::c"} {
		if !strings.Contains(logs, "client="+client) {
			t.Errorf("the log does not name the forwarded client %s:\n%s", client, logs)
		}
	}
}
