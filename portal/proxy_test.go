package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
)

// forwarding sends every request with a forwarding header, as a client
// claiming another address, or a proxy naming its client, does.
type forwarding struct{ header, value string }

func (f forwarding) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(f.header, f.value)
	return http.DefaultTransport.RoundTrip(r)
}

// recordedVia signs the owner in, then creates an API key with an API
// key, each request carrying the forwarding header, and returns the
// addresses recorded: the session's, and in the audit the sign-in's and
// the API call's.
func (w *world) recordedVia(f forwarding) (session, signIn, apiCall string) {
	w.t.Helper()
	db := w.st.DB()
	var mark int64
	if err := db.Get(&mark, `SELECT coalesce(max(id), 0) FROM audit_events`); err != nil {
		w.t.Fatal(err)
	}
	b := w.anonymous()
	b.hc.Transport = f
	b.signIn("owner@acme.example")
	if err := db.Get(&session, `SELECT addr FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, b.creds().cookie); err != nil {
		w.t.Fatal(err)
	}
	req := w.request(http.MethodPost, "/api/v1/api-keys", creds{key: w.key(w.acme, domain.StaffOwner).Secret},
		map[string]string{"name": "made through a proxy", "role": "viewer"})
	req.Header.Set(f.header, f.value)
	expect(w.t, w.send(req), http.StatusCreated)
	last := func(action string, addr *string) {
		// The latest: w.key's own creation is audited too, from no address.
		if err := db.Get(addr, `SELECT addr FROM audit_events WHERE id > $1 AND partner_id = $2 AND action = $3 ORDER BY id DESC LIMIT 1`,
			mark, w.acme, action); err != nil {
			w.t.Fatalf("the audit's %q: %v", action, err)
		}
	}
	last("sign in", &signIn)
	last("create API key", &apiCall)
	return session, signIn, apiCall
}

// TestSpoofedForwardingIsNotRecorded: with no trusted proxy (the default),
// an address claimed in X-Forwarded-For or Forwarded is recorded nowhere:
// the session, the audit and the request log hold the real peer.
func TestSpoofedForwardingIsNotRecorded(t *testing.T) {
	w := newWorld(t, nil)
	for _, spoof := range []forwarding{{"X-Forwarded-For", "203.0.113.1"}, {"Forwarded", `for="[2001:db8::1]:4711"`}} {
		session, signIn, apiCall := w.recordedVia(spoof)
		for what, addr := range map[string]string{"session": session, "sign-in": signIn, "API call": apiCall} {
			if addr != "127.0.0.1" {
				t.Errorf("with %s: %s the %s is recorded from %q, want the peer 127.0.0.1", spoof.header, spoof.value, what, addr)
			}
		}
	}
	if logs := w.logs.String(); strings.Contains(logs, "203.0.113.1") || strings.Contains(logs, "2001:db8::1") {
		t.Errorf("the portal's log names a spoofed address:\n%s", stack.Tail(logs, 3000))
	}
}

// TestTrustedProxyNamesTheClient: behind a trusted proxy (the test's
// loopback), the client it names in either header is what is recorded,
// and a client's own entries left of it are not.
func TestTrustedProxyNamesTheClient(t *testing.T) {
	w := newWorld(t, map[string]string{"TRUSTED_PROXIES": "127.0.0.1,::1"})
	for _, tc := range []struct {
		via    forwarding
		client string
	}{
		{forwarding{"X-Forwarded-For", "203.0.113.1"}, "203.0.113.1"},
		{forwarding{"X-Forwarded-For", "6.6.6.6, 203.0.113.2"}, "203.0.113.2"},
		{forwarding{"Forwarded", `for="[2001:db8::7]:4711";proto=https`}, "2001:db8::7"},
	} {
		session, signIn, apiCall := w.recordedVia(tc.via)
		for what, addr := range map[string]string{"session": session, "sign-in": signIn, "API call": apiCall} {
			if addr != tc.client {
				t.Errorf("with %s: %s the %s is recorded from %q, want %s", tc.via.header, tc.via.value, what, addr, tc.client)
			}
		}
		if !strings.Contains(w.logs.String(), "client="+tc.client) {
			t.Errorf("the portal's log does not name the client %s", tc.client)
		}
	}
}
