package main

import (
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/text"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pageNames are the pages, each templates/<name>.html inside templates/layout.html.
var pageNames = []string{"dashboard", "new", "customer", "delete", "staff", "apikeys", "problem", "signedout", "audit"}

var funcs = template.FuncMap{
	"time": func(t *time.Time) string {
		if t == nil || t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") },
	"iso": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"display":     domain.DisplayStatus,
	"statusClass": statusClass,
	"eq":          func(a, b string) bool { return a == b },
	// requestID is a new id for a form that sends a request, so that the
	// same form sent twice is one request.
	"requestID": uuid.NewString,
}

// statusClass colours a status badge.
func statusClass(status string) string {
	switch status {
	case domain.StatusActive:
		return "ok"
	case domain.StatusAcceptanceRequired:
		return "warn"
	case domain.StatusSuspended:
		return "hold"
	}
	return "bad"
}

func parsePages() (httpserver.Pages, error) {
	return httpserver.ParsePages(templateFiles, "templates", funcs, pageNames...)
}

// page is what every page shows: the layout's parts and the page's own data.
type page struct {
	Title  string
	Brand  string
	User   string // the signed-in person's email, "" when signed out
	Role   string
	Owner  bool
	Editor bool
	CSRF   string
	Nav    string // the current section: customers, new, staff, apikeys
	// Blocked: the person's partner has no partner status; the page says
	// so and offers nothing else.
	Blocked bool
	Notice  string // a one-line confirmation of what was done
	Data    any
	// Problem pages.
	Status   int
	Text     string
	Hint     string
	HintLink string // a page of the portal the hint points to
}

// render writes a page, with the signed-in person's parts of the layout,
// into a buffer first so that a template error still gets a clean 500.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	id := whoFrom(r.Context())
	p.Brand = s.set.brand
	if id.sessionID != "" {
		p.User, p.Role, p.CSRF = id.actor.ID, id.actor.Role, id.csrf
		p.Owner = id.actor.Role == domain.StaffOwner
		p.Editor = p.Owner || id.actor.Role == domain.StaffEditor
		p.Blocked = !id.actor.PartnerStatus && id.actor.Kind == domain.ActorUser
	}
	if err := s.pages.Render(w, status, name, p); err != nil {
		s.logger.Error("render page", "page", name, "error", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
	}
}

// seeOther sends the browser on after a form, with a notice for the next page.
func seeOther(w http.ResponseWriter, r *http.Request, path, notice string) {
	if notice != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "notice=" + url.QueryEscape(notice)
	}
	http.Redirect(w, r, path, http.StatusSeeOther)
}

// notice is the confirmation a form's redirect carried, shown as text.
func notice(r *http.Request) string { return text.Truncate(r.URL.Query().Get("notice"), 200) }

// actor is the signed-in actor of a request.
func actor(r *http.Request) domain.Actor { return whoFrom(r.Context()).actor }
