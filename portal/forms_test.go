package main

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/stack"
)

// badForm is a submission a form refuses, and what follows: the page the
// browser is sent to, what its error line says, the field it marks and a
// value typed that the form shows again.
type badForm struct {
	on    string // whose {id}: "waiting" or "active", a customer; "me", the owner
	body  url.Values
	to    string // the page's path, {id} for the id
	says  string
	field string // the id of the field's error, "" when none
	kept  string
}

// badForms holds a refused submission of every form of the pages, by
// route; noFormError the forms that only who may send them refuses
// (another role, another partner's id: a problem page, nothing changed).
var (
	badForms = map[string]badForm{
		"POST /customers": {body: url.Values{"name": {"Bad Form Co"}, "email": {"not-an-email"}, "cloud": {"Bad!"}}, to: "/customers/new",
			says: "please correct what is marked below", field: "email-error", kept: "Bad Form Co"},
		"POST /customers/{id}/edit":    {on: "waiting", body: url.Values{"email": {"still-not-an-email"}}, to: "/customers/{id}", says: "please correct", field: "edit-email-error", kept: "still-not-an-email"},
		"POST /customers/{id}/resend":  {on: "waiting", to: "/customers/{id}", says: "Too soon"},
		"POST /customers/{id}/link":    {on: "active", to: "/customers/{id}", says: "already confirmed"},
		"POST /customers/{id}/delete":  {on: "active", to: "/customers/{id}", says: "already confirmed"},
		"POST /customers/{id}/clouds":  {on: "active", body: url.Values{"name": {"Bad Cloud!"}}, to: "/customers/{id}", says: "please correct", field: "cloud-error", kept: "Bad Cloud!"},
		"POST /customers/{id}/suspend": {on: "active", body: url.Values{"reason": {"kept reason"}, "retention": {"9999h"}}, to: "/customers/{id}", says: "please correct", field: "retention-error", kept: "kept reason"},
		"POST /customers/{id}/resume":  {on: "waiting", to: "/customers/{id}", says: "not active yet"},
		"POST /staff":                  {body: url.Values{"email": {"no-at-sign"}, "role": {"viewer"}}, to: "/staff", says: "please correct", field: "staff-email-error", kept: "no-at-sign"},
		"POST /staff/{id}":             {on: "me", body: url.Values{"role": {"viewer"}}, to: "/staff", says: "last owner"},
		"POST /staff/{id}/remove":      {on: "me", to: "/staff", says: "last owner"},
		"POST /api-keys":               {body: url.Values{"name": {" "}, "role": {"viewer"}}, to: "/api-keys", says: "please correct", field: "key-name-error"},
	}
	noFormError = map[string]bool{"POST /logout": true, "POST /api-keys/{id}/revoke": true}
)

var (
	errorLine = regexp.MustCompile(`id="error" role="alert">([^<]*)`)
	// code is what a developer reads and a partner should not: a status,
	// stage or outcome code, an onboarding id.
	code = regexp.MustCompile(`\b[A-Z][A-Z_]{3,}\b|onboarding/`)
)

// TestFormsAnswerWithARedirect: every form of the pages, sent with what
// it refuses, answers 303 to a page (never a page at the form's own POST
// address, which a reload would send again); that page says why in one
// line a partner reads, marks the field and shows again what was typed;
// its reload says it no more. Nothing changed.
func TestFormsAnswerWithARedirect(t *testing.T) {
	sc := newScene(t, map[string]string{"RESEND_MIN_INTERVAL": "1h"})
	// The scene's customer has a resend waiting: refused otherwise.
	waiting, active := sc.launch(sc.acme, "Waiting Form Co"), sc.launch(sc.acme, "Active Form Co")
	sc.confirm(active.ID)
	var me string
	if err := sc.st.DB().Get(&me, `SELECT id FROM staff WHERE email = 'owner@acme.example'`); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{"waiting": waiting.ID, "active": active.ID, "me": me}
	before := sc.snapshot()
	for _, g := range guardedRoutes(t) {
		if g.api() || !g.changes() || noFormError[g.pattern] {
			continue
		}
		bad, ok := badForms[g.pattern]
		if !ok {
			t.Errorf("%s: no refused submission in badForms: say what the form refuses, and this test checks its answer", g.pattern)
			continue
		}
		t.Run(strings.ReplaceAll(g.pattern, "/", "_"), func(t *testing.T) {
			id := ids[bad.on]
			to := strings.ReplaceAll(bad.to, "{id}", id)
			a := sc.send(sc.request(g.method, g.at(id), sc.asOwner, bad.body))
			if loc := a.header.Get("Location"); a.status != http.StatusSeeOther || loc != to {
				t.Fatalf("%d to %q, want 303 to %s:\n%s", a.status, loc, to, stack.Tail(a.body, 1500))
			}
			page := sc.send(sc.request(http.MethodGet, to, sc.asOwner, nil))
			m := errorLine.FindStringSubmatch(page.body)
			switch {
			case page.status != http.StatusOK || m == nil:
				t.Fatalf("%s: %d without an error line:\n%s", to, page.status, stack.Tail(page.body, 3000))
			case !strings.Contains(m[1], bad.says) || !strings.HasSuffix(strings.TrimSpace(html.UnescapeString(m[1])), "."):
				t.Errorf("the error line says %q, want a sentence saying %q", m[1], bad.says)
			case code.MatchString(m[1]):
				t.Errorf("the error line speaks in codes: %q", m[1])
			}
			t.Logf("%s says: %s", to, m[1])
			if bad.field != "" && !strings.Contains(page.body, `id="`+bad.field+`"`) {
				t.Errorf("the field's error %s is not shown:\n%s", bad.field, stack.Tail(page.body, 3000))
			}
			if bad.kept != "" && !strings.Contains(page.body, `value="`+html.EscapeString(bad.kept)+`"`) {
				t.Errorf("the form does not show %q again:\n%s", bad.kept, stack.Tail(page.body, 3000))
			}
			if again := sc.send(sc.request(http.MethodGet, to, sc.asOwner, nil)); errorLine.MatchString(again.body) {
				t.Errorf("a reload of %s says the error again", to)
			}
		})
	}
	sc.unchanged(before)
}
