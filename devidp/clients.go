package main

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// The clients the provider knows. Both are the portal, a server-side web app:
// portalClientID authenticates with its secret (as it will against the
// cloud's identity provider) and publicClientID with nothing but PKCE, for a
// relying party that has no secret to keep. Both must use PKCE with S256.
const (
	portalClientID = "portal"
	publicClientID = "portal-public"
)

// Lifetimes of what the provider hands out.
const (
	idTokenLifetime     = time.Hour
	accessTokenLifetime = time.Hour
)

// client is one registered relying party; it implements op.Client and
// op.HasRedirectGlobs.
type client struct {
	id         string
	secretHash [sha256.Size]byte // of the client secret; unused for a public client
	public     bool

	redirectURIs    []string
	redirectGlobs   []string
	postLogoutURIs  []string
	postLogoutGlobs []string
}

var _ op.HasRedirectGlobs = (*client)(nil)

// newClients registers the portal twice: confidential with secret, and public.
func newClients(secret string, redirectURIs, postLogoutURIs []string) map[string]*client {
	clients := map[string]*client{}
	for _, c := range []*client{
		{id: portalClientID, secretHash: sha256.Sum256([]byte(secret))},
		{id: publicClientID, public: true},
	} {
		c.redirectURIs, c.redirectGlobs = redirectURIs, anyLoopbackPort(redirectURIs)
		c.postLogoutURIs, c.postLogoutGlobs = postLogoutURIs, anyLoopbackPort(postLogoutURIs)
		clients[c.id] = c
	}
	return clients
}

// checkSecret reports whether secret authenticates the client, in constant
// time. A public client has no secret, so only the empty one fits it.
func (c *client) checkSecret(secret string) error {
	if c.public {
		if secret != "" {
			return errors.New("public client sent a secret")
		}
		return nil
	}
	got := sha256.Sum256([]byte(secret))
	if subtle.ConstantTimeCompare(got[:], c.secretHash[:]) != 1 {
		return errors.New("wrong client secret")
	}
	return nil
}

// anyLoopbackPort returns, for each http URI on 127.0.0.1 with a port, glob
// patterns that match the same URI on any other port. This is a development
// relaxation: tests run the portal on free ports. The port must be digits, so
// "http://127.0.0.1:1@evil.example/" does not match.
func anyLoopbackPort(uris []string) []string {
	var globs []string
	for _, raw := range uris {
		u, err := url.Parse(raw)
		if err != nil || u.Port() == "" || u.User != nil || !net.ParseIP(u.Hostname()).IsLoopback() {
			continue
		}
		rest, ok := strings.CutPrefix(raw, "http://"+u.Host)
		if !ok {
			continue
		}
		host := strings.TrimSuffix(u.Host, ":"+u.Port()) // keeps the brackets of [::1]
		digits := "[1-9]"
		for range 5 { // ports have one to five digits
			globs = append(globs, "http://"+globEscape(host)+":"+digits+globEscape(rest))
			digits += "[0-9]"
		}
	}
	return globs
}

// globEscape quotes what both path.Match (post-logout URIs) and doublestar
// (redirect URIs) would read as a pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]{}\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// GetID returns the client id.
func (c *client) GetID() string { return c.id }

// RedirectURIs returns the configured redirect URIs.
func (c *client) RedirectURIs() []string { return c.redirectURIs }

// RedirectURIGlobs returns the loopback any-port patterns of the redirect URIs.
func (c *client) RedirectURIGlobs() []string { return c.redirectGlobs }

// PostLogoutRedirectURIs returns the configured post-logout redirect URIs.
func (c *client) PostLogoutRedirectURIs() []string { return c.postLogoutURIs }

// PostLogoutRedirectURIGlobs returns the loopback any-port patterns of the post-logout URIs.
func (c *client) PostLogoutRedirectURIGlobs() []string { return c.postLogoutGlobs }

// ApplicationType is web for both: the portal is a server-side web app.
func (c *client) ApplicationType() op.ApplicationType { return op.ApplicationTypeWeb }

// AuthMethod is client_secret_basic (the library accepts client_secret_post
// too) for the confidential client and none for the public one.
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes allows the authorization code flow only.
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}

// GrantTypes allows the authorization code grant only: the portal keeps its
// own sessions and needs no refresh tokens.
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode}
}

// LoginURL is where the provider sends the browser to sign in.
func (c *client) LoginURL(authRequestID string) string {
	return loginPath + "?authRequestID=" + url.QueryEscape(authRequestID)
}

// AccessTokenType is opaque bearer: only this provider reads access tokens.
func (c *client) AccessTokenType() op.AccessTokenType { return op.AccessTokenTypeBearer }

// IDTokenLifetime returns how long ID tokens are valid.
func (c *client) IDTokenLifetime() time.Duration { return idTokenLifetime }

// DevMode is off: the loopback relaxation is the globs above, nothing more.
func (c *client) DevMode() bool { return false }

// RestrictAdditionalIdTokenScopes keeps the scopes as they are.
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// RestrictAdditionalAccessTokenScopes keeps the scopes as they are.
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(scopes []string) []string { return scopes }
}

// IsScopeAllowed allows no scope beyond the standard ones.
func (c *client) IsScopeAllowed(string) bool { return false }

// IDTokenUserinfoClaimsAssertion puts email and name into the ID token too,
// as most identity providers do, so the portal can read them without a
// userinfo call.
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }

// ClockSkew allows none: everything runs on one machine.
func (c *client) ClockSkew() time.Duration { return 0 }
