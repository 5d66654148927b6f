package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

var errBadForm = errors.New("the form could not be read")

// problem is how one kind of failure is shown: a page for people, a JSON
// body for machines.
type problem struct {
	Status int
	Code   string // stable, for machines
	Title  string
	Text   string
	Hint   string
}

// problemFor is the one place that maps an error to an HTTP status.
func problemFor(err error) problem {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, errSignedOut):
		return problem{http.StatusUnauthorized, "signed_out", "Please sign in", err.Error() + "; nothing was changed.", "Sign in again."}
	case errors.Is(err, errCrossSite):
		return problem{http.StatusForbidden, "cross_site", "Request refused", err.Error() + ", so it was refused and nothing was changed.",
			"Go back to the page and use its button."}
	case errors.Is(err, onboarding.ErrNoPartnerStatus):
		return problem{http.StatusForbidden, "no_partner_status", "Your partner has no partner status",
			"Your partner does not have partner status with the cloud provider, so you cannot add or look after customers here.",
			"Ask the cloud provider to grant your partner partner status."}
	case errors.Is(err, errNotStaff):
		return problem{http.StatusForbidden, "not_staff", "You have no access to the portal",
			"You signed in, but you are not on any partner's staff, so there is nothing to show you.",
			"Ask an owner of your partner to add you on the Staff page."}
	case errors.Is(err, onboarding.ErrForbidden):
		return problem{http.StatusForbidden, "forbidden", "Not allowed", err.Error() + "; nothing was changed.",
			"Ask an owner of your partner for another role."}
	case errors.Is(err, errLoginState), errors.Is(err, errLoginRefused):
		return problem{http.StatusBadRequest, "login_failed", "Sign-in failed", err.Error() + ".", "Sign in again."}
	case errors.Is(err, customer.ErrNotFound), errors.Is(err, customer.ErrUnknownPartner):
		return problem{http.StatusNotFound, "not_found", "Not found", "There is no such customer or record here.", "Go back to the customer list."}
	case errors.Is(err, customer.ErrInvalid), errors.Is(err, errBadForm), errors.As(err, &tooLarge):
		return problem{http.StatusUnprocessableEntity, "invalid", "Please check the form", oneLine(err) + "; nothing was changed.", ""}
	case errors.Is(err, onboarding.ErrNoWorker):
		return problem{http.StatusServiceUnavailable, "no_worker", "Not available right now",
			"The onboarding service is not running, so nothing was sent or changed.", "Try again in a few minutes."}
	case errors.Is(err, onboarding.ErrQueued):
		return problem{http.StatusAccepted, "queued", "Your request is queued",
			"The onboarding service is busy or restarting: your request will be carried out as soon as it is back.", "Reload the page in a minute."}
	case errors.Is(err, onboarding.ErrRefused), errors.Is(err, onboarding.ErrEnded), errors.Is(err, customer.ErrNameTaken),
		errors.Is(err, customer.ErrNameImmutable), errors.Is(err, customer.ErrSuspended), errors.Is(err, customer.ErrNotActive),
		errors.Is(err, customer.ErrCloudNameTaken), errors.Is(err, customer.ErrDeleted), errors.Is(err, customer.ErrLastOwner),
		errors.Is(err, customer.ErrStaffTaken), errors.Is(err, customer.ErrNotPartner):
		return problem{http.StatusConflict, "refused", "Not possible now", oneLine(err) + ".", ""}
	}
	return problem{http.StatusInternalServerError, "internal", "Something went wrong", "Something went wrong on our side; it may not have been done.",
		"Try again in a minute."}
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
	s.render(w, r, p.Status, "problem", page{Title: p.Title, Status: p.Status, Text: p.Text, Hint: p.Hint})
}

// failJSON answers a failed API call: {"error": code, "message": text, "fields": {...}}.
func (s *server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	p := problemFor(err)
	s.logProblem(r, p, err)
	body := map[string]any{"error": p.Code, "message": p.Text}
	if f := fieldErrors(err); len(f) > 0 {
		body["fields"] = f
	}
	writeJSON(w, p.Status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// fieldErrors collects, by field, the reasons a form or body is invalid.
func fieldErrors(err error) map[string]string {
	out := map[string]string{}
	var walk func(error)
	walk = func(e error) {
		if e == nil {
			return
		}
		var inv *customer.InvalidError
		if errors.As(e, &inv) && inv == e {
			if _, ok := out[inv.Field]; !ok {
				out[inv.Field] = inv.Reason
			}
			return
		}
		switch u := e.(type) {
		case interface{ Unwrap() []error }:
			for _, c := range u.Unwrap() {
				walk(c)
			}
		case interface{ Unwrap() error }:
			walk(u.Unwrap())
		}
	}
	walk(err)
	return out
}

func oneLine(err error) string {
	b := []byte(err.Error())
	for i, c := range b {
		if c == '\n' || c == '\r' {
			b[i] = ';'
		}
	}
	return string(b)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
