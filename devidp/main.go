// Command devidp is a small OpenID Connect provider for development and
// tests: the partner portal signs people in against it locally, with demo
// users, exactly as it signs them in against the cloud's identity provider in
// production. It is built on github.com/zitadel/oidc/v3/pkg/op and keeps
// everything in memory.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/httpserver"
)

func main() { daemon.Main("devidp", run) }

// run wires config → users → signing key → provider → HTTP server and
// serves until ctx is done, then shuts down gracefully. Logs go to stdout.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, _ io.Writer) error {
	cfg, err := loadConfig(args, getenv, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	var logger *slog.Logger
	if cfg.logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stdout, nil))
	} else {
		logger = slog.New(slog.NewTextHandler(stdout, nil))
	}
	logger = logger.With("service", "devidp")
	// zitadel/oidc logs through slog's default logger only.
	slog.SetDefault(logger)

	us, err := loadUsers(cfg.usersFile)
	if err != nil {
		return err
	}
	key, keySource, err := loadOrCreateKey(cfg.keyFile)
	if err != nil {
		return err
	}
	st := newStorage(us, newClients(cfg.clientSecret, cfg.redirectURIs, cfg.postLogoutURIs), key, logger)
	provider, err := newProvider(cfg.issuer, st)
	if err != nil {
		return err
	}
	l := &login{storage: st, users: us, callback: op.AuthCallbackURL(provider), logger: logger}

	ln, err := daemon.Listen("-addr/DEVIDP_ADDR", cfg.addr)
	if err != nil {
		return err
	}
	// It keeps everything in memory and needs nothing else: ready until it drains.
	health := daemon.NewHealth(logger)
	srv := daemon.NewServer(routes(provider, l, health, logger), logger)
	emails := make([]string, 0, len(us.list))
	for _, u := range us.list {
		emails = append(emails, u.Email)
	}
	logger.Info("devidp listening", "addr", ln.Addr().String(), "issuer", cfg.issuer,
		"clients", []string{portalClientID, publicClientID}, "redirect_uris", cfg.redirectURIs,
		"post_logout_redirect_uris", cfg.postLogoutURIs, "users", emails, "signing_key", keySource)

	return daemon.Serve(ctx, srv, ln, health, cfg.drainDelay, logger)
}

// newProvider configures the library's OpenID provider: code flow with PKCE
// S256, client secrets by basic auth or form post, opaque access tokens
// encrypted with a key that lives as long as the process.
func newProvider(issuer string, st *storage) (*op.Provider, error) {
	var cryptoKey [32]byte
	if _, err := rand.Read(cryptoKey[:]); err != nil {
		return nil, fmt.Errorf("token encryption key: %w", err)
	}
	cfg := &op.Config{
		CryptoKey:                cryptoKey,
		DefaultLogoutRedirectURI: loggedOutPath,
		CodeMethodS256:           true,
		AuthMethodPost:           true,
		SupportedScopes:          []string{oidc.ScopeOpenID, oidc.ScopeProfile, oidc.ScopeEmail},
		SupportedClaims: []string{
			"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "azp", "at_hash",
			"email", "email_verified", "name", "preferred_username",
		},
	}
	// WithAllowInsecure lets the library serve an http issuer; checkIssuer
	// has already limited that to loopback hosts.
	p, err := op.NewProvider(cfg, st, op.StaticIssuer(issuer), op.WithAllowInsecure())
	if err != nil {
		return nil, fmt.Errorf("openid provider: %w", err)
	}
	return p, nil
}

// routes puts the login pages and health check beside the library's
// endpoints (discovery, authorize, token, userinfo, keys, revoke,
// end_session), which it serves at the root.
func routes(provider *op.Provider, l *login, health *daemon.Health, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	health.Routes(mux)
	mux.HandleFunc("GET "+loginPath, l.show)
	// The callback URL is built from the issuer the interceptor puts in the context.
	mux.Handle("POST "+loginPath, op.NewIssuerInterceptor(provider.IssuerFromRequest).HandlerFunc(l.submit))
	mux.HandleFunc("GET "+loggedOutPath, l.loggedOut)
	mux.Handle("/", provider)
	// /healthz, /readyz and the library's /ready are polled by scripts and
	// balancers and not worth a log line each.
	return httpserver.LogRequests(logger, mux, "/healthz", "/readyz", "/ready")
}
