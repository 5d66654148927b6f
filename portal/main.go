// Command portal is the partners' edge: its staff sign in with the cloud's
// identity provider (OpenID Connect) and onboard and look after their
// customers — pages for people, a JSON API for machines with API keys —
// each scoped to their own partner, every action audited. It only
// translates: the actions live in internal/onboarding.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/edge"
	"github.com/cloudpartners/onboarding/internal/httpserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "portal:", err)
		os.Exit(1)
	}
}

// run opens the edge (config → store → Temporal client → actions), adds
// sign-in, serves the HTTP server until ctx is done, then shuts down
// gracefully.
func run(ctx context.Context, _ []string, getenv config.Getenv, stderr io.Writer) error {
	e, err := edge.Open(ctx, "portal", getenv, stderr)
	if err != nil {
		return err
	}
	defer e.Close()
	cfg, logger := e.Config, e.Logger
	s, err := newServer(cfg, e.Actions, e.Store, logger, time.Now)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.PortalAddr)
	if err != nil {
		return fmt.Errorf("PORTAL_ADDR %s: %w", cfg.PortalAddr, err)
	}
	logger.Info("portal listening", "addr", ln.Addr().String(), "public_url", cfg.PortalURL, "issuer", cfg.OIDCIssuer,
		"temporal", cfg.Temporal.HostPort, "namespace", cfg.Temporal.Namespace)
	return httpserver.Run(ctx, httpserver.New(e.Tracing.HTTP(s.routes(), "/static/"), logger), ln, logger)
}
