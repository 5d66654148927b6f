package main

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// need is what a route asks of the signed-in actor's role.
type need int

const (
	anyone need = iota // any member of staff: signing out
	reader             // every role
	writer             // editors and owners
	admin              // owners: staff and API keys
)

// idKind is what a route's {id} names.
type idKind int

const (
	noID idKind = iota
	customerID
	staffID
	keyID
	requestID
)

// guard is how one route is guarded, with a body that would do the
// route's job were the request let through.
type guard struct {
	need need
	id   idKind
	body any // url.Values for a page, JSON for the API
}

// guards holds every route of the pages and of the API, by pattern: a
// route added to pageRoutes or api without an entry here fails every
// security test.
var guards = map[string]guard{
	"POST /logout":                 {need: anyone},
	"GET /{$}":                     {need: reader},
	"GET /customers":               {need: reader},
	"GET /customers/new":           {need: writer},
	"POST /customers":              {writer, noID, url.Values{"name": {"Guarded Co"}, "email": {"guarded@customer.example"}, "cloud": {"guarded-cloud"}}},
	"GET /customers/{id}":          {need: reader, id: customerID},
	"POST /customers/{id}/edit":    {writer, customerID, url.Values{"email": {"changed@customer.example"}, "contact": {"Changed"}}},
	"POST /customers/{id}/resend":  {need: writer, id: customerID},
	"POST /customers/{id}/link":    {need: writer, id: customerID},
	"GET /customers/{id}/delete":   {need: reader, id: customerID},
	"POST /customers/{id}/delete":  {need: writer, id: customerID},
	"POST /customers/{id}/clouds":  {writer, customerID, url.Values{"name": {"guarded-cloud-2"}}},
	"POST /customers/{id}/suspend": {writer, customerID, url.Values{"reason": {"guarded"}, "retention": {"720h"}}},
	"POST /customers/{id}/resume":  {need: writer, id: customerID},
	"GET /customers/{id}/audit":    {need: reader, id: customerID},
	"GET /audit":                   {need: reader},
	"GET /audit/export":            {need: reader},
	"GET /staff":                   {need: admin},
	"POST /staff":                  {admin, noID, url.Values{"email": {"guarded@acme.example"}, "role": {"owner"}, "personal_data": {"on"}}},
	"POST /staff/{id}":             {admin, staffID, url.Values{"role": {"owner"}, "personal_data": {"on"}}},
	"POST /staff/{id}/remove":      {need: admin, id: staffID},
	"GET /api-keys":                {need: admin},
	"POST /api-keys":               {admin, noID, url.Values{"name": {"guarded"}, "role": {"owner"}}},
	"POST /api-keys/{id}/revoke":   {need: admin, id: keyID},

	"GET /api/v1/me":                      {need: reader},
	"GET /api/v1/customers":               {need: reader},
	"POST /api/v1/customers":              {writer, noID, map[string]string{"name": "Guarded Co", "email": "guarded@customer.example", "cloud": "guarded-cloud"}},
	"GET /api/v1/customers/{id}":          {need: reader, id: customerID},
	"GET /api/v1/customers/{id}/progress": {need: reader, id: customerID},
	"PATCH /api/v1/customers/{id}":        {writer, customerID, map[string]string{"email": "changed@customer.example"}},
	"POST /api/v1/customers/{id}/resend":  {need: writer, id: customerID},
	"POST /api/v1/customers/{id}/link":    {need: writer, id: customerID},
	"POST /api/v1/customers/{id}/cancel":  {need: writer, id: customerID},
	"GET /api/v1/customers/{id}/clouds":   {need: reader, id: customerID},
	"POST /api/v1/customers/{id}/clouds":  {writer, customerID, map[string]string{"name": "guarded-cloud-2"}},
	"POST /api/v1/customers/{id}/suspend": {writer, customerID, map[string]string{"reason": "guarded"}},
	"POST /api/v1/customers/{id}/resume":  {need: writer, id: customerID},
	"GET /api/v1/customers/{id}/audit":    {need: reader, id: customerID},
	"GET /api/v1/audit":                   {need: reader},
	"GET /api/v1/staff":                   {need: admin},
	"POST /api/v1/staff":                  {admin, noID, map[string]any{"email": "guarded@acme.example", "role": "owner", "personal_data": true}},
	"PATCH /api/v1/staff/{id}":            {admin, staffID, map[string]any{"role": "owner", "personal_data": true}},
	"DELETE /api/v1/staff/{id}":           {need: admin, id: staffID},
	"GET /api/v1/api-keys":                {need: admin},
	"POST /api/v1/api-keys":               {admin, noID, map[string]string{"name": "guarded", "role": "owner"}},
	"DELETE /api/v1/api-keys/{id}":        {need: admin, id: keyID},
	"GET /api/v1/requests/{id}":           {need: reader, id: requestID},
}

// guarded is one route with its guard.
type guarded struct {
	guard
	pattern, method, path string
}

// api reports whether the route is the JSON API's.
func (g guarded) api() bool { return strings.HasPrefix(g.path, "/api/") }

// changes reports whether the route is meant to change something.
func (g guarded) changes() bool { return g.method != http.MethodGet }

// at is the route's path with id in its {id}.
func (g guarded) at(id string) string {
	p := strings.ReplaceAll(g.path, "{$}", "")
	return strings.ReplaceAll(p, "{id}", url.PathEscape(id))
}

