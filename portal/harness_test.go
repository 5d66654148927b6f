package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// The demo users of the local identity provider (devidp/users.json).
var passwords = map[string]string{
	"owner@acme.example":       "demo-owner",
	"editor@acme.example":      "demo-editor",
	"viewer@acme.example":      "demo-viewer",
	"nostatus@dormant.example": "demo-nostatus",
	"owner@globex.example":     "demo-globex",
}

// world is one test's portal: its own database and task queue, the real
// worker and webhook binaries, the portal running in-process through run,
// and the real identity provider of the stack.
type world struct {
	t       *testing.T
	base    string       // the portal
	direct  *http.Client // no cookie jar, no redirects followed: for requests sent as they are
	webhook string
	st      *store.Store
	drv     *testenv.Driver // the actions, as an operator takes them
	worker  *testenv.Process
	logs    *testenv.Buffer
	vars    map[string]string
	acme    string // partner ids of this world
	globex  string
	dormant string
}

func newWorld(t *testing.T, extra map[string]string) *world {
	t.Helper()
	testenv.RequireStack(t)
	st, dsn := testenv.NewStore(t)
	sfx := testenv.Suffix()
	addr, hookAddr := testenv.FreePort(t), testenv.FreePort(t)
	w := &world{t: t, base: "http://" + addr, webhook: "http://" + hookAddr, st: st, logs: &testenv.Buffer{},
		direct: &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		acme:   "acme-" + sfx, globex: "globex-" + sfx, dormant: "dormant-" + sfx}
	w.vars = map[string]string{"DATABASE_URL": dsn, "TASK_QUEUE": "tq-" + sfx, "PORTAL_ADDR": addr,
		"PUBLIC_BASE_URL": w.webhook, "RESEND_MIN_INTERVAL": "2s", "ONBOARDING_SECRET": "portal-test-secret-0123456789abcdef0123"}
	for k, v := range extra {
		w.vars[k] = v
	}
	workerVars, hookVars := map[string]string{"WORKER_ADDR": testenv.FreePort(t)}, map[string]string{"WEBHOOK_ADDR": hookAddr}
	for k, v := range w.vars {
		workerVars[k], hookVars[k] = v, v
	}
	w.worker = testenv.Start(t, "worker", workerVars)
	testenv.Start(t, "webhook", hookVars)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, testenv.Getenv(w.vars), w.logs, w.logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("portal run: %v", err)
		}
		if t.Failed() {
			t.Logf("--- portal log ---\n%s", stack.Tail(w.logs.String(), 6000))
		}
	})
	testenv.Eventually(t, 30*time.Second, "the portal's /healthz", func() bool {
		resp, err := http.Get(w.base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	w.drv = testenv.NewDriver(t, w.vars)
	// The demo users' partners, and who is on whose staff.
	op := w.drv.Operator
	for _, p := range []struct{ id, name string }{{w.acme, `ACME <Integrators> & "Co"`}, {w.globex, "Globex Partners"}, {w.dormant, "Dormant Partners"}} {
		w.drv.Partner(p.id, p.name)
	}
	if _, err := st.SetPartnerStatus(ctx, w.dormant, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		partner, email, role string
		pii                  bool
	}{
		{w.acme, "owner@acme.example", domain.StaffOwner, true},
		{w.acme, "editor@acme.example", domain.StaffEditor, true},
		{w.acme, "viewer@acme.example", domain.StaffViewer, false},
		{w.dormant, "nostatus@dormant.example", domain.StaffOwner, true},
		{w.globex, "owner@globex.example", domain.StaffOwner, true},
	} {
		if _, err := w.drv.Access.AddStaff(ctx, op, s.partner, s.email, s.role, s.pii); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// browser is a signed-in person: a cookie jar and what they saw last.
type browser struct {
	t    *testing.T
	w    *world
	hc   *http.Client
	csrf string
}

// anonymous is a browser that has not signed in.
func (w *world) anonymous() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: w.t, w: w, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
}

var (
	formAction = regexp.MustCompile(`<form method="post" action="([^"]+)">`)
	hiddenID   = regexp.MustCompile(`name="id" value="([^"]+)"`)
	csrfField  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
)

// signIn signs a demo user in through the real identity provider, as a
// browser does: the portal's /login, the provider's form, the callback.
func (w *world) signIn(email string) *browser {
	w.t.Helper()
	b := w.anonymous()
	b.signIn(email)
	return b
}

// signIn signs the browser in as a demo user.
func (b *browser) signIn(email string) {
	w := b.w
	w.t.Helper()
	a := b.authenticate(email)
	if m := csrfField.FindStringSubmatch(a.body); m != nil {
		b.csrf = m[1]
	}
	if b.csrf == "" && a.status == http.StatusOK {
		w.t.Fatalf("signed in as %s but no page with a session: %d %s\n%s", email, a.status, a.url, a.body)
	}
}

// authenticate starts a sign-in at the portal and signs in as email on
// the identity provider's form, and returns where that led the browser.
func (b *browser) authenticate(email string) answer {
	w := b.w
	w.t.Helper()
	page := b.get("/login")
	if page.status != http.StatusOK || !strings.Contains(page.body, `name="password"`) {
		w.t.Fatalf("the identity provider's sign-in form did not show: %d\n%s", page.status, page.body)
	}
	action, id := formAction.FindStringSubmatch(page.body), hiddenID.FindStringSubmatch(page.body)
	if action == nil || id == nil {
		w.t.Fatalf("no sign-in form in:\n%s", page.body)
	}
	target, err := page.url.Parse(strings.ReplaceAll(action[1], "&amp;", "&"))
	if err != nil {
		w.t.Fatal(err)
	}
	resp, err := b.hc.PostForm(target.String(), url.Values{"id": {id[1]}, "username": {email}, "password": {passwords[email]}})
	if err != nil {
		w.t.Fatal(err)
	}
	return read(w.t, resp)
}

// answer is a response, read.
type answer struct {
	status int
	header http.Header
	body   string
	url    *url.URL
}

func read(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(body), resp.Request.URL}
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	a := read(b.t, resp)
	if m := csrfField.FindStringSubmatch(a.body); m != nil {
		b.csrf = m[1]
	}
	return a
}

func (b *browser) get(path string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.w.base+path, nil)
	return b.do(req)
}

// post submits a form of the portal, with the session's token unless the
// form says otherwise.
func (b *browser) post(path string, form url.Values) answer {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if !form.Has("csrf") {
		form.Set("csrf", b.csrf)
	}
	req, _ := http.NewRequest(http.MethodPost, b.w.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.w.base)
	return b.do(req)
}

// api calls the JSON API with the session (and its token) or, when key is
// set, with an API key.
func (b *browser) api(method, path string, body any, key string) answer {
	b.t.Helper()
	var r io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		r = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.w.base+path, r)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	} else if method != http.MethodGet {
		req.Header.Set("X-CSRF-Token", b.csrf)
		req.Header.Set("Origin", b.w.base)
	}
	resp, err := b.hc.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	return read(b.t, resp)
}

