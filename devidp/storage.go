package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
)

// How long the steps of a sign-in stay valid.
const (
	authRequestTTL = 10 * time.Minute // from /authorize to the token exchange
	codeTTL        = time.Minute      // from the redirect to the token exchange
)

// errNotFound answers a lookup of an unknown or expired id.
var errNotFound = errors.New("not found or expired")

// storage keeps sign-ins and tokens in memory, which is enough for a
// development fixture: a restart signs everybody out. It implements
// op.Storage; values handed to the library are copies, so a sign-in that
// completes concurrently never changes them underneath it.
type storage struct {
	users   *users
	clients map[string]*client
	key     *signingKey
	logger  *slog.Logger

	mu           sync.Mutex
	authRequests map[string]authRequest
	codes        map[string]code
	usedCodes    map[string]code // kept until they expire, to detect a replay
	tokens       map[string]accessToken
}

// code is an authorization code: which sign-in it stands for, and since when.
type code struct {
	authRequestID string
	issued        time.Time
}

// accessToken is what an opaque access token refers to.
type accessToken struct {
	clientID      string
	authRequestID string
	subject       string
	scopes        []string
	expires       time.Time
}

var (
	_ op.Storage                   = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest = (*storage)(nil)
)

func newStorage(us *users, clients map[string]*client, key *signingKey, logger *slog.Logger) *storage {
	return &storage{
		users: us, clients: clients, key: key, logger: logger,
		authRequests: map[string]authRequest{},
		codes:        map[string]code{},
		usedCodes:    map[string]code{},
		tokens:       map[string]accessToken{},
	}
}

// CreateAuthRequest stores a validated authorization request. It refuses one
// without PKCE S256: the portal must prove at the token endpoint that it is
// the party that started the sign-in.
func (s *storage) CreateAuthRequest(_ context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	if slices.Contains(req.Prompt, oidc.PromptNone) {
		// There is no single-sign-on session: every sign-in shows the form.
		return nil, oidc.ErrLoginRequired()
	}
	if req.CodeChallenge == "" || req.CodeChallengeMethod != oidc.CodeChallengeMethodS256 {
		return nil, oidc.ErrInvalidRequest().WithDescription("PKCE is required: send code_challenge with code_challenge_method=S256")
	}
	ar := authRequest{
		id:           rand.Text(),
		created:      time.Now(),
		clientID:     req.ClientID,
		redirectURI:  req.RedirectURI,
		state:        req.State,
		nonce:        req.Nonce,
		scopes:       slices.Clone(req.Scopes),
		responseType: req.ResponseType,
		responseMode: req.ResponseMode,
		challenge:    &oidc.CodeChallenge{Challenge: req.CodeChallenge, Method: req.CodeChallengeMethod},
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweep(ar.created)
	s.authRequests[ar.id] = ar
	return ar, nil
}

// sweep forgets what has expired, so memory stays bounded however long the
// provider runs. The caller holds s.mu.
func (s *storage) sweep(now time.Time) {
	for id, ar := range s.authRequests {
		if now.Sub(ar.created) > authRequestTTL {
			delete(s.authRequests, id)
		}
	}
	for c, e := range s.codes {
		if now.Sub(e.issued) > codeTTL {
			delete(s.codes, c)
		}
	}
	for c, e := range s.usedCodes {
		if now.Sub(e.issued) > authRequestTTL {
			delete(s.usedCodes, c)
		}
	}
	for id, t := range s.tokens {
		if now.After(t.expires) {
			delete(s.tokens, id)
		}
	}
}

// AuthRequestByID returns a sign-in that has not expired.
func (s *storage) AuthRequestByID(_ context.Context, id string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authRequest(id)
}

func (s *storage) authRequest(id string) (authRequest, error) {
	ar, ok := s.authRequests[id]
	if !ok || time.Since(ar.created) > authRequestTTL {
		return authRequest{}, fmt.Errorf("auth request: %w", errNotFound)
	}
	return ar, nil
}

// completeLogin records that the user signed in for this sign-in; it can
// happen once.
func (s *storage) completeLogin(id, sub string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	ar, err := s.authRequest(id)
	if err != nil {
		return err
	}
	if ar.done {
		return errors.New("auth request: already signed in")
	}
	ar.subject, ar.authTime, ar.done = sub, time.Now(), true
	s.authRequests[id] = ar
	return nil
}

// SaveAuthCode records the code handed to the relying party for a sign-in.
func (s *storage) SaveAuthCode(_ context.Context, id, c string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes[c] = code{authRequestID: id, issued: time.Now()}
	return nil
}

// AuthRequestByCode returns the sign-in of a code and uses the code up, even
// if the exchange then fails: a code is good for one token request. A code
// presented again revokes the tokens it was exchanged for (RFC 6749, 4.1.2).
func (s *storage) AuthRequestByCode(_ context.Context, c string) (op.AuthRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.codes[c]
	if !ok {
		if used, replayed := s.usedCodes[c]; replayed {
			s.revokeAuthRequestTokens(used.authRequestID)
			s.logger.Warn("authorization code used twice; its tokens are revoked")
			return nil, errors.New("code already used")
		}
		return nil, fmt.Errorf("code: %w", errNotFound)
	}
	delete(s.codes, c)
	s.usedCodes[c] = e
	if time.Since(e.issued) > codeTTL {
		return nil, fmt.Errorf("code: %w", errNotFound)
	}
	return s.authRequest(e.authRequestID)
}

func (s *storage) revokeAuthRequestTokens(authRequestID string) {
	for id, t := range s.tokens {
		if t.authRequestID == authRequestID {
			delete(s.tokens, id)
		}
	}
}

// DeleteAuthRequest forgets a sign-in once its tokens are issued.
func (s *storage) DeleteAuthRequest(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.authRequests, id)
	return nil
}

