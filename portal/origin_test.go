package main

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// TestSameOriginIsAccepted: what the browser says is the portal's own
// page (Sec-Fetch-Site same-origin, the public Origin behind a proxy that
// changes the Host) is let through to the session's token; a client that
// is no browser (none of the headers) is judged by the token alone; an API
// key needs neither.
func TestSameOriginIsAccepted(t *testing.T) {
	w := newWorld(t, nil)
	owner := w.signIn("owner@acme.example").creds()
	noToken := creds{cookie: owner.cookie}
	form := func(c creds) *http.Request {
		return w.request(http.MethodPost, "/api-keys", c, url.Values{"name": {"same origin"}, "role": {domain.StaffViewer}})
	}
	call := func(c creds) *http.Request {
		return w.request(http.MethodPost, "/api/v1/api-keys", c, map[string]string{"name": "same origin", "role": domain.StaffViewer})
	}
	sameOrigin := func(h http.Header) { h.Set("Sec-Fetch-Site", "same-origin") }
	noBrowser := func(h http.Header) { h.Del("Origin") }
	for _, tc := range []struct {
		name   string
		req    *http.Request
		tweak  func(*http.Request)
		status int
	}{
		{"a form, Sec-Fetch-Site same-origin", form(owner), func(r *http.Request) { sameOrigin(r.Header) }, http.StatusSeeOther},
		{"a form, Sec-Fetch-Site same-origin and no Origin", form(owner), func(r *http.Request) { sameOrigin(r.Header); noBrowser(r.Header) }, http.StatusSeeOther},
		{"a form from no browser, with the token", form(owner), func(r *http.Request) { noBrowser(r.Header) }, http.StatusSeeOther},
		{"a form from no browser, without the token", form(noToken), func(r *http.Request) { noBrowser(r.Header) }, http.StatusForbidden},
		{"a form, Sec-Fetch-Site same-origin, without the token", form(noToken), func(r *http.Request) { sameOrigin(r.Header) }, http.StatusForbidden},
		{"a form through a proxy that changes the Host", form(owner), func(r *http.Request) { r.Host = "portal.internal:8090" }, http.StatusSeeOther},
		{"a call, Sec-Fetch-Site same-origin", call(owner), func(r *http.Request) { sameOrigin(r.Header) }, http.StatusCreated},
		{"a call from no browser, with the token", call(owner), func(r *http.Request) { noBrowser(r.Header) }, http.StatusCreated},
		{"a call from no browser, without the token", call(noToken), func(r *http.Request) { noBrowser(r.Header) }, http.StatusForbidden},
		{"a call with an API key", call(creds{key: w.key(w.acme, domain.StaffOwner).Secret}), func(r *http.Request) { noBrowser(r.Header) }, http.StatusCreated},
	} {
		tc.tweak(tc.req)
		a := w.send(tc.req)
		if tc.status == http.StatusForbidden {
			refused(t, tc.name, a, tc.req.URL.Path != "/api-keys", http.StatusForbidden, "cross_site")
			continue
		}
		expect(t, a, tc.status)
	}
}