func (a answer) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(a.body), v); err != nil {
		t.Fatalf("not JSON (%v): %d %s", err, a.status, a.body)
	}
}

// expect checks an answer's status and that its body holds every want.
func expect(t *testing.T, a answer, status int, want ...string) {
	t.Helper()
	if a.status != status {
		t.Errorf("status %d, want %d; body:\n%s", a.status, status, stack.Tail(a.body, 3000))
	}
	for _, s := range want {
		if !strings.Contains(a.body, s) {
			t.Errorf("the answer does not contain %q:\n%s", s, stack.Tail(a.body, 3000))
		}
	}
}

// launch adds a customer for a partner as an operator would, and waits for its record.
func (w *world) launch(partner, name string) domain.Subaccount {
	w.t.Helper()
	ctx := context.Background()
	l, err := w.drv.Onboarding.Launch(ctx, domain.Operator("test"), partner, onboarding.NewCustomer{Name: name,
		Email: strings.ToLower(strings.ReplaceAll(testenv.Suffix()+"@customer.example", " ", "")), Contact: "Jane <b>Doe</b>", Cloud: "main-cloud"})
	if err != nil {
		w.t.Fatal(err)
	}
	return w.sent(l.SubaccountID)
}

// sent waits until a launched customer's record exists and its first email is sent.
func (w *world) sent(subaccountID string) domain.Subaccount {
	w.t.Helper()
	var sa domain.Subaccount
	var err error
	testenv.Eventually(w.t, 30*time.Second, "the record of "+subaccountID, func() bool {
		sa, err = w.st.Subaccount(context.Background(), "", subaccountID)
		return err == nil && sa.EmailsSent > 0
	})
	return sa
}