// guardedRoutes is every route of the pages and of the API with its
// guard; a route without one, or a guard without its route, fails the test.
func guardedRoutes(t *testing.T) []guarded {
	t.Helper()
	s := &server{}
	var out []guarded
	seen := map[string]bool{}
	for _, rt := range slices.Concat(s.pageRoutes(), s.api()) {
		seen[rt.pattern] = true
		g, ok := guards[rt.pattern]
		if !ok {
			t.Errorf("route %s is not in guards: say how it is guarded, and the security tests check it", rt.pattern)
			continue
		}
		method, path, _ := strings.Cut(rt.pattern, " ")
		out = append(out, guarded{guard: g, pattern: rt.pattern, method: method, path: path})
	}
	for _, p := range slices.Sorted(maps.Keys(guards)) {
		if !seen[p] {
			t.Errorf("guards has %s, which is no route", p)
		}
	}
	return out
}

// TestEveryRouteIsGuarded: the security tests' table holds exactly the
// routes of the pages and the API.
func TestEveryRouteIsGuarded(t *testing.T) {
	if n := len(guardedRoutes(t)); n != len(guards) || n < 40 {
		t.Errorf("%d routes guarded of %d", n, len(guards))
	}
}

// scene is a world set up to be attacked: acme's customer awaiting
// confirmation, acme's ids of each kind, and people signed in.
type scene struct {
	*world
	customer domain.Subaccount
	ids      map[idKind]string // acme's id of each kind
	// Signed in: acme's owner, editor and viewer, and globex's owner.
	asOwner, asEditor, asViewer, asGlobex creds
}

