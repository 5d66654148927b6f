package httpserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/cloudpartners/onboarding/internal/text"
)

// Proxies are the networks of the reverse proxies trusted to say who the
// client is (TRUSTED_PROXIES). Only a request whose peer is in one of them
// has its X-Forwarded-For and Forwarded headers read; from anyone else they
// are ignored, since any client can set them. None, the default, trusts
// nobody: the client is the peer of the connection.
type Proxies []netip.Prefix

// ParseProxies reads comma-separated networks, in CIDR notation or single
// addresses: "10.0.0.0/8, 192.0.2.7". An empty list trusts nobody. A
// network holding every address is refused: with it any client could
// choose its own address.
func ParseProxies(s string) (Proxies, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var p Proxies
	for e := range strings.SplitSeq(s, ",") {
		e = strings.TrimSpace(e)
		n, err := netip.ParsePrefix(e)
		if err != nil {
			a, aerr := netip.ParseAddr(e)
			if aerr != nil || a.Zone() != "" {
				return nil, fmt.Errorf("%q is neither a network such as 10.0.0.0/8 nor an address such as 192.0.2.7", text.Truncate(e, 50))
			}
			n = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if n.Addr().Is4In6() && n.Bits() >= 96 {
			// Peers are matched unmapped: ::ffff:10.0.0.0/104 is 10.0.0.0/8.
			n = netip.PrefixFrom(n.Addr().Unmap(), n.Bits()-96)
		}
		if n.Bits() == 0 {
			return nil, fmt.Errorf("%s trusts every address, so any client could choose its own: name the proxies' networks", e)
		}
		p = append(p, n.Masked())
	}
	return p, nil
}

// String lists the networks as TRUSTED_PROXIES does; "" for none.
func (p Proxies) String() string {
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = n.String()
	}
	return strings.Join(s, ",")
}

// trusts reports whether a is the address of a trusted proxy.
func (p Proxies) trusts(a netip.Addr) bool {
	for _, n := range p {
		if n.Contains(a) {
			return true
		}
	}
	return false
}

type clientKey struct{}

// Resolve finds each request's client address once, by p.Client, for
// ClientAddr to read in every handler under it: the rate limits, the
// request log and the audit's address all see the same client.
func (p Proxies) Resolve(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resolved := r.WithContext(context.WithValue(r.Context(), clientKey{}, p.Client(r)))
		next.ServeHTTP(w, resolved)
		// The route the mux matched, for what wraps this (the tracing
		// handler names its span after it).
		r.Pattern = resolved.Pattern
	})
}

// ClientAddr is the client's IP address, as Resolve found it; without
// Resolve, the peer of the connection.
func ClientAddr(r *http.Request) string {
	if a, ok := r.Context().Value(clientKey{}).(string); ok {
		return a
	}
	return peer(r).String
}

// Client is the client's address of a request. When the peer is a
// trusted proxy, the forwarding headers name the hops before it, each
// proxy appending the address it received from: the client is the
// right-most address that is not itself a trusted proxy. Only what a
// trusted proxy wrote is believed, so an entry that is no address (the
// identifiers "unknown" and "_hidden" of RFC 7239, garbage) met before
// that stops the walk: the client is then the trusted proxy that wrote
// it. A proxy appends to one of the headers, and passes the other on as
// the client sent it; so when both are present and name different
// clients, neither is believed and the client is the peer.
func (p Proxies) Client(r *http.Request) string {
	direct := peer(r)
	if !direct.ok || !p.trusts(direct.addr) {
		return direct.String
	}
	xff, fwd := r.Header.Values("X-Forwarded-For"), r.Header.Values("Forwarded")
	var chains [][]hop
	if c := forwardedFor(xff); len(c) > 0 {
		chains = append(chains, c)
	}
	if c := forwardedRFC7239(fwd); len(c) > 0 {
		chains = append(chains, c)
	}
	client := direct
	for i, c := range chains {
		h := p.walk(append(c, direct))
		if i > 0 && h.String != client.String {
			return direct.String
		}
		client = h
	}
	return client.String
}

// walk is the client of a chain of hops, the peer last (a trusted proxy).
func (p Proxies) walk(chain []hop) hop {
	for i := len(chain) - 2; i >= 0; i-- {
		h := chain[i]
		if !h.ok {
			return chain[i+1]
		}
		if !p.trusts(h.addr) {
			return h
		}
	}
	// Every hop is a trusted proxy: the client is on a trusted network.
	return chain[0]
}

