package main

import (
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
)

// The audit log's exports: the partner's whole log, or one customer's,
// from the API (GET /api/v1/audit, GET /api/v1/customers/{id}/audit) and
// from the pages (the Audit log page's form, the customer page's link).
// The action decides and streams; these only translate.

// failFunc answers a failed request: as JSON (the API) or as a page.
type failFunc func(http.ResponseWriter, *http.Request, error)

// exportQuery is an export's filters as the URL gives them, the same for
// the API and the pages. A partner, if named, must be the caller's own
// (the action refuses any other as not found).
func exportQuery(v url.Values) audit.Query {
	return audit.Query{PartnerID: strings.TrimSpace(v.Get("partner")), From: strings.TrimSpace(v.Get("from")), To: strings.TrimSpace(v.Get("to")),
		Actor: strings.TrimSpace(v.Get("actor")), Format: strings.TrimSpace(v.Get("format"))}
}

// exportHandler serves an export of the signed-in partner's log — one
// customer's, the path's {id}, when customer — as a download, failing as
// fail does.
func (s *server) exportHandler(customer bool, fail failFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := exportQuery(r.URL.Query())
		if customer {
			q.SubaccountID = r.PathValue("id")
		}
		s.download(w, r, q, exportName(actor(r).PartnerID, q, s.now()), fail)
	}
}

// stallTimeout is how long a download may wait on a client that reads
// nothing; one that goes on reading is never cut off by the server's
// WriteTimeout, however long the export.
const stallTimeout = 30 * time.Second

// download streams an export to the client as a file. The status and the
// headers go out with its first byte, so that whatever the action refuses
// — always before that byte — is still answered by fail, with nothing of
// the file sent. A failure after it cuts the connection short: a client
// never takes a truncated file for a whole one.
func (s *server) download(w http.ResponseWriter, r *http.Request, q audit.Query, filename string, fail failFunc) {
	d := &downloadWriter{w: w, rc: http.NewResponseController(w), start: func(h http.Header) {
		h.Set("Content-Type", audit.ContentType(q.Format))
		h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	}}
	_, err := s.actions.Audit.Export(r.Context(), actor(r), q, d)
	switch {
	case err == nil:
	case !d.started:
		fail(w, r, err)
	default:
		s.logger.Error("audit export cut short", "path", r.URL.Path, "error", err)
		panic(http.ErrAbortHandler) // the server closes the connection without ending the body
	}
}

// downloadWriter starts the answer at the first byte written to it, and
// keeps pushing the write deadline on while the client reads.
type downloadWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	start   func(http.Header)
	started bool
	until   time.Time // the write deadline set last
}

func (d *downloadWriter) Write(p []byte) (int, error) {
	if !d.started {
		d.started = true
		d.start(d.w.Header())
		d.w.WriteHeader(http.StatusOK)
	}
	if now := time.Now(); d.until.Sub(now) < stallTimeout/2 {
		d.until = now.Add(stallTimeout)
		_ = d.rc.SetWriteDeadline(d.until) // unsupported (a recorder): the server's timeout stays
	}
	return d.w.Write(p)
}

// unsafeName is what a download's file name may not hold.
var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// exportName is the name a download is saved under:
// audit-<partner>[-<customer>]-<date>.<format>.
func exportName(partner string, q audit.Query, now time.Time) string {
	parts := []string{"audit", partner}
	if q.SubaccountID != "" {
		parts = append(parts, q.SubaccountID)
	}
	ext := audit.CSV
	if q.Format == audit.JSON {
		ext = audit.JSON
	}
	name := strings.Join(append(parts, now.UTC().Format("2006-01-02")), "-")
	return strings.Trim(unsafeName.ReplaceAllString(name, "-"), "-") + "." + ext
}

// auditData is the Audit log page: its form's values and errors.
type auditData struct {
	From, To, Actor, Format string
	Formats                 []string
	Errors                  map[string]string
}

// auditPage is the form that downloads the partner's audit log. The form
// is a GET, so a download can be bookmarked.
func (s *server) auditPage(w http.ResponseWriter, r *http.Request) {
	q := exportQuery(r.URL.Query())
	s.showAudit(w, r, http.StatusOK, q, nil)
}

func (s *server) showAudit(w http.ResponseWriter, r *http.Request, status int, q audit.Query, errs map[string]string) {
	if q.Format == "" {
		q.Format = audit.CSV
	}
	s.render(w, r, status, "audit", page{Title: "Audit log", Nav: "audit", Data: auditData{From: q.From, To: q.To, Actor: q.Actor,
		Format: q.Format, Formats: []string{audit.CSV, audit.JSON}, Errors: errs}})
}

// auditDownload is the Audit log page's Download: the file, or the form
// again with what is wrong beside each field.
func (s *server) auditDownload(w http.ResponseWriter, r *http.Request) {
	s.exportHandler(false, func(w http.ResponseWriter, r *http.Request, err error) {
		if fe := domain.Fields(err); len(fe) > 0 {
			s.showAudit(w, r, http.StatusUnprocessableEntity, exportQuery(r.URL.Query()), fe)
			return
		}
		s.failPage(w, r, err)
	})(w, r)
}
