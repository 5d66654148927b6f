package httpserver

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// proxies of the tests: a private network, an IPv6 one, one address.
func testProxies(t *testing.T) Proxies {
	t.Helper()
	p, err := ParseProxies("10.0.0.0/8, 2001:db8:1::/48,192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClientBehindProxies: the headers are believed only from a trusted
// peer, and then only as far as trusted proxies wrote them.
func TestClientBehindProxies(t *testing.T) {
	p := testProxies(t)
	const proxy, client, spoofed = "10.0.0.1:4000", "198.51.100.1", "6.6.6.6"
	for _, tc := range []struct {
		name     string
		peer     string
		xff, fwd []string
		want     string
	}{
		// From an untrusted peer, neither header counts.
		{name: "untrusted peer, X-Forwarded-For", peer: "203.0.113.9:5000", xff: []string{client}, want: "203.0.113.9"},
		{name: "untrusted peer, Forwarded", peer: "203.0.113.9:5000", fwd: []string{"for=" + client}, want: "203.0.113.9"},
		{name: "untrusted IPv6 peer", peer: "[2001:db8:2::9]:5000", xff: []string{client}, want: "2001:db8:2::9"},
		{name: "untrusted peer in a trusted network's neighbour", peer: "11.0.0.1:1", xff: []string{client}, want: "11.0.0.1"},

		// X-Forwarded-For from a trusted proxy.
		{name: "trusted peer, no header", peer: proxy, want: "10.0.0.1"},
		{name: "one client", peer: proxy, xff: []string{client}, want: client},
		{name: "a spoofed entry left of the client", peer: proxy, xff: []string{spoofed + ", " + client}, want: client},
		{name: "two proxies", peer: proxy, xff: []string{spoofed + ", " + client + ", 10.0.0.2"}, want: client},
		{name: "lines in order", peer: proxy, xff: []string{spoofed, client + ",10.0.0.2"}, want: client},
		{name: "every hop trusted", peer: proxy, xff: []string{"10.0.0.3, 10.0.0.2"}, want: "10.0.0.3"},
		{name: "IPv6 with brackets and a port", peer: proxy, xff: []string{"[2001:db8::1]:443"}, want: "2001:db8::1"},
		{name: "IPv6 bare", peer: proxy, xff: []string{"2001:db8::1"}, want: "2001:db8::1"},
		{name: "IPv4 with a port", peer: proxy, xff: []string{client + ":5678"}, want: client},
		{name: "IPv4-mapped IPv6", peer: proxy, xff: []string{"::ffff:" + client}, want: client},
		{name: "garbage written by the proxy", peer: proxy, xff: []string{"not-an-address"}, want: "10.0.0.1"},
		{name: "garbage between proxies", peer: proxy, xff: []string{client + ", garbage, 10.0.0.2"}, want: "10.0.0.2"},
		{name: "garbage left of the client", peer: proxy, xff: []string{"<script>, " + client}, want: client},
		{name: "empty header", peer: proxy, xff: []string{" "}, want: "10.0.0.1"},
		{name: "empty entries", peer: proxy, xff: []string{client + ",,"}, want: "10.0.0.1"},
		{name: "a port too long", peer: proxy, xff: []string{client + ":123456"}, want: "10.0.0.1"},
		{name: "a trusted IPv6 peer", peer: "[2001:db8:1::2]:443", xff: []string{client}, want: client},
		{name: "a trusted single address", peer: "192.0.2.7:1", xff: []string{client}, want: client},
		{name: "a trusted peer written IPv4-mapped", peer: "[::ffff:10.0.0.1]:80", xff: []string{client}, want: client},

		// Forwarded (RFC 7239) from a trusted proxy.
		{name: "for= with other parameters", peer: proxy, fwd: []string{"for=" + client + ";proto=https;by=10.0.0.1"}, want: client},
		{name: "quoted IPv6 with a port", peer: proxy, fwd: []string{`for="[2001:db8:cafe::17]:4711"`}, want: "2001:db8:cafe::17"},
		{name: "quoted IPv6 without a port", peer: proxy, fwd: []string{`for="[2001:db8:cafe::17]"`}, want: "2001:db8:cafe::17"},
		{name: "parameter name in capitals, quoted IPv4 and port", peer: proxy, fwd: []string{`For="` + client + `:80"`}, want: client},
		{name: "an obfuscated port", peer: proxy, fwd: []string{`for="[2001:db8::17]:_p0rt"`}, want: "2001:db8::17"},
		{name: "elements right-most first", peer: proxy, fwd: []string{"for=" + spoofed + ", for=" + client}, want: client},
		{name: "elements over lines", peer: proxy, fwd: []string{"for=" + spoofed, "for=" + client + ", for=10.0.0.2"}, want: client},
		{name: "a comma inside quotes", peer: proxy, fwd: []string{`for="` + spoofed + `, for=x";proto=http, for=` + client}, want: client},
		{name: "unknown", peer: proxy, fwd: []string{"for=unknown"}, want: "10.0.0.1"},
		{name: "an obfuscated identifier", peer: proxy, fwd: []string{`for="_gazonk"`}, want: "10.0.0.1"},
		{name: "an obfuscated identifier left of the client", peer: proxy, fwd: []string{"for=_hidden, for=" + client}, want: client},
		{name: "an obfuscated identifier from a second proxy", peer: proxy, fwd: []string{"for=" + client + ", for=_hidden"}, want: "10.0.0.1"},
		{name: "an unterminated quote swallows what follows", peer: proxy, fwd: []string{`for="` + spoofed + ", for=" + client}, want: "10.0.0.1"},
		{name: "no for=", peer: proxy, fwd: []string{"proto=https;by=10.0.0.1"}, want: "10.0.0.1"},
		{name: "two for= in one element", peer: proxy, fwd: []string{"for=" + client + ";for=" + spoofed}, want: "10.0.0.1"},
		{name: "a broken bracket", peer: proxy, fwd: []string{`for="[2001:db8::17"`}, want: "10.0.0.1"},
		{name: "text after the bracket", peer: proxy, fwd: []string{`for="[2001:db8::17]x"`}, want: "10.0.0.1"},
		{name: "an escaped quote", peer: proxy, fwd: []string{`for="\"` + client + `\""`}, want: "10.0.0.1"},
		{name: "an empty value", peer: proxy, fwd: []string{"for="}, want: "10.0.0.1"},
		{name: "a trusted hop in IPv6", peer: proxy, fwd: []string{`for=` + client + `, for="[2001:db8:1::5]"`}, want: client},
		{name: "unbracketed IPv6, quoted", peer: proxy, fwd: []string{`for="2001:db8::17"`}, want: "2001:db8::17"},

		// Both: a proxy appends to one and passes the other on as the client sent it.
		{name: "both agree", peer: proxy, xff: []string{client}, fwd: []string{"for=" + client}, want: client},
		{name: "Forwarded spoofed through an X-Forwarded-For proxy", peer: proxy, xff: []string{client}, fwd: []string{"for=" + spoofed}, want: "10.0.0.1"},
		{name: "X-Forwarded-For spoofed through a Forwarded proxy", peer: proxy, xff: []string{spoofed}, fwd: []string{"for=" + client}, want: "10.0.0.1"},
		{name: "both, and a spoofed entry left in one", peer: proxy, xff: []string{spoofed + ", " + client}, fwd: []string{"for=" + client}, want: client},

		// A peer that is no IP address stands as it is.
		{name: "a peer without a port", peer: "pipe", xff: []string{client}, want: "pipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/confirm", nil)
			r.RemoteAddr = tc.peer
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			for _, v := range tc.fwd {
				r.Header.Add("Forwarded", v)
			}
			if got := p.Client(r); got != tc.want {
				t.Errorf("client of %s with X-Forwarded-For %q, Forwarded %q: %s, want %s", tc.peer, tc.xff, tc.fwd, got, tc.want)
			}
		})
	}
}

