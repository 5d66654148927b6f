package httpserver

import (
	"fmt"
	"net/http"
	"net/url"
)

// SameOrigin tells whether a state-changing request comes from the edge's
// own pages, as a browser says: by Sec-Fetch-Site, else by Origin against
// the Host the browser asked for (http.CrossOriginProtection), the edge's
// public origin trusted too for when a proxy changes the Host. Browsers
// send one of them with every form and fetch; for the rare one that sends
// neither, a Referer of another site is refused too. A request with none
// of these headers is not a browser's, so no cookie rides on it unawares:
// the edge's other checks (a session's token) decide.
type SameOrigin struct {
	protection *http.CrossOriginProtection
	public     string // scheme://host[:port]
}

// NewSameOrigin checks requests against the edge's public URL
// (PORTAL_PUBLIC_URL, PUBLIC_BASE_URL), whose origin is trusted.
func NewSameOrigin(publicURL string) (*SameOrigin, error) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("public URL %q: not an absolute URL", publicURL)
	}
	o := &SameOrigin{protection: http.NewCrossOriginProtection(), public: u.Scheme + "://" + u.Host}
	if err := o.protection.AddTrustedOrigin(o.public); err != nil {
		return nil, fmt.Errorf("public URL %q: %w", publicURL, err)
	}
	return o, nil
}

// Allows reports whether r may change something: it is not a cross-origin
// request from a browser. Safe methods (GET, HEAD, OPTIONS) always may.
func (o *SameOrigin) Allows(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	if o.protection.Check(r) != nil {
		return false
	}
	ref := r.Header.Get("Referer")
	if r.Header.Get("Sec-Fetch-Site") != "" || r.Header.Get("Origin") != "" || ref == "" {
		return true
	}
	u, err := url.Parse(ref)
	return err == nil && (u.Host == r.Host || u.Scheme+"://"+u.Host == o.public)
}
