package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudpartners/onboarding/internal/daemon"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/loginhook"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

// Limits of the HTTP edge.
const (
	maxBody = 16 << 10 // a confirm form or a login-hook call is far smaller
	// replayKeep is how long an accepted login-hook signature is remembered:
	// past it, the timestamp alone refuses the call.
	replayKeep = 2*loginhook.Tolerance + time.Minute
)

// Invitations are the customer's actions on a confirmation link;
// *onboarding.Service carries them out.
type Invitations interface {
	Invitation(ctx context.Context, token string) (domain.Subaccount, error)
	Confirm(ctx context.Context, token, via string) (sa domain.Subaccount, already bool, err error)
	Decline(ctx context.Context, token string) (domain.Subaccount, error)
}

// LoginCalls remembers accepted login-hook calls, so that a replay is refused.
type LoginCalls interface {
	RememberLoginCall(ctx context.Context, signature string, at time.Time, keep time.Duration) (bool, error)
}

// server is the public HTTP edge: the confirmation page and the login hook.
// It translates requests into the actions of package onboarding and their
// answers into pages and JSON.
type server struct {
	invitations Invitations
	loginCalls  LoginCalls
	loginSecret []byte
	brand       string
	now         func() time.Time
	logger      *slog.Logger
	limiter     *limiter
	proxies     httpserver.Proxies     // who may say who the client is
	origins     *httpserver.SameOrigin // the confirm form comes from the webhook's own page
	pages       httpserver.Pages
	health      *daemon.Health // /healthz and /readyz
}

// routes is the server's handler: every route, behind the common headers
// and the request log, under the client's address as the trusted proxies
// tell it.
func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	// GET also answers HEAD; neither ever confirms (mail scanners follow links).
	mux.HandleFunc("GET /confirm", s.showConfirm)
	mux.Handle("POST /confirm", s.limited(s.failPage, s.ownPage(s.postConfirm)))
	mux.Handle("POST /hooks/login", s.limited(s.failJSON, s.loginHook))
	s.health.Routes(mux)
	// The confirm page's URL holds the link's token: "same-origin" sends it
	// nowhere else, while browsers still send the form's Origin (under
	// "no-referrer" a form's Origin is "null").
	return s.proxies.Resolve(httpserver.LogRequests(s.logger, httpserver.SecurityHeaders(csp, "same-origin", mux), "/healthz", "/readyz"))
}

// responder answers a failed request in the route's format.
type responder func(w http.ResponseWriter, r *http.Request, err error)

// showConfirm shows who asks whom to confirm, with a button that POSTs.
func (s *server) showConfirm(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	sa, err := s.invitations.Invitation(r.Context(), token)
	switch {
	case errors.Is(err, onboarding.ErrAlreadyConfirmed):
		s.page(w, r, http.StatusOK, "already", sa, "Already confirmed", "")
	case err != nil:
		s.failPage(w, r, err)
	default:
		s.page(w, r, http.StatusOK, "confirm", sa, "Confirm your partner", token)
	}
}

// postConfirm confirms through the link, or declines with action=decline.
func (s *server) postConfirm(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.failPage(w, r, fmt.Errorf("read form: %w", err))
		return
	}
	switch r.PostForm.Get("action") {
	case "", "confirm":
	case "decline":
		s.postDecline(w, r)
		return
	default:
		s.failPage(w, r, errBadAction)
		return
	}
	sa, already, err := s.invitations.Confirm(r.Context(), r.PostForm.Get("token"), domain.ViaLink)
	switch {
	case errors.Is(err, onboarding.ErrAnswerRecorded):
		s.logger.Warn("confirmation recorded, its signal not delivered", "onboarding", sa.OnboardingID, "subaccount", sa.ID, "error", err)
		s.page(w, r, http.StatusAccepted, "recorded", sa, "Confirmation received", "")
	case err != nil:
		s.failPage(w, r, err)
	case already:
		s.page(w, r, http.StatusOK, "already", sa, "Already confirmed", "")
	default:
		s.logger.Info("confirmation sent to the onboarding", "onboarding", sa.OnboardingID, "subaccount", sa.ID, "via", domain.ViaLink)
		s.page(w, r, http.StatusOK, "confirmed", sa, "Confirmed", "")
	}
}

// postDecline declines the invitation: the customer does not want to work
// with the partner.
func (s *server) postDecline(w http.ResponseWriter, r *http.Request) {
	sa, err := s.invitations.Decline(r.Context(), r.PostForm.Get("token"))
	switch {
	case errors.Is(err, onboarding.ErrAlreadyConfirmed):
		// Confirmed first (perhaps a moment ago, in another tab): the truth.
		s.page(w, r, http.StatusConflict, "already", sa, "Already confirmed", "")
	case errors.Is(err, onboarding.ErrAnswerRecorded):
		s.logger.Warn("decline recorded, its signal not delivered", "onboarding", sa.OnboardingID, "subaccount", sa.ID, "error", err)
		s.page(w, r, http.StatusAccepted, "recorded", sa, "Answer received", "")
	case err != nil:
		s.failPage(w, r, err)
	default:
		s.logger.Info("decline sent to the onboarding", "onboarding", sa.OnboardingID, "subaccount", sa.ID)
		s.page(w, r, http.StatusOK, "declined", sa, "Declined", "")
	}
}