// TestNoProxiesTrustsNobody: the default, no proxy, makes the client the
// peer whatever the headers say, even from loopback.
func TestNoProxiesTrustsNobody(t *testing.T) {
	p, err := ParseProxies("")
	if err != nil || p != nil {
		t.Fatalf("no networks: %v %v", p, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "127.0.0.1:9"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	r.Header.Set("Forwarded", "for=198.51.100.1")
	if got := p.Client(r); got != "127.0.0.1" {
		t.Errorf("client: %s, want the peer", got)
	}
}

// TestClientAddrIsResolvedOnce: under Resolve every handler reads the
// client found; without it, the peer.
func TestClientAddrIsResolvedOnce(t *testing.T) {
	p := testProxies(t)
	var got string
	h := p.Resolve(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) { got = ClientAddr(r) }))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.0.0.1:4000"
	r.Header.Set("X-Forwarded-For", "198.51.100.1")
	h.ServeHTTP(httptest.NewRecorder(), r)
	if got != "198.51.100.1" {
		t.Errorf("under Resolve: %s, want the forwarded client", got)
	}
	if bare := ClientAddr(r); bare != "10.0.0.1" {
		t.Errorf("without Resolve: %s, want the peer", bare)
	}
}

func TestParseProxies(t *testing.T) {
	for _, tc := range []struct {
		in                string
		trusted, untrusty []string
	}{
		{"10.0.0.0/8", []string{"10.0.0.1", "10.255.255.255"}, []string{"11.0.0.1", "192.168.0.1"}},
		{" 10.0.0.0/8 , 192.0.2.7 ", []string{"10.1.2.3", "192.0.2.7"}, []string{"192.0.2.8"}},
		{"10.1.2.3/8", []string{"10.9.9.9"}, []string{"11.0.0.0"}},
		{"::ffff:10.0.0.0/104", []string{"10.0.0.1"}, []string{"11.0.0.1"}},
		{"2001:db8::/32,::1", []string{"2001:db8:ffff::1", "::1"}, []string{"2001:db9::1", "127.0.0.1"}},
		{"127.0.0.1", []string{"127.0.0.1"}, []string{"127.0.0.2"}},
	} {
		p, err := ParseProxies(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		for _, a := range tc.trusted {
			if r := (&http.Request{RemoteAddr: net.JoinHostPort(a, "1")}); p.Client(r) != a || !p.trusts(peer(r).addr) {
				t.Errorf("%q does not trust %s", tc.in, a)
			}
		}
		for _, a := range tc.untrusty {
			if p.trusts(peer(&http.Request{RemoteAddr: net.JoinHostPort(a, "1")}).addr) {
				t.Errorf("%q trusts %s", tc.in, a)
			}
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"10.0.0.0/33", `"10.0.0.0/33" is neither a network`},
		{"proxy.internal", `"proxy.internal" is neither`},
		{"10.0.0.0/8,", `"" is neither`},
		{"10.0.0.0/8;192.0.2.7", "is neither"},
		{"fe80::1%eth0", "is neither"},
		{"0.0.0.0/0", "0.0.0.0/0 trusts every address"},
		{"::/0", "::/0 trusts every address"},
		{"::ffff:0.0.0.0/96", "trusts every address"},
	} {
		if _, err := ParseProxies(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.in, err, tc.want)
		}
	}
}

// TestResolveKeepsThePattern: what wraps Resolve still sees the route the
// mux matched, as the tracing handler needs to name its span.
func TestResolveKeepsThePattern(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /confirm", func(http.ResponseWriter, *http.Request) {})
	r := httptest.NewRequest(http.MethodPost, "/confirm", nil)
	Proxies(nil).Resolve(mux).ServeHTTP(httptest.NewRecorder(), r)
	if r.Pattern != "POST /confirm" {
		t.Errorf("pattern %q after Resolve, want the mux's", r.Pattern)
	}
}
