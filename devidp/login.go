package main

import (
	"bytes"
	"context"
	_ "embed"
	"html/template"
	"log/slog"
	"net/http"
)

// Paths of the provider's own pages; the library serves the OIDC endpoints.
const (
	loginPath     = "/login"
	loggedOutPath = "/logged-out"
)

// maxFormBytes bounds a login form: an email and a password.
const maxFormBytes = 16 << 10

//go:embed pages.html
var pagesHTML string

var pages = template.Must(template.New("pages").Parse(pagesHTML))

// login serves the sign-in form. It is CSRF-safe enough for a development
// fixture: the form carries the unguessable id of the sign-in it belongs to,
// a sign-in completes once, and no cookie says who is signed in.
type login struct {
	storage  *storage
	users    *users
	callback func(ctx context.Context, authRequestID string) string // the library's /authorize/callback URL
	logger   *slog.Logger
}

// loginPage is what the form shows.
type loginPage struct {
	Action, ID, ClientID, Username, Error string
}

// show answers GET /login?authRequestID=…, where the library sends the browser.
func (l *login) show(w http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("authRequestID")
	ar, err := l.storage.AuthRequestByID(r.Context(), id)
	if err != nil {
		l.expired(w, r)
		return
	}
	l.render(w, r, http.StatusOK, "login", loginPage{Action: loginPath, ID: id, ClientID: ar.GetClientID()})
}

// submit answers POST /login: a right email and password complete the
// sign-in and send the browser back through the library to the client; a
// wrong one shows the form again with 401.
func (l *login) submit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		l.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return
	}
	id, username := r.PostForm.Get("id"), r.PostForm.Get("username")
	ar, err := l.storage.AuthRequestByID(r.Context(), id)
	if err != nil || ar.Done() {
		l.expired(w, r)
		return
	}
	u, ok := l.users.authenticate(username, r.PostForm.Get("password"))
	if !ok {
		l.logger.InfoContext(r.Context(), "sign-in refused", "client_id", ar.GetClientID())
		l.render(w, r, http.StatusUnauthorized, "login", loginPage{
			Action: loginPath, ID: id, ClientID: ar.GetClientID(), Username: username,
			Error: "Unknown email or wrong password.",
		})
		return
	}
	if err := l.storage.completeLogin(id, u.Sub); err != nil {
		l.expired(w, r)
		return
	}
	l.logger.InfoContext(r.Context(), "signed in", "user", u, "client_id", ar.GetClientID())
	http.Redirect(w, r, l.callback(r.Context(), id), http.StatusSeeOther)
}

// loggedOut answers where end_session sends a browser that named no
// post_logout_redirect_uri.
func (l *login) loggedOut(w http.ResponseWriter, r *http.Request) {
	l.message(w, r, http.StatusOK, "Signed out", "You are signed out of the development identity provider.")
}

func (l *login) expired(w http.ResponseWriter, r *http.Request) {
	l.message(w, r, http.StatusBadRequest, "Sign-in expired",
		"This sign-in is unknown, finished or expired. Go back to the application and sign in again.")
}

func (l *login) message(w http.ResponseWriter, r *http.Request, status int, title, text string) {
	l.render(w, r, status, "message", struct{ Title, Text string }{title, text})
}

// render writes a page with headers that keep it out of frames and caches.
func (l *login) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		l.logger.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