func newScene(t *testing.T, extra map[string]string) *scene {
	t.Helper()
	w := newWorld(t, extra)
	sc := &scene{world: w, customer: w.launch(w.acme, "Guarded Customer")}
	var viewerID string
	if err := w.st.DB().Get(&viewerID, `SELECT id FROM staff WHERE email = 'viewer@acme.example'`); err != nil {
		t.Fatal(err)
	}
	// A request of acme's, accepted.
	req, err := w.st.AcceptRequest(context.Background(), domain.Request{ID: uuid.NewString(), PartnerID: w.acme, SubaccountID: sc.customer.ID,
		OnboardingID: sc.customer.OnboardingID, WorkflowID: sc.customer.OnboardingID, Kind: domain.RequestResend, Summary: "resend",
		ActorKind: domain.ActorUser, ActorID: "owner@acme.example", CreatedAt: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sc.ids = map[idKind]string{customerID: sc.customer.ID, staffID: viewerID, keyID: sc.key(w.acme, domain.StaffEditor).ID, requestID: req.ID}
	sc.asOwner, sc.asEditor = w.signIn("owner@acme.example").creds(), w.signIn("editor@acme.example").creds()
	sc.asViewer, sc.asGlobex = w.signIn("viewer@acme.example").creds(), w.signIn("owner@globex.example").creds()
	return sc
}

// key creates an API key of a partner with a role, as its owner would.
func (w *world) key(partner, role string) access.NewAPIKey {
	w.t.Helper()
	owner := domain.Actor{Kind: domain.ActorUser, ID: "owner@" + partner, PartnerID: partner, Role: domain.StaffOwner, PartnerStatus: true}
	k, err := w.drv.Access.CreateAPIKey(context.Background(), owner, role+" key", role)
	if err != nil {
		w.t.Fatal(err)
	}
	return k
}

// untouched is what refused requests must leave as it was: the rows of
// the customer records, staff and keys, and an audit log that gains
// refusals only.
type untouched struct {
	rows  map[string]string // by table: its row count and a digest of its rows
	audit int64             // the last audit event
}

// watched selects, by table, what no refused request may change; a
// member's sign-ins and a key's uses are recorded, and are no change.
var watched = map[string]string{
	"subaccounts":   `SELECT * FROM subaccounts`,
	"organizations": `SELECT * FROM organizations`,
	"role_bindings": `SELECT * FROM role_bindings`,
	"clouds":        `SELECT * FROM clouds`,
	"suspensions":   `SELECT * FROM suspensions`,
	"emails":        `SELECT * FROM emails`,
	"staff":         `SELECT id, partner_id, email, role, personal_data, removed_at FROM staff`,
	"api_keys":      `SELECT id, partner_id, name, role, revoked_at FROM api_keys`,
}

func (w *world) snapshot() untouched {
	w.t.Helper()
	u := untouched{rows: map[string]string{}}
	for table, q := range watched {
		var digest string
		if err := w.st.DB().Get(&digest, `SELECT count(*) || ' rows, digest ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '-') FROM (`+q+`) r`); err != nil {
			w.t.Fatalf("snapshot %s: %v", table, err)
		}
		u.rows[table] = digest
	}
	if err := w.st.DB().Get(&u.audit, `SELECT coalesce(max(id), 0) FROM audit_events`); err != nil {
		w.t.Fatal(err)
	}
	return u
}

// unchanged checks that nothing changed since before, and that the audit
// log recorded nothing since but refusals.
func (w *world) unchanged(before untouched) {
	w.t.Helper()
	after := w.snapshot()
	for _, table := range slices.Sorted(maps.Keys(watched)) {
		if before.rows[table] != after.rows[table] {
			w.t.Errorf("%s changed: %s, then %s", table, before.rows[table], after.rows[table])
		}
	}
	var done []string
	if err := w.st.DB().Select(&done, `SELECT action || ' by ' || actor_id || ': ' || outcome || ' ' || detail FROM audit_events
		WHERE id > $1 AND outcome <> 'refused' ORDER BY id`, before.audit); err != nil {
		w.t.Fatal(err)
	}
	for _, e := range done {
		w.t.Errorf("the audit log recorded more than a refusal: %s", e)
	}
}

// problemTitles are the problem pages' titles, by code.
var problemTitles = func() map[string]string {
	out := map[string]string{}
	for _, err := range []error{errSignedOut, errCrossSite, domain.ErrNoPartnerStatus, domain.ErrForbidden, domain.ErrNotFound, errLoginState} {
		p := problemFor(err)
		out[p.Code] = p.Title
	}
	return out
}()

// refused checks that a request was refused with status and code: with
// the API's JSON error, or a page's problem page.
func refused(t *testing.T, what string, a answer, api bool, status int, code string) {
	t.Helper()
	if a.status != status {
		t.Errorf("%s: status %d, want %d %s:\n%s", what, a.status, status, code, stack.Tail(a.body, 1500))
		return
	}
	ct := a.header.Get("Content-Type")
	if api {
		var e struct {
			Error string `json:"error"`
		}
		if ct != "application/json" || json.Unmarshal([]byte(a.body), &e) != nil || e.Error != code {
			t.Errorf("%s: %s %s, want the JSON error %s", what, ct, stack.Tail(a.body, 500), code)
		}
		if status == http.StatusUnauthorized && a.header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: 401 without WWW-Authenticate", what)
		}
		return
	}
	if !strings.HasPrefix(ct, "text/html") || !strings.Contains(a.body, `id="problem"`) || !strings.Contains(a.body, "<h1>"+problemTitles[code]+"</h1>") {
		t.Errorf("%s: not the problem page %q (%s):\n%s", what, problemTitles[code], ct, stack.Tail(a.body, 1500))
	}
}

// toSignIn checks that a page sent the browser to sign in, to come back to path.
func toSignIn(t *testing.T, what string, a answer, path string) {
	t.Helper()
	if loc := a.header.Get("Location"); a.status != http.StatusSeeOther || loc != "/login?return="+url.QueryEscape(path) {
		t.Errorf("%s: %d to %q, want 303 to sign in and back to %s", what, a.status, loc, path)
	}
}

// TestNoCredentialsNoEntry: every route without a session, with a forged
// one, with a revoked or unknown API key: a page sends the browser to sign
// in (GET) or refuses (401); the API refuses (401). Nothing changes.
func TestNoCredentialsNoEntry(t *testing.T) {
	sc := newScene(t, nil)
	revoked := sc.key(sc.acme, domain.StaffOwner)
	owner := domain.Actor{Kind: domain.ActorUser, ID: "test", PartnerID: sc.acme, Role: domain.StaffOwner, PartnerStatus: true}
	if _, err := sc.drv.Access.RevokeAPIKey(context.Background(), owner, revoked.ID); err != nil {
		t.Fatal(err)
	}
	before := sc.snapshot()
	for _, g := range guardedRoutes(t) {
		path := g.at(sc.ids[g.id])
		for _, c := range []struct {
			name string
			as   creds
		}{
			{"no credentials", creds{}},
			{"a forged session", creds{cookie: random(32), csrf: random(32)}},
			{"a revoked key", creds{key: revoked.Secret}},
			{"an unknown key", creds{key: access.APIKeyPrefix + random(32)}},
		} {
			what := g.pattern + " with " + c.name
			a := sc.send(sc.request(g.method, path, c.as, g.body))
			switch {
			case g.api():
				refused(t, what, a, true, http.StatusUnauthorized, "signed_out")
			case g.changes():
				refused(t, what, a, false, http.StatusUnauthorized, "signed_out")
			default:
				toSignIn(t, what, a, path)
			}
		}
	}
	sc.unchanged(before)
}

// TestRolesAreEnforced: a viewer (by session or key) is refused every
// change, an editor everything on staff and keys: 403, nothing changes.
func TestRolesAreEnforced(t *testing.T) {
	sc := newScene(t, nil)
	viewerKey, editorKey := sc.key(sc.acme, domain.StaffViewer), sc.key(sc.acme, domain.StaffEditor)
	before := sc.snapshot()
	refusals := 0
	for _, g := range guardedRoutes(t) {
		for _, c := range []struct {
			name string
			as   creds
			may  need
		}{
			{"a viewer", sc.asViewer, reader},
			{"an editor", sc.asEditor, writer},
			{"a viewer's key", creds{key: viewerKey.Secret}, reader},
			{"an editor's key", creds{key: editorKey.Secret}, writer},
		} {
			if g.need <= c.may || (c.as.key != "" && !g.api()) {
				continue
			}
			a := sc.send(sc.request(g.method, g.at(sc.ids[g.id]), c.as, g.body))
			refused(t, g.pattern+" by "+c.name, a, g.api(), http.StatusForbidden, "forbidden")
			refusals++
		}
	}
	if refusals < 50 {
		t.Errorf("only %d requests refused for their role", refusals)
	}
	sc.unchanged(before)
}

// TestOtherPartnersIDsAreNotFound: globex, by session and by key, on
// every route with an id, gets 404 for acme's ids — by subaccount id and
// by onboarding id — exactly as for an unknown id; its lists hold none of
// acme's. Nothing changes.
func TestOtherPartnersIDsAreNotFound(t *testing.T) {
	sc := newScene(t, nil)
	globexKey := sc.key(sc.globex, domain.StaffOwner)
	before := sc.snapshot()
	for _, g := range guardedRoutes(t) {
		if g.id == noID {
			continue
		}
		theirs := map[string]string{"acme's id": sc.ids[g.id]}
		if g.id == customerID {
			theirs["acme's onboarding id"] = sc.customer.OnboardingID
		}
		for _, c := range []struct {
			name string
			as   creds
		}{{"globex's owner", sc.asGlobex}, {"globex's key", creds{key: globexKey.Secret}}} {
			if c.as.key != "" && !g.api() {
				continue
			}
			unknown := sc.send(sc.request(g.method, g.at(unknownID), c.as, g.body))
			refused(t, g.pattern+" by "+c.name+" with an unknown id", unknown, g.api(), http.StatusNotFound, "not_found")
			for name, id := range theirs {
				what := g.pattern + " by " + c.name + " with " + name
				a := sc.send(sc.request(g.method, g.at(id), c.as, g.body))
				refused(t, what, a, g.api(), http.StatusNotFound, "not_found")
				if a.body != unknown.body {
					t.Errorf("%s answers otherwise than an unknown id:\n%s\n--- unknown id:\n%s", what, stack.Tail(a.body, 1000), stack.Tail(unknown.body, 1000))
				}
			}
		}
	}
	for _, path := range []string{"/customers", "/api/v1/customers"} {
		a := sc.send(sc.request(http.MethodGet, path, sc.asGlobex, nil))
		if a.status != http.StatusOK || strings.Contains(a.body, "Guarded Customer") || strings.Contains(a.body, sc.customer.ID) {
			t.Errorf("globex's %s (%d) shows acme's customer:\n%s", path, a.status, stack.Tail(a.body, 1500))
		}
	}
	sc.unchanged(before)
}

// TestCrossSiteIsRefused: with the owner's valid session, a form without
// the session's token, with a wrong one or another session's, or sent
// from another site (Sec-Fetch-Site, Origin, Referer), and an API call
// with the session cookie but without its X-CSRF-Token, are refused: 403,
// nothing changes, and the session lives on.
func TestCrossSiteIsRefused(t *testing.T) {
	sc := newScene(t, nil)
	cookie := sc.asOwner.cookie
	evil := func(h http.Header) { h.Set("Origin", "https://evil.example") }
	cases := []struct {
		name  string
		as    creds
		tweak func(http.Header)
	}{
		{"no token", creds{cookie: cookie}, nil},
		{"a wrong token", creds{cookie: cookie, csrf: random(32)}, nil},
		{"another session's token", creds{cookie: cookie, csrf: sc.asEditor.csrf}, nil},
		{"another site's Origin", sc.asOwner, evil},
		{"a null Origin", sc.asOwner, func(h http.Header) { h.Set("Origin", "null") }},
		{"another site's Referer", sc.asOwner, func(h http.Header) { h.Del("Origin"); h.Set("Referer", "https://evil.example/portal") }},
		{"a look-alike Origin", sc.asOwner, func(h http.Header) { h.Set("Origin", sc.base+".evil.example") }},
		{"Sec-Fetch-Site cross-site", sc.asOwner, func(h http.Header) { h.Set("Sec-Fetch-Site", "cross-site"); h.Del("Origin") }},
		{"Sec-Fetch-Site same-site", sc.asOwner, func(h http.Header) { h.Set("Sec-Fetch-Site", "same-site"); h.Del("Origin") }},
	}
	before := sc.snapshot()
	refusals := 0
	for _, g := range guardedRoutes(t) {
		if !g.changes() {
			continue
		}
		for _, c := range cases {
			req := sc.request(g.method, g.at(sc.ids[g.id]), c.as, g.body)
			if c.tweak != nil {
				c.tweak(req.Header)
			}
			refused(t, g.pattern+" with "+c.name, sc.send(req), g.api(), http.StatusForbidden, "cross_site")
			refusals++
		}
	}
	if refusals < 150 {
		t.Errorf("only %d cross-site requests tried", refusals)
	}
	sc.unchanged(before)
	if a := sc.send(sc.request(http.MethodGet, "/api/v1/me", sc.asOwner, nil)); a.status != http.StatusOK {
		t.Errorf("after the refusals the owner's session answers %d: %s", a.status, a.body)
	}
}

// TestStolenSessionIsDeadAfterSignOut: once its owner signs out, a copied
// session cookie (with its token) opens nothing: a page sends to sign-in,
// a form and the API answer 401.
func TestStolenSessionIsDeadAfterSignOut(t *testing.T) {
	sc := newScene(t, nil)
	stolen := sc.asOwner
	if a := sc.send(sc.request(http.MethodPost, "/logout", stolen, nil)); a.status != http.StatusSeeOther || !clearsSession(a) {
		t.Fatalf("sign out: %d %v", a.status, a.header["Set-Cookie"])
	}
	var left int
	if err := sc.st.DB().Get(&left, `SELECT count(*) FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, stolen.cookie); err != nil || left != 0 {
		t.Errorf("the session is still stored after signing out: %d %v", left, err)
	}
	before := sc.snapshot()
	for _, g := range guardedRoutes(t) {
		path := g.at(sc.ids[g.id])
		a := sc.send(sc.request(g.method, path, stolen, g.body))
		switch {
		case g.api() || g.changes():
			refused(t, g.pattern+" with a signed-out session", a, g.api(), http.StatusUnauthorized, "signed_out")
		default:
			toSignIn(t, g.pattern+" with a signed-out session", a, path)
		}
	}
	sc.unchanged(before)
}

// clearsSession reports whether an answer deletes the session cookie.
func clearsSession(a answer) bool {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == "portal_session" && c.Value == "" && c.MaxAge < 0 {
			return true
		}
	}
	return false
}

// TestNoPartnerStatusCanDoNothing: a member of a partner without partner
// status sees the one "no partner status" page on every page, and every
// API call is refused, by session and by key: 403, nothing changes. Only
// signing out works.
func TestNoPartnerStatusCanDoNothing(t *testing.T) {
	sc := newScene(t, nil)
	dormant := sc.signIn("nostatus@dormant.example").creds()
	// A key made while the partner had partner status.
	secret := access.APIKeyPrefix + random(32)
	if _, err := sc.st.CreateAPIKey(context.Background(), domain.APIKey{ID: "0d6f5a9e-2f8b-4c1e-9a57-3c2d1b0e4f6a", PartnerID: sc.dormant,
		Name: "old key", Role: domain.StaffOwner, Prefix: secret[:10], CreatedBy: "test"}, secret, nil); err != nil {
		t.Fatal(err)
	}
	before := sc.snapshot()
	var logout guarded
	for _, g := range guardedRoutes(t) {
		if g.need == anyone {
			logout = g
			continue
		}
		// Acme's ids: the refusal comes first, and shows nothing of them.
		path := g.at(sc.ids[g.id])
		refused(t, g.pattern+" without partner status", sc.send(sc.request(g.method, path, dormant, g.body)), g.api(), http.StatusForbidden, "no_partner_status")
		if g.api() {
			refused(t, g.pattern+" with a key of a partner without partner status", sc.send(sc.request(g.method, path, creds{key: secret}, g.body)),
				true, http.StatusForbidden, "no_partner_status")
		}
	}
	sc.unchanged(before)
	if a := sc.send(sc.request(logout.method, logout.path, dormant, nil)); a.status != http.StatusSeeOther {
		t.Errorf("signing out without partner status: %d", a.status)
	}
}

// TestSessionLifetime: every sign-in starts a new session under a new id
// (one planted before is worth nothing), in a cookie kept from scripts and
// from other sites' posts, stored only as a hash; a session idle longer
// than SESSION_IDLE or older than SESSION_MAX is refused and ended, one in
// use lives on.
func TestSessionLifetime(t *testing.T) {
	w := newWorld(t, map[string]string{"SESSION_IDLE": "1m", "SESSION_MAX": "10m"})
	base, _ := url.Parse(w.base)
	b := w.anonymous()
	var set []*http.Cookie
	b.hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		set = append(set, req.Response.Cookies()...)
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}
	planted := "planted-" + random(16)
	b.hc.Jar.SetCookies(base, []*http.Cookie{{Name: "portal_session", Value: planted, Path: "/"}})
	b.signIn("viewer@acme.example")
	var c *http.Cookie
	for _, k := range set {
		if k.Name == "portal_session" {
			c = k
		}
	}
	switch {
	case c == nil:
		t.Fatalf("no session cookie was set at sign-in: %v", set)
	case c.Value == planted || len(c.Value) < 40:
		t.Errorf("the session id %q is the planted one or short", c.Value)
	case !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || c.Path != "/" || c.Domain != "" || c.MaxAge != 600:
		t.Errorf("the session cookie over plain HTTP with SESSION_MAX 10m is %s", c)
	}
	toSignIn(t, "the planted session id", w.send(w.request(http.MethodGet, "/customers", creds{cookie: planted}, nil)), "/customers")

	// Sessions by kind of check: an idle one and an expired one, each
	// refused on a page, a form and the API, and one in use.
	sessions := map[string]creds{"first": b.creds()}
	for _, name := range []string{"idle page", "idle form", "idle API", "expired page", "expired form", "expired API", "in use"} {
		sessions[name] = w.signIn("viewer@acme.example").creds()
	}
	ids, tokens := map[string]bool{}, map[string]bool{}
	for name, s := range sessions {
		ids[s.cookie], tokens[s.csrf] = true, true
		var stored int
		if err := w.st.DB().Get(&stored, `SELECT count(*) FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))
			AND expires_at - created_at = interval '10 minutes'`, s.cookie); err != nil || stored != 1 {
			t.Errorf("session %s is not stored by its hash for SESSION_MAX: %d %v", name, stored, err)
		}
	}
	if len(ids) != len(sessions) || len(tokens) != len(sessions) {
		t.Errorf("%d sign-ins gave %d session ids and %d tokens", len(sessions), len(ids), len(tokens))
	}
	age := func(name, set string) {
		t.Helper()
		res, err := w.st.DB().Exec(`UPDATE sessions SET `+set+` WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, sessions[name].cookie)
		if n, _ := res.RowsAffected(); err != nil || n != 1 {
			t.Fatalf("age session %s: %v", name, err)
		}
	}
	for _, kind := range []struct{ name, set string }{
		{"idle", "last_seen_at = now() - interval '3 minutes'"},
		{"expired", "expires_at = now() - interval '1 second'"},
	} {
		for _, via := range []string{"page", "form", "API"} {
			age(kind.name+" "+via, kind.set)
		}
		what := "an " + kind.name + " session"
		toSignIn(t, what, w.send(w.request(http.MethodGet, "/customers", sessions[kind.name+" page"], nil)), "/customers")
		refused(t, what, w.send(w.request(http.MethodPost, "/logout", sessions[kind.name+" form"], nil)), false, http.StatusUnauthorized, "signed_out")
		refused(t, what, w.send(w.request(http.MethodGet, "/api/v1/me", sessions[kind.name+" API"], nil)), true, http.StatusUnauthorized, "signed_out")
		for _, via := range []string{"page", "form", "API"} {
			var left int
			if err := w.st.DB().Get(&left, `SELECT count(*) FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, sessions[kind.name+" "+via].cookie); err != nil || left != 0 {
				t.Errorf("%s (%s) was not ended: %d %v", what, via, left, err)
			}
		}
	}
	// Seen 50 s ago, within SESSION_IDLE: it lives on, and is seen now, or
	// a request 11 s later would find it idle.
	age("in use", "last_seen_at = now() - interval '50 seconds'")
	if a := w.send(w.request(http.MethodGet, "/api/v1/me", sessions["in use"], nil)); a.status != http.StatusOK {
		t.Errorf("a session in use answers %d", a.status)
	}
	var idle float64
	if err := w.st.DB().Get(&idle, `SELECT extract(epoch FROM now() - last_seen_at) FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`,
		sessions["in use"].cookie); err != nil || idle > 30 {
		t.Errorf("the session in use was not marked seen: idle %.0f s, %v", idle, err)
	}
}

// TestSignInStartsInThisBrowser: the callback URL of someone else's
// sign-in (an attacker's, sent to a victim) signs nobody in: the sign-in
// must have started in the browser that finishes it.
func TestSignInStartsInThisBrowser(t *testing.T) {
	w := newWorld(t, nil)
	attacker := w.anonymous()
	attacker.hc.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if req.URL.Path == "/auth/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	a := attacker.authenticate("owner@globex.example")
	callback := a.header.Get("Location")
	if a.status/100 != 3 || !strings.Contains(callback, "/auth/callback?") {
		t.Fatalf("the identity provider did not send to the callback: %d %q", a.status, callback)
	}
	victim := w.anonymous()
	refused(t, "someone else's callback", victim.get(strings.TrimPrefix(callback, w.base)), false, http.StatusBadRequest, "login_failed")
	base, _ := url.Parse(w.base)
	for _, c := range victim.hc.Jar.Cookies(base) {
		if c.Name == "portal_session" {
			t.Errorf("the victim holds a session of the attacker's")
		}
	}
	// The browser that started the sign-in finishes it.
	expect(t, attacker.get(strings.TrimPrefix(callback, w.base)), http.StatusOK, `id="me">owner@globex.example<`)
}

// TestSignInReturnsOnlyToThePortal: the page to return to after sign-in
// is a path of the portal, or the dashboard; nothing a browser would read
// as another site.
func TestSignInReturnsOnlyToThePortal(t *testing.T) {
	for _, p := range []string{"/customers/abc?status=active", "/staff"} {
		if got := localPath(p); got != p {
			t.Errorf("localPath(%q) = %q, want it kept", p, got)
		}
	}
	// Browsers drop tabs and newlines from a URL: "/\t/x" reads as "//x".
	for _, p := range []string{"", "https://evil.example/", "//evil.example/", `/\evil.example/`, "/\t/evil.example/", "/\n/evil.example/",
		"/\r/evil.example/", "/\x00/evil.example/"} {
		if got := localPath(p); got != "/customers" {
			t.Errorf("localPath(%q) = %q, want /customers", p, got)
		}
	}
}

// TestSessionCookieFollowsTheScheme: over https the session and sign-in
// cookies are Secure and __Host- prefixed (bound to the portal's host and
// path /), and a form must come from the https origin.
func TestSessionCookieFollowsTheScheme(t *testing.T) {
	for u, secure := range map[string]bool{"https://portal.example": true, "http://127.0.0.1:8090": false} {
		prefix := ""
		if secure {
			prefix = "__Host-"
		}
		s, err := newServer(settings{publicURL: u, sessionMax: time.Hour}, deps.Actions{}, nil, nil, slog.New(slog.DiscardHandler), time.Now)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range []struct {
			name   string
			cookie *http.Cookie
		}{
			{"portal_session", s.newCookie(s.sessionCookie(), "id", 3600)},
			{"portal_session", s.newCookie(s.sessionCookie(), "", -1)},
			{"portal_login", s.newCookie(s.loginCookie(), "state", 600)},
		} {
			if c := k.cookie; c.Name != prefix+k.name || c.Secure != secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
				t.Errorf("%s: the %s cookie is %s", u, k.name, c)
			}
		}
		// Behind a proxy that changes the Host, a form from the public origin.
		form, _ := http.NewRequest(http.MethodPost, "http://portal.internal:8090/customers", nil)
		form.Header.Set("Origin", u)
		if !s.origins.Allows(form) {
			t.Errorf("%s: a form from %s is refused", u, u)
		}
	}
}

// markup is what people may type into a field, meant to run in a page.
const (
	script = `<script>alert(1)</script>`
	img    = `<img src=x onerror=alert(2)>`
	markup = script + img + `"'><b>`
)

// shownAsText checks that a page shows each value escaped, as text, and
// none of the markup as markup.
func shownAsText(t *testing.T, what string, a answer, status int, values ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("%s: status %d, want %d:\n%s", what, a.status, status, stack.Tail(a.body, 1500))
	}
	for _, v := range values {
		if !strings.Contains(a.body, html.EscapeString(v)) {
			t.Errorf("%s does not show %q as text:\n%s", what, v, stack.Tail(a.body, 3000))
		}
	}
	for _, m := range []string{script, img, "<b>", `"'>`} {
		if strings.Contains(a.body, m) {
			t.Errorf("%s shows %q as markup", what, m)
		}
	}
}

// followForm checks that a form's answer sends the browser on (303) to a
// page of the portal, and returns that page as the session sees it.
func (w *world) followForm(what string, a answer, c creds) answer {
	w.t.Helper()
	loc := a.header.Get("Location")
	if a.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
		w.t.Errorf("%s: %d to %q, want 303 to a page of the portal:\n%s", what, a.status, loc, stack.Tail(a.body, 1500))
		return a
	}
	return w.send(w.request(http.MethodGet, loc, c, nil))
}