// loginHook confirms because the identity system saw the customer log in
// through the link. The call is signed; a replay is refused.
func (s *server) loginHook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.failJSON(w, r, fmt.Errorf("read body: %w", err))
		return
	}
	now := s.now()
	sig, err := loginhook.Verify(s.loginSecret, r.Header.Get(loginhook.HeaderName), body, now)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	var call struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &call); err != nil || call.Token == "" {
		s.failJSON(w, r, errBadJSON)
		return
	}
	fresh, err := s.loginCalls.RememberLoginCall(r.Context(), sig, now, replayKeep)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	if !fresh {
		s.failJSON(w, r, errReplayed)
		return
	}
	sa, already, err := s.invitations.Confirm(r.Context(), call.Token, domain.ViaLogin)
	switch {
	case errors.Is(err, onboarding.ErrAnswerRecorded):
		s.logger.Warn("confirmation recorded, its signal not delivered", "onboarding", sa.OnboardingID, "subaccount", sa.ID, "via", domain.ViaLogin, "error", err)
		writeJSON(w, http.StatusAccepted, hookAnswer{Status: "recorded", SubaccountID: sa.ID})
	case err != nil:
		s.failJSON(w, r, err)
	case already:
		writeJSON(w, http.StatusOK, hookAnswer{Status: "already_confirmed", SubaccountID: sa.ID})
	default:
		s.logger.Info("confirmation sent to the onboarding", "onboarding", sa.OnboardingID, "subaccount", sa.ID, "via", domain.ViaLogin)
		writeJSON(w, http.StatusAccepted, hookAnswer{Status: "confirmed", SubaccountID: sa.ID})
	}
}

// page renders a page about a subaccount.
func (s *server) page(w http.ResponseWriter, r *http.Request, status int, name string, sa domain.Subaccount, title, token string) {
	d := pageData{
		Brand: s.brand, Title: title, Partner: sa.PartnerName, Customer: sa.Name, Cloud: sa.CloudName,
		Deadline: sa.ConfirmDeadline.UTC().Format("Monday, 2 January 2006 at 15:04 MST"), Token: token,
	}
	if err := s.pages.Render(w, status, name, d); err != nil {
		s.failPage(w, r, err)
	}
}

// failPage answers a failed page request with the page for its error.
func (s *server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problem(r, err)
	d := pageData{Brand: s.brand, Title: p.Title, Status: fmt.Sprintf("%d %s", p.Status, http.StatusText(p.Status)), Text: p.Text, Hint: p.Hint}
	if rerr := s.pages.Render(w, p.Status, "problem", d); rerr != nil {
		s.logger.Error("render problem page", "error", rerr)
		http.Error(w, p.Text, p.Status)
	}
}

// failJSON answers a failed machine call with a one-line JSON reason.
func (s *server) failJSON(w http.ResponseWriter, r *http.Request, err error) {
	p := s.problem(r, err)
	writeJSON(w, p.Status, hookAnswer{Error: p.Code, Reason: p.Text})
}

// problem maps the error and logs it: 5xx as errors, the rest as information.
func (s *server) problem(r *http.Request, err error) problem {
	p := problemFor(err)
	if p.Status >= 500 {
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", p.Status, "error", err)
	} else {
		s.logger.Info("request refused", "method", r.Method, "path", r.URL.Path, "status", p.Status, "reason", p.Code)
	}
	return p
}

// hookAnswer is the login hook's JSON answer: a status and the subaccount
// when accepted, an error code and a reason when not.
type hookAnswer struct {
	Status       string `json:"status,omitempty"`
	SubaccountID string `json:"subaccount_id,omitempty"`
	Error        string `json:"error,omitempty"`
	Reason       string `json:"reason,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ownPage refuses a confirm or decline form that a browser says another
// site's page sent (httpserver.SameOrigin): nothing changes. The form is
// the customer's answer, so another site must not give it in their
// browser with a link it holds.
func (s *server) ownPage(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.origins.Allows(r) {
			s.failPage(w, r, errCrossSite)
			return
		}
		next(w, r)
	}
}

// limited rate-limits a POST route per client address and bounds its body.
func (s *server) limited(fail responder, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.limiter.allow(httpserver.ClientAddr(r)) {
			w.Header().Set("Retry-After", "1")
			fail(w, r, errRateLimited)
			return
		}
		if r.ContentLength > maxBody {
			// Refused before reading; closing keeps the client from sending the rest.
			w.Header().Set("Connection", "close")
			fail(w, r, errTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxBody)
		next(w, r)
	})
}

// csp lets the pages show their own inline styles and post their own forms: nothing else.
const csp = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