// hop is one entry of a chain: ok when it is an IP address, which String
// shows; an entry that is no address has neither.
type hop struct {
	addr   netip.Addr
	ok     bool
	String string
}

func newHop(a netip.Addr) hop {
	a = a.Unmap().WithZone("")
	return hop{addr: a, ok: true, String: a.String()}
}

// peer is the connection's peer. A RemoteAddr that is not an IP address
// (a test's, a Unix socket's) stands as it is and is trusted by no one.
func peer(r *http.Request) hop {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return newHop(a)
	}
	return hop{String: host}
}

// forwardedFor reads X-Forwarded-For: comma-separated addresses, an IPv6
// one perhaps bracketed, either perhaps with a port; its lines in order.
func forwardedFor(lines []string) []hop {
	var chain []hop
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		for e := range strings.SplitSeq(line, ",") {
			chain = append(chain, node(strings.TrimSpace(e)))
		}
	}
	return chain
}

// forwardedRFC7239 reads the for= of each element of Forwarded headers
// (RFC 7239): `for=192.0.2.60;proto=https, for="[2001:db8::17]:4711"`.
// An element without a for=, or that does not parse, is an entry that is
// no address.
func forwardedRFC7239(lines []string) []hop {
	var chain []hop
	for _, line := range lines {
		if strings.TrimSpace(line) == "" {
			continue
		}
		for _, element := range splitQuoted(line, ',') {
			chain = append(chain, forElement(element))
		}
	}
	return chain
}

// forElement is the node of one element's for= parameter.
func forElement(element string) hop {
	var found *hop
	for _, pair := range splitQuoted(element, ';') {
		name, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || !strings.EqualFold(name, "for") {
			continue
		}
		if found != nil {
			return hop{} // two for= in one element: written by no proxy
		}
		var h hop
		if v, ok := unquote(value); ok {
			h = node(v)
		}
		found = &h
	}
	if found == nil {
		return hop{}
	}
	return *found
}

// node parses one address of either header: 192.0.2.60, 192.0.2.60:8080,
// 2001:db8::17, [2001:db8::17] or [2001:db8::17]:4711 (RFC 7239 also
// allows an obfuscated port, "_x"). Anything else, "unknown" and
// obfuscated identifiers included, is no address.
func node(s string) hop {
	host := s
	if rest, ok := strings.CutPrefix(s, "["); ok {
		h, tail, ok := strings.Cut(rest, "]")
		if !ok {
			return hop{}
		}
		if tail != "" {
			if port, ok := strings.CutPrefix(tail, ":"); !ok || !validPort(port) {
				return hop{}
			}
		}
		host = h
	} else if h, port, ok := strings.Cut(s, ":"); ok && !strings.Contains(port, ":") {
		// One colon: IPv4 and a port (IPv6 has two at least).
		if !validPort(port) {
			return hop{}
		}
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return hop{}
	}
	return newHop(a)
}

// validPort is a port of RFC 7239's node: digits, or an obfuscated one.
func validPort(p string) bool {
	if p == "" || len(p) > 16 {
		return false
	}
	if p[0] == '_' {
		return strings.Trim(p[1:], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == ""
	}
	return len(p) <= 5 && strings.Trim(p, "0123456789") == ""
}

// splitQuoted splits s at sep outside quoted strings. An unterminated
// quote runs to the end: what follows it is not split off, so that text a
// client sent cannot pass for a proxy's element.
func splitQuoted(s string, sep byte) []string {
	var parts []string
	start, quoted := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

// unquote is a parameter's value: a token, or a quoted string with its
// escapes removed; ok is false for an unterminated or empty one.
func unquote(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, `"`) {
		return v, v != "" && !strings.ContainsAny(v, `"\ `)
	}
	if len(v) < 2 || !strings.HasSuffix(v, `"`) {
		return "", false
	}
	var b strings.Builder
	inner := v[1 : len(v)-1]
	for i := 0; i < len(inner); i++ {
		c := inner[i]
		if c == '\\' {
			if i+1 == len(inner) {
				return "", false
			}
			i++
			c = inner[i]
		} else if c == '"' {
			return "", false
		}
		b.WriteByte(c)
	}
	return b.String(), b.Len() > 0
}
