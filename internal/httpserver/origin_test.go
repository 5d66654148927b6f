package httpserver

import (
	"net/http/httptest"
	"testing"
)

// TestSameOrigin: a browser's cross-site form or fetch is refused by
// Sec-Fetch-Site, else Origin, else Referer; the edge's own pages, its
// public origin behind a proxy that changes the Host, and a client that
// is no browser are let through to the edge's other checks.
func TestSameOrigin(t *testing.T) {
	o, err := NewSameOrigin("https://partners.example.com")
	if err != nil {
		t.Fatal(err)
	}
	const own, internal = "partners.example.com", "portal.internal:8090"
	for _, tc := range []struct {
		name    string
		method  string
		host    string
		headers map[string]string
		allowed bool
	}{
		{"no header: not a browser", "POST", own, nil, true},
		{"Sec-Fetch-Site same-origin", "POST", own, map[string]string{"Sec-Fetch-Site": "same-origin"}, true},
		{"Sec-Fetch-Site none: typed or bookmarked", "POST", own, map[string]string{"Sec-Fetch-Site": "none"}, true},
		{"Sec-Fetch-Site cross-site", "POST", own, map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"Sec-Fetch-Site same-site: a sibling subdomain", "POST", own, map[string]string{"Sec-Fetch-Site": "same-site"}, false},
		{"Sec-Fetch-Site cross-site with its own Origin", "POST", own,
			map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false},
		{"Sec-Fetch-Site same-origin wins over Origin null", "POST", own,
			map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "null"}, true},
		{"cross-site PUT", "PUT", own, map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"cross-site DELETE", "DELETE", own, map[string]string{"Sec-Fetch-Site": "cross-site"}, false},
		{"a cross-site GET changes nothing", "GET", own, map[string]string{"Sec-Fetch-Site": "cross-site", "Referer": "https://evil.example/"}, true},

		// Browsers without Sec-Fetch-Site: Origin against the Host.
		{"Origin of the Host", "POST", own, map[string]string{"Origin": "https://partners.example.com"}, true},
		{"another site's Origin", "POST", own, map[string]string{"Origin": "https://evil.example"}, false},
		{"Origin null", "POST", own, map[string]string{"Origin": "null"}, false},
		{"a look-alike Origin", "POST", own, map[string]string{"Origin": "https://partners.example.com.evil.example"}, false},
		{"behind a proxy: the public Origin", "POST", internal, map[string]string{"Origin": "https://partners.example.com"}, true},
		{"behind a proxy: another site's Origin", "POST", internal, map[string]string{"Origin": "https://evil.example"}, false},

		// Neither: the Referer.
		{"own Referer", "POST", own, map[string]string{"Referer": "https://partners.example.com/customers"}, true},
		{"behind a proxy: the public Referer", "POST", internal, map[string]string{"Referer": "https://partners.example.com/customers"}, true},
		{"another site's Referer", "POST", own, map[string]string{"Referer": "https://evil.example/portal"}, false},
		{"a Referer that is no URL", "POST", own, map[string]string{"Referer": "::"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://"+tc.host+"/customers", nil)
			for k, v := range tc.headers {
				r.Header.Set(k, v)
			}
			if got := o.Allows(r); got != tc.allowed {
				t.Errorf("%s to %s with %v: allowed %v, want %v", tc.method, tc.host, tc.headers, got, tc.allowed)
			}
		})
	}
	if _, err := NewSameOrigin("/relative"); err == nil {
		t.Error("a relative public URL was taken")
	}
}
