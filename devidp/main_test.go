package main

import (
	"context"
	"crypto/rand"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// testSecret is the confidential client's secret in tests.
const testSecret = "test-secret-of-the-portal"

// idp is a provider started through run, as main starts it, on a free port.
type idp struct {
	issuer  string
	logFile string
}

// startIDP runs the provider with vars as its environment and args as its
// flags, waits until it answers, and stops it when the test ends.
func startIDP(t *testing.T, vars map[string]string, args ...string) *idp {
	t.Helper()
	addr := freeAddr(t)
	env := map[string]string{"DEVIDP_ADDR": addr, "DEVIDP_CLIENT_SECRET": testSecret}
	maps.Copy(env, vars)
	p := &idp{issuer: "http://" + addr, logFile: filepath.Join(t.TempDir(), "devidp.log")}
	logs, err := os.Create(p.logFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, func(k string) string { return env[k] }, logs, logs) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		logs.Close()
		if t.Failed() {
			t.Logf("--- devidp log ---\n%s", p.logs(t))
		}
	})

	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case err := <-done:
			t.Fatalf("run ended before serving: %v", err)
		default:
		}
		resp, err := http.Get(p.issuer + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("devidp not healthy at %s: %v", p.issuer, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// logs returns what the provider has logged so far.
func (p *idp) logs(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.logFile)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// rp is a relying party as the portal will be: go-oidc for discovery and
// ID tokens, x/oauth2 for the code flow, and a callback on a free loopback
// port (allowed by the provider's any-port rule).
type rp struct {
	provider *oidc.Provider
	oauth    oauth2.Config
	verifier *oidc.IDTokenVerifier
	base     string // the callback server's URL, the post-logout redirect URI's base

	mu        sync.Mutex
	callbacks []url.Values // the query of each request to the callback
}

// newRP discovers the provider and registers as clientID; secret "" means
// the public client.
func newRP(t *testing.T, p *idp, clientID, secret string, style oauth2.AuthStyle) *rp {
	t.Helper()
	provider, err := oidc.NewProvider(context.Background(), p.issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	r := &rp{provider: provider}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.callbacks = append(r.callbacks, req.URL.Query())
		r.mu.Unlock()
		_, _ = io.WriteString(w, "relying party reached\n")
	}))
	t.Cleanup(srv.Close)
	r.base = srv.URL
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = style
	r.oauth = oauth2.Config{
		ClientID: clientID, ClientSecret: secret, Endpoint: endpoint,
		RedirectURL: srv.URL + "/auth/callback",
		Scopes:      []string{oidc.ScopeOpenID, "email", "profile"},
	}
	r.verifier = provider.Verifier(&oidc.Config{ClientID: clientID})
	return r
}

// start is the portal's half of a sign-in before the browser leaves.
type start struct {
	authURL, state, nonce, verifier string
}

func (r *rp) start() start {
	s := start{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	s.authURL = r.oauth.AuthCodeURL(s.state, oidc.Nonce(s.nonce), oauth2.S256ChallengeOption(s.verifier))
	return s
}

// lastCallback returns the query of the latest request to the callback.
func (r *rp) lastCallback(t *testing.T) url.Values {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.callbacks) == 0 {
		t.Fatal("the relying party's callback was never reached")
	}
	return r.callbacks[len(r.callbacks)-1]
}

// session is what the portal holds after a sign-in.
type session struct {
	token      *oauth2.Token
	rawIDToken string
	idToken    *oidc.IDToken
}

// signIn runs a whole sign-in as the given user and returns the verified
// session; any step that fails fails the test.
func (r *rp) signIn(t *testing.T, email, password string) session {
	t.Helper()
	s := r.start()
	code := r.browse(t, s, email, password)
	tok, err := r.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(s.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		t.Fatal("token response has no id_token")
	}
	idt, err := r.verifier.Verify(context.Background(), raw) // signature, issuer, audience, expiry
	if err != nil {
		t.Fatalf("verify ID token: %v", err)
	}
	if idt.Nonce != s.nonce {
		t.Fatalf("ID token nonce = %q, want %q", idt.Nonce, s.nonce)
	}
	return session{token: tok, rawIDToken: raw, idToken: idt}
}

// browse plays the browser: it opens the authorization URL, fills in the
// login form and follows the redirects to the callback, whose code it returns.
func (r *rp) browse(t *testing.T, s start, email, password string) string {
	t.Helper()
	b := newBrowser()
	page := b.get(t, s.authURL)
	if page.status != http.StatusOK {
		t.Fatalf("login page: status %d\n%s", page.status, page.body)
	}
	f := page.form(t)
	f.fields.Set("username", email)
	f.fields.Set("password", password)
	done := b.submit(t, f)
	if done.status != http.StatusOK || !strings.HasPrefix(done.url.String(), r.oauth.RedirectURL) {
		t.Fatalf("after login: status %d at %s\n%s", done.status, done.url, done.body)
	}
	q := r.lastCallback(t)
	if q.Get("state") != s.state {
		t.Fatalf("callback state = %q, want %q", q.Get("state"), s.state)
	}
	if q.Get("code") == "" {
		t.Fatalf("callback without code: %v", q)
	}
	return q.Get("code")
}

// browser is an HTTP client that follows redirects, or not, as a test needs.
type browser struct{ c *http.Client }

func newBrowser() *browser { return &browser{c: &http.Client{Timeout: 10 * time.Second}} }

// noRedirects returns a browser that stops at the first redirect.
func noRedirects() *browser {
	b := newBrowser()
	b.c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return b
}

// page is a response as a test reads it.
type page struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func (b *browser) get(t *testing.T, u string) page {
	t.Helper()
	return b.do(t, http.MethodGet, u, nil)
}

func (b *browser) submit(t *testing.T, f form) page {
	t.Helper()
	return b.do(t, f.method, f.action, f.fields)
}

func (b *browser) do(t *testing.T, method, u string, fields url.Values) page {
	t.Helper()
	var body io.Reader
	if fields != nil {
		body = strings.NewReader(fields.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if fields != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return page{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(data)}
}

// form is an HTML form as a browser would submit it.
type form struct {
	method, action string
	fields         url.Values
}

// form parses the page's first form: its method, its action resolved
// against the page's URL, and the names and values of its inputs.
func (p page) form(t *testing.T) form {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(p.body))
	if err != nil {
		t.Fatal(err)
	}
	var found *html.Node
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "form" {
			found = n
			break
		}
	}
	if found == nil {
		t.Fatalf("no form on %s\n%s", p.url, p.body)
	}
	f := form{method: strings.ToUpper(attr(found, "method")), fields: url.Values{}}
	action, err := p.url.Parse(attr(found, "action"))
	if err != nil {
		t.Fatal(err)
	}
	f.action = action.String()
	for n := range found.Descendants() {
		if n.Type == html.ElementNode && n.Data == "input" && attr(n, "name") != "" {
			f.fields.Set(attr(n, "name"), attr(n, "value"))
		}
	}
	return f
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// oauthError returns the OAuth error code of a failed token request.
func oauthError(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want an OAuth error response, got %v", err)
	}
	return re.ErrorCode
}

// userinfo calls the userinfo endpoint with the session's access token.
func (r *rp) userinfo(s session) (*oidc.UserInfo, error) {
	return r.provider.UserInfo(context.Background(), oauth2.StaticTokenSource(s.token))
}