// TestMarkupIsShownAsText: markup and script typed into every field a page
// shows — customer name, contact, cloud name, suspend reason, API key
// name, staff email, search — come back as text, in the pages and in the
// forms a refusal shows again; the API's JSON escapes it too. Markup in a
// URL's ?notice= shows nowhere.
func TestMarkupIsShownAsText(t *testing.T) {
	w := newWorld(t, nil)
	owner := w.signIn("owner@acme.example").creds()
	get := func(path string) answer { return w.send(w.request(http.MethodGet, path, owner, nil)) }
	post := func(path string, form url.Values) answer {
		return w.send(w.request(http.MethodPost, path, owner, form))
	}
	// form posts a form and returns the page it sends the browser to.
	form := func(path string, f url.Values) answer {
		t.Helper()
		return w.followForm("POST "+path, post(path, f), owner)
	}
	name, contact := "Markup "+markup, "Contact "+markup

	add := url.Values{"name": {name}, "email": {"markup-" + testenv.Suffix() + "@customer.example"}, "contact": {contact}, "cloud": {"markup-cloud"}}
	if a := post("/customers", add); a.status != http.StatusSeeOther {
		t.Fatalf("add the customer: %d\n%s", a.status, a.body)
	}
	var id string
	testenv.Eventually(t, 30*time.Second, "the customer's record", func() bool {
		return w.st.DB().Get(&id, `SELECT id FROM subaccounts WHERE name = $1`, name) == nil
	})
	w.sent(id)
	shownAsText(t, "the customer's page", get("/customers/"+id), http.StatusOK, name, contact, domain.OrganizationName(name))
	shownAsText(t, "the dashboard", get("/customers"), http.StatusOK, name)
	shownAsText(t, "a search", get("/customers?q="+url.QueryEscape(markup)), http.StatusOK, markup)
	shownAsText(t, "the delete step", get("/customers/"+id+"/delete"), http.StatusOK, name)
	// What was ?notice= is no notice: not shown, as text or as markup (TestTheURLCannotSpeakForThePortal tries every page).
	if a := get("/customers/new?notice=" + url.QueryEscape(markup)); a.status != http.StatusOK || strings.Contains(a.body, "alert(") || strings.Contains(a.body, `id="notice"`) {
		t.Errorf("a notice in the URL is shown: %d\n%s", a.status, stack.Tail(a.body, 2000))
	}
	bad := url.Values{"name": {"Other " + markup}, "email": {"other@customer.example"}, "contact": {markup}, "cloud": {markup}}
	shownAsText(t, "the add form with a bad cloud name", form("/customers", bad), http.StatusOK, "Other "+markup, markup)
	edited := "Edited " + markup
	if a := post("/customers/"+id+"/edit", url.Values{"contact": {edited}}); a.status != http.StatusSeeOther {
		t.Errorf("edit the contact: %d", a.status)
	}
	shownAsText(t, "the edited customer's page", get("/customers/"+id), http.StatusOK, edited)

	w.confirm(id)
	shownAsText(t, "a bad cloud name", form("/customers/"+id+"/clouds", url.Values{"name": {markup}}), http.StatusOK, markup)
	reason := "Reason " + markup
	if a := post("/customers/"+id+"/suspend", url.Values{"reason": {reason}, "retention": {"720h"}}); a.status != http.StatusSeeOther {
		t.Errorf("suspend: %d\n%s", a.status, a.body)
	}
	shownAsText(t, "the suspended customer's page", get("/customers/"+id), http.StatusOK, name, reason)

	key := "Key " + markup
	shownAsText(t, "the new key", form("/api-keys", url.Values{"name": {key}, "role": {"viewer"}}), http.StatusOK, key)
	shownAsText(t, "the keys", get("/api-keys"), http.StatusOK, key)
	odd := "o'neil&co{x}@acme.example" // as odd as an address gets
	if a := post("/staff", url.Values{"email": {odd}, "role": {"viewer"}}); a.status != http.StatusSeeOther {
		t.Errorf("add %s: %d\n%s", odd, a.status, a.body)
	}
	shownAsText(t, "the staff", get("/staff"), http.StatusOK, odd)
	shownAsText(t, "a bad staff email", form("/staff", url.Values{"email": {markup + "@acme.example"}, "role": {"viewer"}}),
		http.StatusOK, markup+"@acme.example")

	a := get("/api/v1/customers/" + id)
	if a.status != http.StatusOK || strings.ContainsAny(a.body, "<>") || !strings.Contains(a.body, `\u003cscript\u003e`) ||
		a.header.Get("Content-Type") != "application/json" || a.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("the API's customer (%d, %s) is not escaped JSON:\n%s", a.status, a.header.Get("Content-Type"), stack.Tail(a.body, 1500))
	}
}

