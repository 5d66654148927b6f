package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestDrainFinishesTheSignInInFlight: the real binary, sent SIGTERM while
// a person's login form is still uploading, fails /readyz at once, signs
// in a person who submits during DRAIN_DELAY, then stops taking
// connections, signs the first one in too (303 to the library's callback)
// and exits 0.
func TestDrainFinishesTheSignInInFlight(t *testing.T) {
	addr := freeAddr(t)
	const delay = 2 * time.Second
	proc := testenv.Start(t, "devidp", map[string]string{"DEVIDP_ADDR": addr, "DEVIDP_CLIENT_SECRET": testSecret, "DRAIN_DELAY": delay.String()})
	p := &idp{issuer: "http://" + addr}
	testenv.Eventually(t, 10*time.Second, "devidp's discovery", func() bool {
		resp, err := http.Get(p.issuer + "/.well-known/openid-configuration")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	r := newRP(t, p, portalClientID, testSecret, oauth2.AuthStyleInHeader)
	// Both login forms are opened before the signal: each person is
	// already on the page when the provider is told to stop.
	var forms []form
	for range 2 {
		f := newBrowser().get(t, r.start().authURL).form(t)
		f.fields.Set("username", "owner@acme.example")
		f.fields.Set("password", "demo-owner")
		forms = append(forms, f)
	}
	testenv.Drain{Proc: proc, Base: p.issuer, Delay: delay, Grace: delay + 5*time.Second,
		Request: func(i int) *http.Request {
			req, _ := http.NewRequest(forms[i].method, forms[i].action, strings.NewReader(forms[i].fields.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		},
		Check: func(tb testing.TB, i int, a testenv.Answer) {
			// Signed in: on to the library's callback, which issues the code.
			if loc := a.Header.Get("Location"); a.Status != http.StatusSeeOther || !strings.Contains(loc, "/authorize/callback?id=") {
				tb.Fatalf("sign-in #%d answered %d (Location %q) %q, want 303 to the authorization callback", i, a.Status, loc, a.Body)
			}
		},
	}.Run(t)
}
