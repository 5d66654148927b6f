package main

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/text"
)

// The portal's own refusals.
var (
	errBadForm         = domain.New(domain.Invalid, "BadForm", "the form could not be read")
	errUnsupportedBody = domain.New(domain.Invalid, "UnsupportedMediaType", "the body is not application/json: send Content-Type: application/json")
)

// problem is how one kind of failure is shown: a page for people, a JSON
// body for machines.
type problem struct {
	Status   int
	Code     string // stable, for machines
	Title    string
	Text     string
	Hint     string
	HintLink string // a page of the portal the hint points to
}

// statusOf is the HTTP status of each kind of failure: the one place the
// kinds meet HTTP.
var statusOf = map[domain.Kind]int{
	domain.Invalid:     http.StatusUnprocessableEntity,
	domain.NotFound:    http.StatusNotFound,
	domain.Conflict:    http.StatusConflict,
	domain.NotYet:      http.StatusConflict,
	domain.Forbidden:   http.StatusForbidden,
	domain.Unavailable: http.StatusServiceUnavailable,
	domain.Accepted:    http.StatusAccepted,
	domain.Internal:    http.StatusInternalServerError,
}

// problemFor is the one place that maps an error to an HTTP status and
// the words a partner reads: by its kind, with the few failures that have
// words of their own picked out by their code.
func problemFor(err error) problem {
	switch domain.CodeOf(err) {
	case errSignedOut.Code:
		return problem{Status: http.StatusUnauthorized, Code: "signed_out", Title: "Please sign in", Text: err.Error() + "; nothing was changed.", Hint: "Sign in again."}
	case errCrossSite.Code:
		return problem{Status: http.StatusForbidden, Code: "cross_site", Title: "Request refused", Text: err.Error() + ", so it was refused and nothing was changed.",
			Hint: "Go back to the page and use its button."}
	case domain.ErrNoPartnerStatus.Code:
		return problem{Status: http.StatusForbidden, Code: "no_partner_status", Title: "Your partner has no partner status",
			Text: "Your partner does not have partner status with the cloud provider, so you cannot add or look after customers here.",
			Hint: "Ask the cloud provider to grant your partner partner status."}
	case errNotStaff.Code:
		return problem{Status: http.StatusForbidden, Code: "not_staff", Title: "You have no access to the portal",
			Text: "You signed in, but you are not on any partner's staff, so there is nothing to show you.",
			Hint: "Ask an owner of your partner to add you on the Staff page."}
	case errLoginState.Code, errLoginRefused.Code:
		return problem{Status: http.StatusBadRequest, Code: "login_failed", Title: "Sign-in failed", Text: err.Error() + ".", Hint: "Sign in again."}
	case errUnsupportedBody.Code:
		return problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Not JSON", Text: err.Error() + "; nothing was changed."}
	case request.ErrReused.Code:
		return problem{Status: http.StatusUnprocessableEntity, Code: "key_reused", Title: "Please check the request",
			Text: err.Error() + "; nothing was changed.", Hint: "Send a new Idempotency-Key for a new request."}
	}
	if errors.As(err, new(*http.MaxBytesError)) {
		return problem{Status: http.StatusUnprocessableEntity, Code: "invalid", Title: "Please check the form", Text: "The request is too large; nothing was changed."}
	}
	p := problem{Status: statusOf[domain.KindOf(err)]}
	switch domain.KindOf(err) {
	case domain.Invalid:
		p.Code, p.Title, p.Text = "invalid", "Please check the form", text.OneLine(err.Error())+"; nothing was changed."
	case domain.NotFound:
		p.Code, p.Title, p.Text, p.Hint, p.HintLink = "not_found", "Not found", "There is no such customer or record here.", "Go back to the customer list.", "/customers"
	case domain.Forbidden:
		p.Code, p.Title, p.Text, p.Hint = "forbidden", "Not allowed", text.OneLine(err.Error())+"; nothing was changed.", "Ask an owner of your partner for another role."
	case domain.Conflict, domain.NotYet:
		p.Code, p.Title, p.Text = "refused", "Not possible now", text.OneLine(err.Error())+"."
		switch {
		case errors.Is(err, domain.ErrEnded), errors.Is(err, domain.ErrDeleted):
			p.Hint, p.HintLink = "Add the customer again to onboard it anew.", "/customers/new"
		case domain.KindOf(err) == domain.NotYet:
			p.Hint = "Try again in a moment."
		}
	case domain.Unavailable:
		p.Code, p.Title, p.Text, p.Hint = "unavailable", "Not available right now", text.OneLine(err.Error())+"; nothing was changed.", "Try again in a few minutes."
	default:
		p.Code, p.Title, p.Text, p.Hint = "internal", "Something went wrong", "Something went wrong on our side; it may not have been done.", "Try again in a minute."
	}
	return p
}

// logProblem logs a failed request: 5xx as errors, the rest as information.
func (s *server) logProblem(r *http.Request, p problem, err error) {
	if p.Status >= 500 {
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "error", err)
	} else {
		s.logger.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", p.Status, "reason", p.Code)
	}
}

// failPage answers a failed page request with the page for its error.
func (s *server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	s.logProblem(r, p, err)
	s.render(w, r, p.Status, "problem", page{Title: p.Title, Status: p.Status, Text: p.Text, Hint: p.Hint, HintLink: p.HintLink})
}

// apiError is the JSON API's answer to a failed call.
type apiError struct {
	Error   string            `json:"error"`
	Message string            `json:"message"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// failJSON answers a failed API call: {"error": code, "message": text, "fields": {...}}.
func (s *server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	s.logProblem(r, p, err)
	writeJSON(w, p.Status, apiError{Error: p.Code, Message: p.Text, Fields: domain.Fields(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
