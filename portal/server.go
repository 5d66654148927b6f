package main

import (
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/store"
)

//go:embed static
var staticFiles embed.FS

// server is the partner portal: pages and the JSON API over the actions.
type server struct {
	set     settings
	actions deps.Actions
	store   *store.Store // sessions and sign-ins under way
	health  *daemon.Health
	auth    *authenticator
	pages   httpserver.Pages
	logger  *slog.Logger
	now     func() time.Time
	// secure marks cookies Secure: everywhere but plain-HTTP development.
	secure bool
	// origins checks that a state-changing request with the session's
	// cookie comes from the portal's own pages (PORTAL_PUBLIC_URL).
	origins *httpserver.SameOrigin
}

func newServer(set settings, actions deps.Actions, st *store.Store, health *daemon.Health, logger *slog.Logger, now func() time.Time) (*server, error) {
	pg, err := parsePages()
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(set.publicURL)
	if err != nil {
		return nil, err
	}
	origins, err := httpserver.NewSameOrigin(set.publicURL)
	if err != nil {
		return nil, err
	}
	return &server{set: set, actions: actions, store: st, health: health, auth: newAuthenticator(set), pages: pg, logger: logger, now: now,
		secure: u.Scheme == "https", origins: origins}, nil
}

// routes is every route, behind the request log and the security headers,
// under the client's address as the trusted proxies tell it.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", cacheable(http.FileServerFS(static))))
	s.health.Routes(mux)

	// Signing in and out.
	mux.HandleFunc("GET /login", s.login)
	mux.HandleFunc("GET /auth/callback", s.callback)
	mux.HandleFunc("GET /signed-out", s.signedOut)

	// Pages, for a signed-in member of staff.
	for _, rt := range s.pageRoutes() {
		mux.Handle(rt.pattern, s.signedIn(rt.handler))
	}

	s.apiRoutes(mux)
	return s.set.proxies.Resolve(httpserver.LogRequests(s.logger, httpserver.SecurityHeaders(s.csp(), "same-origin", mux), "/healthz", "/readyz"))
}

// pageRoutes are the routes of the pages a signed-in member of staff
// sees (and of signing out); routes puts each behind signedIn.
func (s *server) pageRoutes() []route {
	return []route{
		{"POST /logout", s.logout},
		{"GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/customers", http.StatusSeeOther) }},
		{"GET /customers", s.dashboard},
		{"GET /customers/new", s.newCustomerForm},
		{"POST /customers", s.addCustomer},
		{"GET /customers/{id}", s.customerPage},
		{"POST /customers/{id}/edit", s.editCustomer},
		{"POST /customers/{id}/resend", s.resend},
		{"POST /customers/{id}/link", s.copyLink},
		{"GET /customers/{id}/delete", s.deleteForm},
		{"POST /customers/{id}/delete", s.deleteCustomer},
		{"POST /customers/{id}/clouds", s.addCloud},
		{"POST /customers/{id}/suspend", s.suspend},
		{"POST /customers/{id}/resume", s.resume},
		{"GET /customers/{id}/audit", s.exportHandler(true, s.failPage)},
		{"GET /audit", s.auditPage},
		{"GET /audit/export", s.auditDownload},
		{"GET /staff", s.staffPage},
		{"POST /staff", s.addStaff},
		{"POST /staff/{id}", s.changeStaff},
		{"POST /staff/{id}/remove", s.removeStaff},
		{"GET /api-keys", s.apiKeysPage},
		{"POST /api-keys", s.createAPIKey},
		{"POST /api-keys/{id}/revoke", s.revokeAPIKey},
	}
}

// route is one route: a pattern of http.ServeMux and its handler.
type route struct {
	pattern string
	handler http.HandlerFunc
}

// csp lets pages load only their own scripts and styles and post their
// forms to the portal — and the sign-out form on to the identity
// provider, where a form's redirect must be allowed too.
func (s *server) csp() string {
	issuer := s.set.issuer
	if u, err := url.Parse(issuer); err == nil {
		issuer = u.Scheme + "://" + u.Host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"form-action 'self' " + issuer + "; frame-ancestors 'none'; base-uri 'none'"
}

// cacheable lets browsers keep the static files a while.
func cacheable(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r)
		w.Header().Set("Cache-Control", "public, max-age=300")
	})
}

// who is the signed-in person (or machine) a request comes from.
type who struct {
	actor     domain.Actor
	staff     domain.Staff // a person's
	sessionID string       // a person's session
	csrf      string       // the session's token for state-changing requests
}

type whoKey struct{}

func whoFrom(ctx context.Context) who {
	w, _ := ctx.Value(whoKey{}).(who)
	return w
}

// errSignedOut means the request carries no live session.
var errSignedOut = domain.New(domain.Forbidden, "SignedOut", "you are not signed in, or your session has ended")

// errCrossSite means a state-changing request did not come from the portal's own pages.
var errCrossSite = domain.New(domain.Forbidden, "CrossSite", "this request did not come from the portal's own page")

// signedIn serves a page to a signed-in member of staff: a GET without a
// session goes to sign-in and comes back; anything else without one is
// refused. A state-changing request must come from the portal's own
// origin, as the browser says (httpserver.SameOrigin), and carry the
// session's token besides. A partner without partner status sees one
// page saying so, and nothing else works.
func (s *server) signedIn(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := s.session(r)
		if err != nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/login?return="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.failPage(w, r, errSignedOut)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				s.failPage(w, r, errBadForm)
				return
			}
			if !s.origins.Allows(r) || !sameToken(r.PostForm.Get("csrf"), id.csrf) {
				s.failPage(w, r, errCrossSite)
				return
			}
		}
		if !id.actor.PartnerStatus && r.URL.Path != "/logout" {
			s.failPage(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, id)), domain.ErrNoPartnerStatus)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, id)))
	})
}

// maxForm bounds a form: every form of the portal is far smaller.
const maxForm = 64 << 10

// sessionCookie and loginCookie are the cookies' names; with TLS, the
// __Host- prefix binds each to this host and path /.
func (s *server) sessionCookie() string { return s.hostCookie("portal_session") }

func (s *server) loginCookie() string { return s.hostCookie("portal_login") }

func (s *server) hostCookie(name string) string {
	if s.secure {
		return "__Host-" + name
	}
	return name
}

// session reads the request's live session, or errSignedOut.
func (s *server) session(r *http.Request) (who, error) {
	c, err := r.Cookie(s.sessionCookie())
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return who{}, errSignedOut
	}
	now := s.now()
	sess, st, err := s.store.TouchSession(r.Context(), c.Value, now, now.Add(-s.set.sessionIdle))
	if errors.Is(err, domain.ErrNotFound) {
		return who{}, errSignedOut
	}
	if err != nil {
		return who{}, err
	}
	return who{actor: access.StaffActor(st, httpserver.ClientAddr(r)), staff: st, sessionID: c.Value, csrf: sess.CSRF}, nil
}

func sameToken(got, want string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// localPath accepts a path to return to after sign-in only if it stays on
// the portal: it must start with one slash, and hold no backslash or
// control character (browsers drop tabs and newlines from a URL, so
// "/\t/evil.example" would become "//evil.example").
func localPath(p string) string {
	unsafe := func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.ContainsFunc(p, unsafe) || len(p) > 2000 {
		return "/customers"
	}
	return p
}
