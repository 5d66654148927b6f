package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults: the portal runs on 127.0.0.1:8090 (see PRODUCT.md's local addresses).
const (
	defaultAddr           = "127.0.0.1:5556"
	defaultRedirectURIs   = "http://127.0.0.1:8090/auth/callback"
	defaultPostLogoutURIs = "http://127.0.0.1:8090/"
	defaultClientSecret   = "portal-dev-secret"
)

// config is the provider's settings: each from a flag, else from its
// environment variable, else the default.
type config struct {
	addr           string   // -addr, DEVIDP_ADDR
	issuer         string   // -issuer, DEVIDP_ISSUER
	usersFile      string   // -users, DEVIDP_USERS
	keyFile        string   // -key, DEVIDP_KEY_FILE
	clientSecret   string   // -client-secret, DEVIDP_CLIENT_SECRET
	redirectURIs   []string // -redirect-uris, DEVIDP_REDIRECT_URIS
	postLogoutURIs []string // -post-logout-uris, DEVIDP_POST_LOGOUT_REDIRECT_URIS
	logFormat      string   // LOG_FORMAT, as in the other binaries
	// drainDelay is how long /readyz fails on SIGTERM before the provider
	// stops taking connections (-drain-delay, DRAIN_DELAY).
	drainDelay time.Duration
}

// loadConfig parses flags over the environment and validates the result;
// every error names the flag and variable. -h prints the usage to out and
// returns flag.ErrHelp.
func loadConfig(args []string, getenv func(string) string, out io.Writer) (config, error) {
	env := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	fs := flag.NewFlagSet("devidp", flag.ContinueOnError)
	fs.SetOutput(out)
	var c config
	var redirects, postLogouts, drain string
	fs.StringVar(&c.addr, "addr", env("DEVIDP_ADDR", defaultAddr), "listen address (DEVIDP_ADDR)")
	fs.StringVar(&c.issuer, "issuer", env("DEVIDP_ISSUER", ""), "issuer URL (DEVIDP_ISSUER; default http://ADDR)")
	fs.StringVar(&c.usersFile, "users", env("DEVIDP_USERS", ""), "JSON file of demo users (DEVIDP_USERS; default the built-in set)")
	fs.StringVar(&c.keyFile, "key", env("DEVIDP_KEY_FILE", ""), "PEM file of the RSA signing key, created if missing (DEVIDP_KEY_FILE; default a new key each start)")
	fs.StringVar(&c.clientSecret, "client-secret", env("DEVIDP_CLIENT_SECRET", defaultClientSecret), "secret of the client "+portalClientID+" (DEVIDP_CLIENT_SECRET)")
	fs.StringVar(&redirects, "redirect-uris", env("DEVIDP_REDIRECT_URIS", defaultRedirectURIs), "comma-separated redirect URIs (DEVIDP_REDIRECT_URIS)")
	fs.StringVar(&postLogouts, "post-logout-uris", env("DEVIDP_POST_LOGOUT_REDIRECT_URIS", defaultPostLogoutURIs), "comma-separated post-logout redirect URIs (DEVIDP_POST_LOGOUT_REDIRECT_URIS)")
	fs.StringVar(&drain, "drain-delay", env("DRAIN_DELAY", "0s"), "on SIGTERM, how long /readyz fails before the provider stops taking connections (DRAIN_DELAY)")
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q (see -h)", fs.Arg(0))
	}
	c.logFormat = env("LOG_FORMAT", "text")

	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	host, port, err := net.SplitHostPort(c.addr)
	switch {
	case err != nil || port == "":
		bad("-addr/DEVIDP_ADDR", "want host:port such as %s, got %q", defaultAddr, c.addr)
	case c.issuer == "":
		if host == "" || net.ParseIP(host).IsUnspecified() {
			host = "127.0.0.1"
		}
		c.issuer = "http://" + net.JoinHostPort(host, port)
	}
	if c.issuer != "" {
		if err := checkIssuer(c.issuer); err != nil {
			bad("-issuer/DEVIDP_ISSUER", "%v", err)
		}
	}
	if c.redirectURIs, err = parseURIs(redirects); err != nil {
		bad("-redirect-uris/DEVIDP_REDIRECT_URIS", "%v", err)
	}
	if c.postLogoutURIs, err = parseURIs(postLogouts); err != nil {
		bad("-post-logout-uris/DEVIDP_POST_LOGOUT_REDIRECT_URIS", "%v", err)
	}
	if c.clientSecret == "" {
		bad("-client-secret/DEVIDP_CLIENT_SECRET", "must not be empty (client %s is public)", publicClientID)
	}
	if c.drainDelay, err = time.ParseDuration(drain); err != nil || c.drainDelay < 0 || c.drainDelay > time.Minute {
		bad("-drain-delay/DRAIN_DELAY", "want a duration from 0s to 1m0s such as 5s, got %q", drain)
	}
	if c.logFormat != "text" && c.logFormat != "json" {
		bad("LOG_FORMAT", "want text or json, got %q", c.logFormat)
	}
	return c, errors.Join(errs...)
}

// checkIssuer accepts https, and http on a loopback host only: plain HTTP is
// for development on this machine. The issuer has no path, as the library
// serves its endpoints at the root.
func checkIssuer(issuer string) error {
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return fmt.Errorf("want a URL such as http://%s, got %q", defaultAddr, issuer)
	}
	if u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("want scheme://host:port alone, without a path, query or trailing slash, got %q", issuer)
	}
	if u.Scheme == "http" && u.Hostname() != "localhost" && !net.ParseIP(u.Hostname()).IsLoopback() {
		return fmt.Errorf("plain http is allowed on a loopback host only (127.0.0.1, localhost), got %q", issuer)
	}
	return nil
}

// parseURIs splits a comma-separated list of absolute http(s) URIs.
func parseURIs(list string) ([]string, error) {
	var uris []string
	for raw := range strings.SplitSeq(list, ",") {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || u.Fragment != "" {
			return nil, fmt.Errorf("want absolute http(s) URIs without a fragment, got %q", raw)
		}
		uris = append(uris, raw)
	}
	if len(uris) == 0 {
		return nil, errors.New("want at least one URI")
	}
	return uris, nil
}
