package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
)

// loginKeep is how long a sign-in under way may take at the identity provider.
const loginKeep = 10 * time.Minute

// authenticator is the portal as an OpenID Connect relying party:
// authorization code flow with PKCE against the configured issuer. The
// issuer's discovery document is read on first use, so the portal starts
// even while the identity provider is still coming up.
type authenticator struct {
	issuer, clientID, clientSecret string
	redirectURL                    string

	mu       sync.Mutex
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	oauth    *oauth2.Config
	endURL   string // the issuer's end_session_endpoint, if it has one
}

func newAuthenticator(set settings) *authenticator {
	return &authenticator{issuer: set.issuer, clientID: set.clientID, clientSecret: set.clientSecret, redirectURL: set.publicURL + "/auth/callback"}
}

// client returns the OAuth2 client and ID-token verifier, discovering the issuer on first use.
func (a *authenticator) client(ctx context.Context) (*oauth2.Config, *oidc.IDTokenVerifier, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.provider != nil {
		return a.oauth, a.verifier, nil
	}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(dctx, a.issuer)
	if err != nil {
		return nil, nil, fmt.Errorf("the identity provider %s does not answer (%w): check OIDC_ISSUER, or run `make up` locally", a.issuer, err)
	}
	var extra struct {
		EndSession string `json:"end_session_endpoint"`
	}
	_ = p.Claims(&extra)
	endpoint := p.Endpoint()
	// The client authenticates with HTTP Basic: x/oauth2 would otherwise
	// retry a failed exchange with the same (single-use) code.
	endpoint.AuthStyle = oauth2.AuthStyleInHeader
	a.provider, a.endURL = p, extra.EndSession
	a.verifier = p.Verifier(&oidc.Config{ClientID: a.clientID})
	a.oauth = &oauth2.Config{ClientID: a.clientID, ClientSecret: a.clientSecret, Endpoint: endpoint,
		RedirectURL: a.redirectURL, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	return a.oauth, a.verifier, nil
}

func random(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// login sends the browser to the identity provider with a fresh state,
// nonce and PKCE verifier, remembered server-side for the callback; the
// state also in a cookie, so that only this browser can finish the sign-in.
func (s *server) login(w http.ResponseWriter, r *http.Request) {
	oauth, _, err := s.auth.client(r.Context())
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	l := store.Login{State: random(32), Verifier: oauth2.GenerateVerifier(), Nonce: random(32), ReturnTo: localPath(r.URL.Query().Get("return"))}
	if err := s.store.StartLogin(r.Context(), l, s.now(), loginKeep); err != nil {
		s.failPage(w, r, err)
		return
	}
	http.SetCookie(w, s.newCookie(s.loginCookie(), l.State, int(loginKeep.Seconds())))
	http.Redirect(w, r, oauth.AuthCodeURL(l.State, oidc.Nonce(l.Nonce), oauth2.S256ChallengeOption(l.Verifier)), http.StatusSeeOther)
}

// Why a sign-in fails; problemFor words each for people.
var (
	errLoginState   = domain.New(domain.Invalid, "LoginState", "this sign-in is unknown, used or too old")
	errLoginRefused = domain.New(domain.Invalid, "LoginRefused", "the identity provider did not sign you in")
	errNotStaff     = domain.New(domain.Forbidden, "NotStaff", "you are not on any partner's staff")
)

// callback finishes a sign-in: the state must be the one this browser
// started with (else the callback URL of someone else's sign-in, sent to a
// victim, would sign the victim in as them) and is taken once, the code
// exchanged with the PKCE verifier, the ID token verified (issuer,
// audience, expiry, nonce), and the person found on a partner's staff.
// Then a new session starts under a new id: a session id planted before
// sign-in is worth nothing.
func (s *server) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("error") != "" {
		// The provider's words came in the URL: logged, never shown.
		s.logger.Info("sign-in refused by the identity provider", "error", text.Truncate(q.Get("error"), 60))
		s.failPage(w, r, errLoginRefused)
		return
	}
	if c, err := r.Cookie(s.loginCookie()); err != nil || !sameToken(c.Value, q.Get("state")) {
		s.failPage(w, r, errLoginState)
		return
	}
	http.SetCookie(w, s.newCookie(s.loginCookie(), "", -1))
	l, err := s.store.FinishLogin(r.Context(), q.Get("state"), s.now(), loginKeep)
	if errors.Is(err, domain.ErrNotFound) {
		s.failPage(w, r, errLoginState)
		return
	}
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	oauth, verifier, err := s.auth.client(r.Context())
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	tok, err := oauth.Exchange(r.Context(), q.Get("code"), oauth2.VerifierOption(l.Verifier))
	if err != nil {
		s.logger.Info("sign-in refused: code exchange", "error", err)
		s.failPage(w, r, errLoginRefused)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := verifier.Verify(r.Context(), raw)
	if err != nil || idt.Nonce != l.Nonce {
		s.logger.Info("sign-in refused: ID token", "error", err)
		s.failPage(w, r, errLoginRefused)
		return
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified bool   `json:"email_verified"`
	}
	if err := idt.Claims(&claims); err != nil {
		s.failPage(w, r, errLoginRefused)
		return
	}
	st, err := s.actions.Access.SignIn(r.Context(), idt.Issuer, idt.Subject, claims.Email, claims.EmailVerified, httpserver.ClientAddr(r))
	if errors.Is(err, domain.ErrNotFound) {
		s.failPage(w, r, errNotStaff)
		return
	}
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	id, now := random(32), s.now()
	if err := s.store.CreateSession(r.Context(), id, st.ID, random(32), httpserver.ClientAddr(r), text.Truncate(r.UserAgent(), 200),
		now, now.Add(s.set.sessionMax)); err != nil {
		s.failPage(w, r, err)
		return
	}
	http.SetCookie(w, s.newCookie(s.sessionCookie(), id, int(s.set.sessionMax.Seconds())))
	http.Redirect(w, r, l.ReturnTo, http.StatusSeeOther)
}

// logout ends the session on the server — the cookie, even copied, opens
// nothing afterwards — and at the identity provider.
func (s *server) logout(w http.ResponseWriter, r *http.Request) {
	id := whoFrom(r.Context())
	if err := s.store.EndSession(r.Context(), id.sessionID); err != nil {
		s.failPage(w, r, err)
		return
	}
	s.actions.Access.SignOut(r.Context(), id.actor)
	http.SetCookie(w, s.newCookie(s.sessionCookie(), "", -1))
	next := "/signed-out"
	if _, _, err := s.auth.client(r.Context()); err == nil && s.auth.endURL != "" {
		next = s.auth.endURL + "?" + url.Values{"client_id": {s.set.clientID},
			"post_logout_redirect_uri": {s.set.publicURL + "/signed-out"}}.Encode()
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// newCookie is one of the portal's cookies, holding value for maxAge
// seconds (-1: delete it): out of scripts' reach, sent on top-level
// navigation from other sites but not on their posts, and over TLS only
// wherever the portal has TLS.
func (s *server) newCookie(name, value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: maxAge}
}

func (s *server) signedOut(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signedout", page{Title: "Signed out"})
}
