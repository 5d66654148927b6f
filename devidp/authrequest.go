package main

import (
	"log/slog"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// authRequest is one sign-in, from /authorize until its code is exchanged.
// It is a value: storage replaces it whole when the user signs in.
type authRequest struct {
	id           string
	created      time.Time
	clientID     string
	redirectURI  string
	state        string
	nonce        string
	scopes       []string
	responseType oidc.ResponseType
	responseMode oidc.ResponseMode
	challenge    *oidc.CodeChallenge

	subject  string // set by the login form
	authTime time.Time
	done     bool
}

var (
	_ op.AuthRequest    = authRequest{}
	_ op.LogAuthRequest = authRequest{}
)

// LogValue names the request in the library's logs without its state, nonce or challenge.
func (a authRequest) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", a.id),
		slog.String("client_id", a.clientID),
		slog.String("redirect_uri", a.redirectURI),
	)
}

// GetID returns the sign-in's id, which the login form carries.
func (a authRequest) GetID() string { return a.id }

// GetACR returns no authentication context class.
func (a authRequest) GetACR() string { return "" }

// GetAMR says the user signed in with a password.
func (a authRequest) GetAMR() []string {
	if a.done {
		return []string{"pwd"}
	}
	return nil
}

// GetAudience is the client alone.
func (a authRequest) GetAudience() []string { return []string{a.clientID} }

// GetAuthTime returns when the user signed in.
func (a authRequest) GetAuthTime() time.Time { return a.authTime }

// GetClientID returns the client that asked.
func (a authRequest) GetClientID() string { return a.clientID }

// GetCodeChallenge returns the PKCE challenge.
func (a authRequest) GetCodeChallenge() *oidc.CodeChallenge { return a.challenge }

// GetNonce returns the nonce for the ID token.
func (a authRequest) GetNonce() string { return a.nonce }

// GetRedirectURI returns the validated redirect URI.
func (a authRequest) GetRedirectURI() string { return a.redirectURI }

// GetResponseType returns the response type (code).
func (a authRequest) GetResponseType() oidc.ResponseType { return a.responseType }

// GetResponseMode returns the response mode the client asked for.
func (a authRequest) GetResponseMode() oidc.ResponseMode { return a.responseMode }

// GetScopes returns the granted scopes.
func (a authRequest) GetScopes() []string { return slices.Clone(a.scopes) }

// GetState returns the client's state.
func (a authRequest) GetState() string { return a.state }

// GetSubject returns the signed-in user's sub.
func (a authRequest) GetSubject() string { return a.subject }

// Done reports whether the user has signed in.
func (a authRequest) Done() bool { return a.done }
