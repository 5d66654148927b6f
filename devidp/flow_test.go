package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestSignIn runs the portal's whole sign-in for every demo user, with each
// way a client can authenticate at the token endpoint.
func TestSignIn(t *testing.T) {
	p := startIDP(t, nil)
	tests := []struct {
		name, clientID, secret string
		style                  oauth2.AuthStyle
		email, password        string
		wantSub, wantName      string
	}{
		{"secret in header", portalClientID, testSecret, oauth2.AuthStyleInHeader, "owner@acme.example", "demo-owner", "user-acme-owner", "Olivia Owner"},
		{"secret, style detected", portalClientID, testSecret, oauth2.AuthStyleAutoDetect, "owner@acme.example", "demo-owner", "user-acme-owner", "Olivia Owner"},
		{"secret in form", portalClientID, testSecret, oauth2.AuthStyleInParams, "editor@acme.example", "demo-editor", "user-acme-editor", "Eddie Editor"},
		{"public client", publicClientID, "", oauth2.AuthStyleInParams, "viewer@acme.example", "demo-viewer", "user-acme-viewer", "Vera Viewer"},
		{"partner without status", portalClientID, testSecret, oauth2.AuthStyleInHeader, "nostatus@dormant.example", "demo-nostatus", "user-dormant-nostatus", "Nora Nostatus"},
		{"second partner, email in other case", portalClientID, testSecret, oauth2.AuthStyleInHeader, "Owner@Globex.example", "demo-globex", "user-globex-owner", "Gus Globex"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRP(t, p, tt.clientID, tt.secret, tt.style)
			s := r.signIn(t, tt.email, tt.password)

			var claims struct {
				Email         string `json:"email"`
				EmailVerified bool   `json:"email_verified"`
				Name          string `json:"name"`
			}
			if err := s.idToken.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			wantEmail := strings.ToLower(tt.email)
			if s.idToken.Subject != tt.wantSub || claims.Email != wantEmail || !claims.EmailVerified || claims.Name != tt.wantName {
				t.Errorf("ID token: sub %q, claims %+v; want sub %q, email %q verified, name %q",
					s.idToken.Subject, claims, tt.wantSub, wantEmail, tt.wantName)
			}
			if s.idToken.Issuer != p.issuer || !slices.Equal(s.idToken.Audience, []string{tt.clientID}) {
				t.Errorf("ID token: iss %q aud %v", s.idToken.Issuer, s.idToken.Audience)
			}

			info, err := r.userinfo(s)
			if err != nil {
				t.Fatalf("userinfo: %v", err)
			}
			if info.Subject != tt.wantSub || info.Email != wantEmail || !info.EmailVerified {
				t.Errorf("userinfo: %+v", info)
			}

			// Nothing secret reaches the log.
			logs := p.logs(t)
			for what, secret := range map[string]string{
				"password": tt.password, "access token": s.token.AccessToken, "ID token": s.rawIDToken,
				"client secret": testSecret,
			} {
				if strings.Contains(logs, secret) {
					t.Errorf("the log contains the %s", what)
				}
			}
		})
	}
}

// TestLoginRefused shows the form again with 401 for a wrong email or
// password, escapes what was typed, and lets the person try again.
func TestLoginRefused(t *testing.T) {
	p := startIDP(t, nil)
	r := newRP(t, p, portalClientID, testSecret, oauth2.AuthStyleInHeader)
	tests := []struct{ name, email, password string }{
		{"wrong password", "owner@acme.example", "demo-editor"},
		{"unknown user", "nobody@acme.example", "demo-owner"},
		{"empty password", "owner@acme.example", ""},
		{"markup in the email", `"><script>alert(1)</script>`, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := r.start()
			b := newBrowser()
			f := b.get(t, s.authURL).form(t)
			f.fields.Set("username", tt.email)
			f.fields.Set("password", tt.password)
			again := b.submit(t, f)
			if again.status != http.StatusUnauthorized || !strings.Contains(again.body, "Unknown email or wrong password.") {
				t.Fatalf("status %d, want 401 with the error\n%s", again.status, again.body)
			}
			if strings.Contains(again.body, "<script>") {
				t.Fatalf("the typed email is not escaped:\n%s", again.body)
			}
			retry := again.form(t)
			if retry.fields.Get("username") != tt.email || retry.fields.Get("id") != f.fields.Get("id") {
				t.Errorf("form shown again with username %q id %q", retry.fields.Get("username"), retry.fields.Get("id"))
			}
			retry.fields.Set("username", "owner@acme.example")
			retry.fields.Set("password", "demo-owner")
			if done := b.submit(t, retry); done.status != http.StatusOK || r.lastCallback(t).Get("state") != s.state {
				t.Fatalf("retry with the right password: status %d at %s", done.status, done.url)
			}
		})
	}
}

