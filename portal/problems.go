package main

import (
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

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
	Status int
	Code   string // stable, for machines
	Title  string
	// Text is what a page says, written for a partner: no codes, no ids.
	Text string
	// Message is what the API says, with the details a developer wants
	// (which onboarding, which field).
	Message  string
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

// unchanged ends what a page says of a refusal.
const unchanged = " Nothing was changed."

// problemFor is the one place that maps an error to an HTTP status and
// the words a partner reads: by its kind, with the failures that have
// words of their own picked out by their code.
func problemFor(err error) problem {
	p := problemOf(err)
	if p.Text == "" {
		p.Text = p.Message
	}
	return p
}

func problemOf(err error) problem {
	switch domain.CodeOf(err) {
	case errSignedOut.Code:
		return problem{Status: http.StatusUnauthorized, Code: "signed_out", Title: "Please sign in", Message: err.Error() + "; nothing was changed.",
			Text: "You are not signed in, or your session has ended." + unchanged, Hint: "Sign in again."}
	case errCrossSite.Code:
		return problem{Status: http.StatusForbidden, Code: "cross_site", Title: "Request refused", Message: err.Error() + ", so it was refused and nothing was changed.",
			Text: "This request did not come from the portal's own page, so it was refused." + unchanged, Hint: "Go back to the page and use its button."}
	case domain.ErrNoPartnerStatus.Code:
		return problem{Status: http.StatusForbidden, Code: "no_partner_status", Title: "Your partner has no partner status",
			Message: "Your partner does not have partner status with the cloud provider, so you cannot add or look after customers here.",
			Hint:    "Ask the cloud provider to grant your partner partner status."}
	case errNotStaff.Code:
		return problem{Status: http.StatusForbidden, Code: "not_staff", Title: "You have no access to the portal",
			Message: "You signed in, but you are not on any partner's staff, so there is nothing to show you.",
			Hint:    "Ask an owner of your partner to add you on the Staff page."}
	case errLoginState.Code:
		return problem{Status: http.StatusBadRequest, Code: "login_failed", Title: "Sign-in failed",
			Message: "This sign-in is unknown, was used already or took too long.", Hint: "Sign in again."}
	case errLoginRefused.Code:
		// Whatever the provider's answer says stays out of the page: it
		// came in the URL.
		return problem{Status: http.StatusBadRequest, Code: "login_failed", Title: "Sign-in failed",
			Message: "The identity provider did not sign you in.", Hint: "Sign in again."}
	case errUnsupportedBody.Code:
		return problem{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Title: "Not JSON", Message: err.Error() + "; nothing was changed."}
	case request.ErrReused.Code:
		return problem{Status: http.StatusUnprocessableEntity, Code: "key_reused", Title: "Please check the request",
			Message: err.Error() + "; nothing was changed.", Text: "This form was sent before, for something else." + unchanged,
			Hint: "Reload the page and send the form again."}
	}
	if errors.As(err, new(*http.MaxBytesError)) {
		return problem{Status: http.StatusUnprocessableEntity, Code: "invalid", Title: "Please check the form", Message: "The request is too large; nothing was changed."}
	}
	kind := domain.KindOf(err)
	p := problem{Status: statusOf[kind], Message: text.OneLine(err.Error()) + "; nothing was changed."}
	switch kind {
	case domain.Invalid:
		p.Code, p.Title, p.Text = "invalid", "Please check the form", invalidText(err)+unchanged
	case domain.NotFound:
		p.Code, p.Title, p.Hint, p.HintLink = "not_found", "Not found", "Go back to the customer list.", "/customers"
		p.Message = "There is no such customer or record here."
	case domain.Forbidden:
		p.Code, p.Title, p.Hint = "forbidden", "Not allowed", "Ask an owner of your partner for another role."
		p.Text = "Your role does not allow this." + unchanged
	case domain.Conflict, domain.NotYet:
		p.Code, p.Title, p.Message = "refused", "Not possible now", text.OneLine(err.Error())+"."
		p.Text = refusalText(err) + unchanged
		switch {
		case errors.Is(err, domain.ErrEnded), errors.Is(err, domain.ErrDeleted):
			p.Hint, p.HintLink = "Add the customer again to onboard it anew.", "/customers/new"
		case kind == domain.NotYet:
			p.Hint = "Try again in a moment."
		}
	case domain.Unavailable:
		p.Code, p.Title, p.Hint = "unavailable", "Not available right now", "Try again in a few minutes."
		p.Text = "The onboarding service cannot be reached right now." + unchanged
	default:
		p.Code, p.Title, p.Hint = "internal", "Something went wrong", "Try again in a minute."
		p.Message = "Something went wrong on our side; it may not have been done."
	}
	return p
}

// refusalText is a refusal (Conflict, NotYet) as a partner reads it: the
// refusals whose actions' words name the onboarding's id and codes have
// words of their own here; the others keep the actions' words, as a
// sentence.
func refusalText(err error) string {
	switch domain.CodeOf(err) {
	case domain.ErrConfirmed.Code:
		return "The customer has already confirmed, so this is no longer needed."
	case domain.ErrEnded.Code:
		return "This customer's onboarding has ended, so this is no longer possible."
	case domain.ErrDeleted.Code:
		return "This customer has been deleted, so this is no longer possible."
	case domain.ErrNoRecordYet.Code:
		return "The customer's record is still being created."
	case domain.ErrNotActive.Code:
		return "The customer is not active yet: this is possible once the customer has confirmed and the first cloud is created."
	}
	return sentence(text.OneLine(err.Error()))
}

// fieldLabels are the form fields as their labels name them.
var fieldLabels = map[string]string{
	"name": "Name", "email": "Email", "contact": "Contact person", "cloud": "Cloud name", "confirm_within": "Confirmation window",
	"retention": "Keep the data for", "reason": "Reason", "role": "Role",
}

// invalidText is bad input as a partner reads it: each field by its
// label, with why it was refused.
func invalidText(err error) string {
	fields := domain.Fields(err)
	if len(fields) == 0 {
		return sentence(text.OneLine(err.Error()))
	}
	var out []string
	for _, name := range slices.Sorted(maps.Keys(fields)) {
		label, ok := fieldLabels[name]
		if !ok {
			label = "The form"
		}
		out = append(out, label+": "+fields[name])
	}
	return sentence(strings.Join(out, "; "))
}

// sentence starts s with a capital and ends it with a full stop.
func sentence(s string) string {
	s = strings.TrimRight(strings.TrimSpace(s), ".")
	if s == "" {
		return ""
	}
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:] + "."
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
	s.renderProblem(w, r, p)
}

// renderProblem writes a problem's page.
func (s *server) renderProblem(w http.ResponseWriter, r *http.Request, p problem) {
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
	writeJSON(w, p.Status, apiError{Error: p.Code, Message: p.Message, Fields: domain.Fields(err)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}
