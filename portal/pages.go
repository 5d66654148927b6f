package main

import (
	"embed"
	"html/template"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/httpserver"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pageNames are the pages, each templates/<name>.html inside templates/layout.html.
var pageNames = []string{"dashboard", "new", "customer", "delete", "staff", "apikeys", "problem", "signedout", "audit"}

var funcs = template.FuncMap{
	"time": func(t *time.Time) template.HTML {
		if t == nil || t.IsZero() {
			return "—"
		}
		return timeTag(*t, minutes)
	},
	"stamp": func(t time.Time) template.HTML { return timeTag(t, seconds) },
	"iso": func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	},
	"display":     domain.DisplayStatus,
	"reason":      domain.ReasonText,
	"via":         domain.AnswerViaText,
	"statusClass": statusClass,
	"eq":          func(a, b string) bool { return a == b },
	// requestID is a new id for a form that sends a request, so that the
	// same form sent twice is one request.
	"requestID": uuid.NewString,
}

// The precisions of a time on a page, as Go layouts of its UTC text.
const (
	minutes = "2 Jan 2006, 15:04 UTC"
	seconds = "2 Jan 2006, 15:04:05 UTC"
)

// timeTag is a time as every page shows it: its UTC text in a <time>
// element, which static/app.js rewrites into the reader's time zone (the
// UTC text stays on hover, and stands where scripts do not run).
func timeTag(t time.Time, layout string) template.HTML {
	t = t.UTC()
	utc := t.Format(layout)
	precision := "m"
	if layout == seconds {
		precision = "s"
	}
	// Only digits, letters of month names and punctuation: nothing to escape.
	return template.HTML(`<time datetime="` + t.Format(time.RFC3339) + `" title="` + utc + `" data-precision="` + precision + `">` + utc + `</time>`)
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
	Title   string
	Brand   string
	Partner string // the signed-in person's partner, by its name
	User    string // the signed-in person's email, "" when signed out
	Role    string
	Owner   bool
	Editor  bool
	CSRF    string
	Nav     string // the current section: customers, new, staff, apikeys
	// Blocked: the person's partner has no partner status; the page says
	// so and offers nothing else.
	Blocked bool
	Notice  string // a one-line confirmation of what was done (from the flash)
	// Error is why a form's request was not carried out (from the flash),
	// with a hint and the page it points to.
	Error     string
	ErrorHint string
	ErrorLink string
	Data      any
	// Problem pages.
	Status   int
	Text     string
	Hint     string
	HintLink string // a page of the portal the hint points to
	// flash is the session's flash when the handler took it already, for
	// its form; else render takes it.
	flash *flash
}

// render writes a page, with the signed-in person's parts of the layout
// and what the session's flash says, into a buffer first so that a
// template error still gets a clean 500.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	id := whoFrom(r.Context())
	p.Brand = s.set.brand
	if id.sessionID != "" {
		p.User, p.Role, p.CSRF, p.Partner = id.actor.ID, id.actor.Role, id.csrf, id.staff.PartnerName
		p.Owner = id.actor.Role == domain.StaffOwner
		p.Editor = p.Owner || id.actor.Role == domain.StaffEditor
		p.Blocked = !id.actor.PartnerStatus && id.actor.Kind == domain.ActorUser
	}
	if p.flash == nil {
		f := s.takeFlash(r)
		p.flash = &f
	}
	p.Notice, p.Error, p.ErrorHint, p.ErrorLink = p.flash.Notice, p.flash.Error, p.flash.Hint, p.flash.Link
	if err := s.pages.Render(w, status, name, p); err != nil {
		s.logger.Error("render page", "page", name, "error", err)
		http.Error(w, "Something went wrong on our side.", http.StatusInternalServerError)
	}
}

// actor is the signed-in actor of a request.
func actor(r *http.Request) domain.Actor { return whoFrom(r.Context()).actor }