// TestCodeSingleUse: a code is exchanged once; presenting it again fails and
// revokes the tokens it was first exchanged for.
func TestCodeSingleUse(t *testing.T) {
	p := startIDP(t, nil)
	r := newRP(t, p, portalClientID, testSecret, oauth2.AuthStyleInHeader)
	s := r.start()
	code := r.browse(t, s, "owner@acme.example", "demo-owner")
	tok, err := r.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(s.verifier))
	if err != nil {
		t.Fatalf("first exchange: %v", err)
	}
	_, err = r.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(s.verifier))
	if got := oauthError(t, err); got != "invalid_grant" {
		t.Errorf("second exchange: error %q, want invalid_grant", got)
	}
	if _, err := r.userinfo(session{token: tok}); err == nil {
		t.Error("the first exchange's access token still works after the code was replayed")
	}
}

// TestPKCERefused: the code is worth nothing without the verifier that
// matches its challenge, and a failed exchange uses it up.
func TestPKCERefused(t *testing.T) {
	p := startIDP(t, nil)
	tests := []struct {
		name     string
		opts     []oauth2.AuthCodeOption
		wantCode string
	}{
		{"wrong verifier", []oauth2.AuthCodeOption{oauth2.VerifierOption(oauth2.GenerateVerifier())}, "invalid_grant"},
		{"no verifier", nil, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRP(t, p, publicClientID, "", oauth2.AuthStyleInParams)
			s := r.start()
			code := r.browse(t, s, "owner@acme.example", "demo-owner")
			_, err := r.oauth.Exchange(context.Background(), code, tt.opts...)
			if got := oauthError(t, err); got != tt.wantCode {
				t.Errorf("error %q, want %q", got, tt.wantCode)
			}
			_, err = r.oauth.Exchange(context.Background(), code, oauth2.VerifierOption(s.verifier))
			if got := oauthError(t, err); got != "invalid_grant" {
				t.Errorf("then with the right verifier: error %q, want invalid_grant", got)
			}
		})
	}
}

// TestAuthorizeRefused: bad authorization requests never reach the login
// form. Those whose redirect URI is not registered are answered by the
// provider itself, never redirected; the others go back to the client with
// an OAuth error.
func TestAuthorizeRefused(t *testing.T) {
	p := startIDP(t, nil)
	r := newRP(t, p, portalClientID, testSecret, oauth2.AuthStyleInHeader)
	valid := func() url.Values {
		u, err := url.Parse(r.start().authURL)
		if err != nil {
			t.Fatal(err)
		}
		return u.Query()
	}
	tests := []struct {
		name      string
		change    func(url.Values)
		wantError string // "" means a 400 from the provider
	}{
		{"unregistered path", func(q url.Values) { q.Set("redirect_uri", r.base+"/elsewhere") }, ""},
		{"unregistered host", func(q url.Values) { q.Set("redirect_uri", "http://evil.example/auth/callback") }, ""},
		{"userinfo trick", func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:1@evil.example/auth/callback") }, ""},
		{"https instead of http", func(q url.Values) { q.Set("redirect_uri", strings.Replace(r.oauth.RedirectURL, "http:", "https:", 1)) }, ""},
		{"unknown client", func(q url.Values) { q.Set("client_id", "intruder") }, ""},
		{"no PKCE", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }, "invalid_request"},
		{"plain PKCE", func(q url.Values) { q.Set("code_challenge_method", "plain") }, "invalid_request"},
		{"implicit flow", func(q url.Values) { q.Set("response_type", "id_token") }, ""}, // http redirect: refused in place
		{"prompt none", func(q url.Values) { q.Set("prompt", "none") }, "login_required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := valid()
			tt.change(q)
			resp := noRedirects().get(t, p.issuer+"/authorize?"+q.Encode())
			loc := resp.header.Get("Location")
			if tt.wantError == "" {
				if resp.status != http.StatusBadRequest || loc != "" {
					t.Fatalf("status %d location %q, want 400 and no redirect", resp.status, loc)
				}
				return
			}
			u, err := url.Parse(loc)
			if resp.status != http.StatusFound || err != nil || !strings.HasPrefix(loc, r.oauth.RedirectURL+"?") {
				t.Fatalf("status %d location %q, want a redirect to the callback", resp.status, loc)
			}
			if got := u.Query().Get("error"); got != tt.wantError || u.Query().Get("code") != "" {
				t.Errorf("callback query %v, want error %q and no code", u.Query(), tt.wantError)
			}
		})
	}
}