// creds is what a request carries: a session (its cookie and, for a
// state-changing request, its token), an API key, or nothing.
type creds struct {
	cookie string
	csrf   string
	key    string
}

// creds is the browser's session.
func (b *browser) creds() creds {
	b.t.Helper()
	u, _ := url.Parse(b.w.base)
	for _, c := range b.hc.Jar.Cookies(u) {
		if c.Name == "portal_session" {
			return creds{cookie: c.Value, csrf: b.csrf}
		}
	}
	b.t.Fatalf("the browser holds no session")
	return creds{}
}

// raw is a request body sent as it is, such as JSON broken on purpose.
type raw string

// request builds a request as the portal's pages or a machine make it: a
// form (url.Values) to a page, with the session's token in the csrf field,
// or JSON to the API, with the token in X-CSRF-Token; a state-changing one
// comes from the portal's origin. Tests change it to make it cross-site.
func (w *world) request(method, path string, c creds, body any) *http.Request {
	w.t.Helper()
	page := !strings.HasPrefix(path, "/api/")
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case raw:
		r = strings.NewReader(string(b))
	case url.Values:
		f := url.Values{}
		for k, v := range b {
			f[k] = v
		}
		if c.csrf != "" && !f.Has("csrf") {
			f.Set("csrf", c.csrf)
		}
		r = strings.NewReader(f.Encode())
	default:
		j, err := json.Marshal(b)
		if err != nil {
			w.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	if r == nil && page && method == http.MethodPost && c.csrf != "" {
		r = strings.NewReader(url.Values{"csrf": {c.csrf}}.Encode())
	}
	req, err := http.NewRequest(method, w.base+path, r)
	if err != nil {
		w.t.Fatal(err)
	}
	if page && r != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: "portal_session", Value: c.cookie})
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if method != http.MethodGet && method != http.MethodHead {
		req.Header.Set("Origin", w.base)
		if !page && c.csrf != "" {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	return req
}

// send sends a request as it is, following no redirect.
func (w *world) send(req *http.Request) answer {
	w.t.Helper()
	resp, err := w.direct.Do(req)
	if err != nil {
		w.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	return read(w.t, resp)
}

// confirm confirms a customer as the customer does, with the link of its
// email, and waits until it is ACTIVE with its first cloud.
func (w *world) confirm(subaccountID string) {
	w.t.Helper()
	ctx := context.Background()
	sa, err := w.st.Subaccount(ctx, "", subaccountID)
	if err != nil {
		w.t.Fatal(err)
	}
	msgs := testenv.WaitMail(w.t, sa.Email, 1, 30*time.Second)
	token, err := stack.TokenOf(testenv.LinkIn(w.t, msgs[0]))
	if err != nil {
		w.t.Fatal(err)
	}
	if code, _, err := stack.PostConfirm(ctx, http.DefaultClient, w.webhook, token); err != nil || code != http.StatusOK {
		w.t.Fatalf("the customer's confirmation: %d %v", code, err)
	}
	testenv.Eventually(w.t, 30*time.Second, sa.Name+" to be active with a cloud", func() bool {
		sa, err = w.st.Subaccount(ctx, "", subaccountID)
		return err == nil && sa.Status == domain.StatusActive && sa.Clouds > 0
	})
}