// lure is what a link someone sends could make a page say in the portal's
// voice, were a page to show words from its URL.
const lure = "Your account is locked: call +1 555 0100 with your password"

// TestTheURLCannotSpeakForThePortal: a link with words in its query —
// ?notice=, ?error=, ?message= — makes no page say them: not as a notice,
// an error or anything else, on every page and on a sign-in failure
// (whose provider's answer comes in the URL too). What a page says of a
// form comes from the session's flash alone.
func TestTheURLCannotSpeakForThePortal(t *testing.T) {
	w := newWorld(t, nil)
	owner := w.signIn("owner@acme.example").creds()
	sa := w.launch(w.acme, "Phished Co")
	q := "?" + url.Values{"notice": {lure}, "error": {lure}, "message": {lure}, "flash": {lure}, "text": {lure}}.Encode()
	shows := func(a answer) bool {
		return strings.Contains(a.body, "555 0100") || strings.Contains(a.body, `id="notice"`) || strings.Contains(a.body, `id="error"`)
	}
	for path, status := range map[string]int{
		"/customers": http.StatusOK, "/customers/new": http.StatusOK, "/customers/" + sa.ID: http.StatusOK, "/customers/" + sa.ID + "/delete": http.StatusOK,
		"/staff": http.StatusOK, "/api-keys": http.StatusOK, "/signed-out": http.StatusOK, "/customers/" + unknownID: http.StatusNotFound,
	} {
		a := w.send(w.request(http.MethodGet, path+q, owner, nil))
		if a.status != status || shows(a) {
			t.Errorf("%s with the lure in its URL: %d, want %d and none of it shown:\n%s", path, a.status, status, stack.Tail(a.body, 2000))
		}
	}
	a := w.send(w.request(http.MethodGet, "/auth/callback"+q+"&"+url.Values{"error_description": {lure}}.Encode(), creds{}, nil))
	refused(t, "a sign-in failure with the lure in its URL", a, false, http.StatusBadRequest, "login_failed")
	if shows(a) {
		t.Errorf("the sign-in failure shows the lure:\n%s", stack.Tail(a.body, 2000))
	}
}