// TestEndSession: RP-initiated logout returns to a registered post-logout
// URI with the state, and the signed-out user's access token stops working.
func TestEndSession(t *testing.T) {
	p := startIDP(t, nil)
	r := newRP(t, p, portalClientID, testSecret, oauth2.AuthStyleInHeader)
	s := r.signIn(t, "editor@acme.example", "demo-editor")
	endSession := func(q url.Values) page { return noRedirects().get(t, p.issuer+"/end_session?"+q.Encode()) }

	refused := endSession(url.Values{"id_token_hint": {s.rawIDToken}, "post_logout_redirect_uri": {"http://evil.example/"}})
	if refused.status != http.StatusBadRequest {
		t.Errorf("unregistered post_logout_redirect_uri: status %d, want 400", refused.status)
	}
	if _, err := r.userinfo(s); err != nil {
		t.Fatalf("a refused logout signed the user out: %v", err)
	}

	out := endSession(url.Values{"id_token_hint": {s.rawIDToken}, "post_logout_redirect_uri": {r.base + "/"}, "state": {"s-1"}})
	if loc := out.header.Get("Location"); out.status != http.StatusFound || loc != r.base+"/?state=s-1" {
		t.Fatalf("logout: status %d location %q, want 302 to %s/?state=s-1", out.status, loc, r.base)
	}
	if _, err := r.userinfo(s); err == nil {
		t.Error("the access token still works after logout")
	}

	bare := endSession(url.Values{})
	if loc := bare.header.Get("Location"); bare.status != http.StatusFound || loc != loggedOutPath {
		t.Fatalf("logout without a client: status %d location %q, want %s", bare.status, loc, loggedOutPath)
	}
	if page := newBrowser().get(t, p.issuer+loggedOutPath); page.status != http.StatusOK || !strings.Contains(page.body, "signed out") {
		t.Errorf("signed-out page: status %d\n%s", page.status, page.body)
	}
}

// TestRevoke: a revoked access token no longer opens userinfo and
// introspects as inactive, and a client cannot revoke another's token.
func TestRevoke(t *testing.T) {
	p := startIDP(t, nil)
	portal := newRP(t, p, portalClientID, testSecret, oauth2.AuthStyleInHeader)
	s := portal.signIn(t, "viewer@acme.example", "demo-viewer")
	introspect := func() (active bool, sub string) {
		req, err := http.NewRequest(http.MethodPost, p.issuer+"/oauth/introspect",
			strings.NewReader(url.Values{"token": {s.token.AccessToken}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(portalClientID, testSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Active bool   `json:"active"`
			Sub    string `json:"sub"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatalf("introspection: status %d: %v", resp.StatusCode, err)
		}
		return got.Active, got.Sub
	}
	if active, sub := introspect(); !active || sub != "user-acme-viewer" {
		t.Errorf("introspection before revoking: active %v sub %q", active, sub)
	}
	revoke := func(clientID, secret string) int {
		req, err := http.NewRequest(http.MethodPost, p.issuer+"/revoke",
			strings.NewReader(url.Values{"token": {s.token.AccessToken}, "token_type_hint": {"access_token"}, "client_id": {clientID}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if secret != "" {
			req.SetBasicAuth(clientID, secret)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := revoke(publicClientID, ""); status != http.StatusUnauthorized {
		t.Errorf("revoke by another client: status %d, want 401", status)
	}
	if _, err := portal.userinfo(s); err != nil {
		t.Fatalf("another client revoked the portal's token: %v", err)
	}
	if status := revoke(portalClientID, "wrong"); status != http.StatusUnauthorized {
		t.Errorf("revoke with a wrong secret: status %d, want 401", status)
	}
	if status := revoke(portalClientID, testSecret); status != http.StatusOK {
		t.Fatalf("revoke: status %d", status)
	}
	if _, err := portal.userinfo(s); err == nil {
		t.Error("the access token still works after revocation")
	}
	if active, _ := introspect(); active {
		t.Error("introspection says the revoked token is active")
	}
}

// TestDiscovery checks what a relying party reads before anything else.
func TestDiscovery(t *testing.T) {
	p := startIDP(t, nil)
	b := newBrowser()
	var doc struct {
		Issuer             string   `json:"issuer"`
		EndSession         string   `json:"end_session_endpoint"`
		Revocation         string   `json:"revocation_endpoint"`
		JWKS               string   `json:"jwks_uri"`
		CodeChallenge      []string `json:"code_challenge_methods_supported"`
		TokenEndpointAuths []string `json:"token_endpoint_auth_methods_supported"`
	}
	disc := b.get(t, p.issuer+"/.well-known/openid-configuration")
	if err := json.Unmarshal([]byte(disc.body), &doc); err != nil {
		t.Fatalf("discovery: %v\n%s", err, disc.body)
	}
	if doc.Issuer != p.issuer || doc.EndSession != p.issuer+"/end_session" || doc.Revocation != p.issuer+"/revoke" ||
		!slices.Equal(doc.CodeChallenge, []string{"S256"}) ||
		!slices.Contains(doc.TokenEndpointAuths, "client_secret_basic") || !slices.Contains(doc.TokenEndpointAuths, "none") {
		t.Errorf("discovery: %+v", doc)
	}
	var jwks struct {
		Keys []struct{ Kty, Alg, Use, Kid string }
	}
	if err := json.Unmarshal([]byte(b.get(t, doc.JWKS).body), &jwks); err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 1 || jwks.Keys[0].Kty != "RSA" || jwks.Keys[0].Alg != "RS256" || jwks.Keys[0].Use != "sig" || jwks.Keys[0].Kid == "" {
		t.Errorf("JWKS: %+v", jwks)
	}
	if page := b.get(t, p.issuer+loginPath+"?authRequestID=made-up"); page.status != http.StatusBadRequest {
		t.Errorf("login page for an unknown sign-in: status %d, want 400", page.status)
	}
}