// CreateAccessToken records a new access token for a completed sign-in.
func (s *storage) CreateAccessToken(_ context.Context, req op.TokenRequest) (string, time.Time, error) {
	ar, ok := req.(authRequest)
	if !ok {
		return "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("only the authorization code flow is supported")
	}
	t := accessToken{
		clientID:      ar.clientID,
		authRequestID: ar.id,
		subject:       ar.subject,
		scopes:        slices.Clone(ar.scopes),
		expires:       time.Now().Add(accessTokenLifetime),
	}
	id := rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[id] = t
	return id, t.expires, nil
}

// CreateAccessAndRefreshTokens is never reached: no client may use refresh tokens.
func (s *storage) CreateAccessAndRefreshTokens(context.Context, op.TokenRequest, string) (string, string, time.Time, error) {
	return "", "", time.Time{}, oidc.ErrUnsupportedGrantType().WithDescription("refresh tokens are not supported")
}

// TokenRequestByRefreshToken refuses every refresh token.
func (s *storage) TokenRequestByRefreshToken(context.Context, string) (op.RefreshTokenRequest, error) {
	return nil, oidc.ErrInvalidGrant().WithDescription("refresh tokens are not supported")
}

// GetRefreshTokenInfo says that no token is a refresh token.
func (s *storage) GetRefreshTokenInfo(context.Context, string, string) (string, string, error) {
	return "", "", op.ErrInvalidRefreshToken
}

// TerminateSession revokes the user's access tokens for the client: that is
// all a sign-out means here, as there is no single-sign-on session.
func (s *storage) TerminateSession(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tokens {
		if t.subject == userID && t.clientID == clientID {
			delete(s.tokens, id)
		}
	}
	return nil
}

// RevokeToken revokes one access token of the client; an unknown token is
// already as good as revoked (RFC 7009, 2.2).
func (s *storage) RevokeToken(_ context.Context, tokenID, _, clientID string) *oidc.Error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok {
		return nil
	}
	if t.clientID != clientID {
		return oidc.ErrInvalidClient().WithDescription("token was not issued to this client")
	}
	delete(s.tokens, tokenID)
	return nil
}

// validToken returns an access token that has not expired or been revoked.
func (s *storage) validToken(tokenID string) (accessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tokenID]
	if !ok || time.Now().After(t.expires) {
		return accessToken{}, fmt.Errorf("access token: %w", errNotFound)
	}
	return t, nil
}

// SigningKey returns the key that signs ID tokens.
func (s *storage) SigningKey(context.Context) (op.SigningKey, error) { return s.key, nil }

// SignatureAlgorithms returns the one algorithm in use.
func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{s.key.SignatureAlgorithm()}, nil
}

// KeySet returns the public keys the JWKS endpoint serves.
func (s *storage) KeySet(context.Context) ([]op.Key, error) {
	return []op.Key{publicKey{s.key}}, nil
}

// GetClientByClientID returns a registered client.
func (s *storage) GetClientByClientID(_ context.Context, clientID string) (op.Client, error) {
	c, ok := s.clients[clientID]
	if !ok {
		return nil, fmt.Errorf("client %q: %w", clientID, errNotFound)
	}
	return c, nil
}

// AuthorizeClientIDSecret checks a client's credentials.
func (s *storage) AuthorizeClientIDSecret(_ context.Context, clientID, secret string) error {
	c, ok := s.clients[clientID]
	if !ok {
		return fmt.Errorf("client %q: %w", clientID, errNotFound)
	}
	return c.checkSecret(secret)
}

// SetUserinfoFromScopes is deprecated by the library in favour of SetUserinfoFromRequest.
func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil
}

// SetUserinfoFromRequest fills the claims of an ID token.
func (s *storage) SetUserinfoFromRequest(_ context.Context, info *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	return s.users.setUserinfo(info, req.GetSubject(), scopes)
}

// SetUserinfoFromToken answers the userinfo endpoint for a valid access token.
func (s *storage) SetUserinfoFromToken(_ context.Context, info *oidc.UserInfo, tokenID, subject, _ string) error {
	t, err := s.validToken(tokenID)
	if err != nil {
		return err
	}
	if t.subject != subject {
		return errors.New("access token: subject does not match")
	}
	return s.users.setUserinfo(info, t.subject, t.scopes)
}

// SetIntrospectionFromToken answers the introspection endpoint: a token is
// active for the client it was issued to.
func (s *storage) SetIntrospectionFromToken(_ context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, err := s.validToken(tokenID)
	if err != nil {
		return err
	}
	if t.subject != subject || t.clientID != clientID {
		return errors.New("access token: not issued to this client")
	}
	info := new(oidc.UserInfo)
	if err := s.users.setUserinfo(info, t.subject, t.scopes); err != nil {
		return err
	}
	resp.SetUserInfo(info)
	resp.Scope = t.scopes
	resp.ClientID = t.clientID
	resp.Expiration = oidc.FromTime(t.expires)
	return nil
}

// GetPrivateClaimsFromScopes adds nothing: access tokens are opaque.
func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

// GetKeyByIDAndClientID refuses: no client signs its own JWTs (private_key_jwt, JWT profile).
func (s *storage) GetKeyByIDAndClientID(_ context.Context, keyID, clientID string) (*jose.JSONWebKey, error) {
	return nil, fmt.Errorf("key %q of client %q: %w", keyID, clientID, errNotFound)
}

// ValidateJWTProfileScopes refuses the JWT profile grant, which no client uses.
func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, oidc.ErrUnsupportedGrantType().WithDescription("the JWT profile grant is not supported")
}

// Health reports the in-memory storage as always healthy.
func (s *storage) Health(context.Context) error { return nil }