// TestFlashShowsOnceInItsSession: what a form's answer says — a notice,
// an API key's secret — shows on the next page of the session that sent
// it, once: not on a reload, not in another session of the same person;
// the database holds it sealed.
func TestFlashShowsOnceInItsSession(t *testing.T) {
	w := newWorld(t, nil)
	owner := w.signIn("owner@acme.example").creds()
	other := w.signIn("owner@acme.example").creds() // the same person in another browser
	get := func(c creds, path string) answer { return w.send(w.request(http.MethodGet, path, c, nil)) }
	sealed := func() []byte {
		t.Helper()
		var b []byte
		if err := w.st.DB().Get(&b, `SELECT flash FROM sessions WHERE id_hash = sha256(convert_to($1, 'UTF8'))`, owner.cookie); err != nil {
			t.Fatal(err)
		}
		return b
	}

	a := w.send(w.request(http.MethodPost, "/api-keys", owner, url.Values{"name": {"flash key"}, "role": {"viewer"}}))
	if loc := a.header.Get("Location"); a.status != http.StatusSeeOther || loc != "/api-keys" {
		t.Fatalf("create a key: %d to %q, want 303 to /api-keys", a.status, loc)
	}
	kept := sealed()
	if len(kept) == 0 || bytes.Contains(kept, []byte("flash key")) || bytes.Contains(kept, []byte(access.APIKeyPrefix)) {
		t.Errorf("the flash is not sealed in the database: %q", kept)
	}
	if b := get(other, "/api-keys"); b.status != http.StatusOK || secretField.MatchString(b.body) || strings.Contains(b.body, `id="new-key"`) {
		t.Errorf("another session of the same person shows the new key:\n%s", stack.Tail(b.body, 2000))
	}
	page := get(owner, "/api-keys")
	m := secretField.FindStringSubmatch(page.body)
	if page.status != http.StatusOK || m == nil {
		t.Fatalf("the key's page does not show the new key: %d\n%s", page.status, stack.Tail(page.body, 2000))
	}
	if bytes.Contains(kept, []byte(m[1])) {
		t.Errorf("the database held the key's secret")
	}
	if again := get(owner, "/api-keys"); secretField.MatchString(again.body) || strings.Contains(again.body, `id="new-key"`) {
		t.Errorf("a reload shows the key's secret again")
	}
	if sealed() != nil {
		t.Errorf("the flash is still kept after its page")
	}

	// A notice: on the page the form sent the browser to, once.
	var keyID string
	if err := w.st.DB().Get(&keyID, `SELECT id FROM api_keys WHERE name = 'flash key'`); err != nil {
		t.Fatal(err)
	}
	a = w.send(w.request(http.MethodPost, "/api-keys/"+keyID+"/revoke", owner, nil))
	if b := get(other, "/api-keys"); strings.Contains(b.body, `id="notice"`) {
		t.Errorf("another session shows the notice")
	}
	expect(t, w.followForm("revoke the key", a, owner), http.StatusOK, `id="notice" role="status">Key flash key revoked`)
	if again := get(owner, "/api-keys"); strings.Contains(again.body, `id="notice"`) {
		t.Errorf("a reload shows the notice again:\n%s", stack.Tail(again.body, 2000))
	}
	// Meant for another page, a flash is taken by the next one and shown by none.
	a = w.send(w.request(http.MethodPost, "/api-keys/"+keyID+"/revoke", owner, nil))
	if b := get(owner, "/staff"); strings.Contains(b.body, `id="notice"`) {
		t.Errorf("the staff page shows the key page's notice")
	}
	if b := get(owner, a.header.Get("Location")); strings.Contains(b.body, `id="notice"`) {
		t.Errorf("a flash taken by another page still shows")
	}
}
