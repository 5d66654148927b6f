package main

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/text"
)

//go:embed openapi.json
var openAPI []byte

// apiRoutes are the JSON API's routes, described by openapi.json (a test
// keeps the two in step).
func (s *server) apiRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openAPI)
	})
	for _, rt := range s.api() {
		mux.Handle(rt.pattern, s.apiAuth(rt.handler))
	}
}

// api is the JSON API's routes; apiRoutes puts each behind apiAuth.
func (s *server) api() []route {
	return []route{
		{"GET /api/v1/me", s.apiMe},
		{"GET /api/v1/customers", s.apiList},
		{"POST /api/v1/customers", s.apiAdd},
		{"GET /api/v1/customers/{id}", s.apiCustomer},
		{"GET /api/v1/customers/{id}/progress", s.apiProgress},
		{"PATCH /api/v1/customers/{id}", s.apiEdit},
		{"POST /api/v1/customers/{id}/resend", s.apiResend},
		{"POST /api/v1/customers/{id}/link", s.apiLink},
		{"POST /api/v1/customers/{id}/cancel", s.apiCancel},
		{"GET /api/v1/customers/{id}/clouds", s.apiClouds},
		{"POST /api/v1/customers/{id}/clouds", s.apiAddCloud},
		{"POST /api/v1/customers/{id}/suspend", s.apiSuspend},
		{"POST /api/v1/customers/{id}/resume", s.apiResume},
		{"GET /api/v1/customers/{id}/audit", s.exportHandler(true, s.failJSON)},
		{"GET /api/v1/audit", s.exportHandler(false, s.failJSON)},
		{"GET /api/v1/staff", s.apiStaff},
		{"POST /api/v1/staff", s.apiAddStaff},
		{"PATCH /api/v1/staff/{id}", s.apiChangeStaff},
		{"DELETE /api/v1/staff/{id}", s.apiRemoveStaff},
		{"GET /api/v1/api-keys", s.apiKeys},
		{"POST /api/v1/api-keys", s.apiCreateKey},
		{"DELETE /api/v1/api-keys/{id}", s.apiRevokeKey},
		{"GET /api/v1/requests/{id}", s.apiRequest},
	}
}

// errNoCredentials means an API call came with neither an API key nor a session.
var errNoCredentials = errors.New("no valid API key or session: send Authorization: Bearer <key>")

// bearer is the token of an Authorization header of the Bearer scheme,
// whose name is case-insensitive (RFC 9110, section 11.1).
func bearer(h string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(token), true
}

// apiAuth lets in an API call with an API key (Authorization: Bearer obk_…)
// or a signed-in session; with a session, a state-changing call must carry
// the session's token in X-CSRF-Token and come from the portal's origin.
// Nothing is let in for a partner without partner status, as on the pages.
// A body must be JSON (415 otherwise).
func (s *server) apiAuth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		var id who
		if h := r.Header.Get("Authorization"); h != "" {
			key, ok := bearer(h)
			a, err := s.actions.Access.APIKeyActor(r.Context(), key, httpserver.ClientAddr(r))
			if !ok || errors.Is(err, domain.ErrNotFound) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="portal"`)
				s.failJSON(w, r, errSignedOut)
				return
			}
			if err != nil {
				s.failJSON(w, r, err)
				return
			}
			id = who{actor: a}
		} else {
			var err error
			if id, err = s.session(r); err != nil {
				w.Header().Set("WWW-Authenticate", `Bearer realm="portal"`)
				s.failJSON(w, r, fmt.Errorf("%w: %w", errSignedOut, errNoCredentials))
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead && (!s.origins.Allows(r) || !sameToken(r.Header.Get("X-CSRF-Token"), id.csrf)) {
				s.failJSON(w, r, errCrossSite)
				return
			}
		}
		if !id.actor.PartnerStatus {
			s.failJSON(w, r, domain.ErrNoPartnerStatus)
			return
		}
		if r.ContentLength != 0 && r.Method != http.MethodGet && r.Method != http.MethodHead && !isJSON(r.Header.Get("Content-Type")) {
			s.failJSON(w, r, errUnsupportedBody)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, id)))
	})
}

// isJSON reports whether a Content-Type is JSON (parameters such as a
// charset allowed).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

// errBadJSON means a request body is not the JSON the call takes.
var errBadJSON = domain.Invalidf("body", "not the JSON object this call takes (see /api/v1/openapi.json)")

// decode reads a JSON body strictly: unknown fields are refused. An empty
// body is refused unless optional, when it leaves v as it is.
func decode(r *http.Request, v any, optional bool) error {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(raw)) == 0 && optional {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errBadJSON
	}
	if _, err := dec.Token(); err != io.EOF {
		return errBadJSON
	}
	return nil
}

// reply writes an action's result, or its failure.
func (s *server) reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	writeJSON(w, status, v)
}

func (s *server) apiMe(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	writeJSON(w, http.StatusOK, meJSON{Kind: a.Kind, ID: a.ID, PartnerID: a.PartnerID, Role: a.Role, PersonalData: a.PersonalData})
}

func (s *server) apiList(w http.ResponseWriter, r *http.Request) {
	limit := pageSize
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			s.failJSON(w, r, domain.Invalidf("limit", "want a whole number from 1 to 1000"))
			return
		}
		limit = n
	}
	lq, _ := listQuery(r.URL.Query(), limit)
	if st := r.URL.Query().Get("status"); st != "" && lq.Status == "" && lq.Reason == "" {
		s.failJSON(w, r, domain.Invalidf("status", "%q is not a tab: want verification, active, suspended, inactive, declined, expired or cancelled", text.Truncate(st, 20)))
		return
	}
	l, err := s.actions.Onboarding.List(r.Context(), actor(r), lq)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	rows := make([]customerRow, 0, len(l.Onboardings))
	for _, v := range l.Onboardings {
		rows = append(rows, rowOf(v))
	}
	writeJSON(w, http.StatusOK, customerListJSON{Customers: rows, Next: l.Next, Prev: l.Prev})
}

// newCustomerBody is the body of POST /api/v1/customers.
type newCustomerBody struct {
	Name          string `json:"name"`
	Email         string `json:"email"`
	Contact       string `json:"contact"`
	Cloud         string `json:"cloud"`
	ConfirmWithin string `json:"confirm_within"` // a duration such as 168h; empty: the default
}

func (s *server) apiAdd(w http.ResponseWriter, r *http.Request) {
	var b newCustomerBody
	if err := decode(r, &b, false); err != nil {
		s.failJSON(w, r, err)
		return
	}
	within, werr := domain.ParseConfirmWithin(b.ConfirmWithin)
	c := onboarding.NewCustomer{Name: b.Name, Email: b.Email, Contact: b.Contact, Cloud: b.Cloud, ConfirmWithin: within}
	if werr != nil {
		s.failJSON(w, r, errors.Join(c.Validate(), werr))
		return
	}
	l, err := s.actions.Onboarding.Launch(r.Context(), actor(r), actor(r).PartnerID, c)
	status := http.StatusCreated
	if !l.Launched {
		status = http.StatusOK
	}
	s.reply(w, r, status, launchedOf(l), err)
}

func (s *server) apiCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.actions.Onboarding.Customer(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	var log []domain.AuditEvent
	if c.SubaccountID != "" {
		if log, err = s.actions.Audit.Customer(r.Context(), actor(r), c.SubaccountID); err != nil {
			s.failJSON(w, r, err)
			return
		}
	}
	writeJSON(w, http.StatusOK, customerOf(c, log))
}

// apiProgress answers from the customer's record alone: one indexed
// query, no Temporal, whatever the onboarding's state — what the
// customer's page polls every few seconds.
func (s *server) apiProgress(w http.ResponseWriter, r *http.Request) {
	sa, err := s.actions.Onboarding.Progress(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, progressOf(sa), err)
}

// editBody is the body of PATCH /api/v1/customers/{id}: the fields to change.
type editBody struct {
	Name    *string `json:"name"` // refused: the name cannot change
	Email   *string `json:"email"`
	Contact *string `json:"contact"`
	Cloud   *string `json:"cloud"`
}

func (s *server) apiEdit(w http.ResponseWriter, r *http.Request) {
	var b editBody
	if err := decode(r, &b, false); err != nil {
		s.failJSON(w, r, err)
		return
	}
	if _, err := s.actions.Onboarding.Edit(r.Context(), actor(r), r.PathValue("id"), domain.Edit{Name: b.Name, Email: b.Email, Contact: b.Contact, CloudName: b.Cloud}); err != nil {
		s.failJSON(w, r, err)
		return
	}
	s.apiCustomer(w, r)
}

// requestKey is the request id of a call's Idempotency-Key: the same key
// from the same partner is the same request; none, a new one.
func requestKey(r *http.Request) (string, error) {
	return request.KeyID(actor(r).PartnerID, strings.TrimSpace(r.Header.Get("Idempotency-Key")))
}

// requested answers a call that sent a request to a customer's workflow:
// 202 Accepted with the request, and where to follow it, while it is
// accepted and not carried out yet; else as done (status, body) or failed.
func (s *server) requested(w http.ResponseWriter, r *http.Request, req domain.Request, status int, done any, err error) {
	if err == nil && req.Pending() {
		w.Header().Set("Location", pollPath(req.ID))
		writeJSON(w, http.StatusAccepted, requestOf(req))
		return
	}
	s.reply(w, r, status, done, err)
}

func (s *server) apiResend(w http.ResponseWriter, r *http.Request) {
	rid, err := requestKey(r)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	res, err := s.actions.Onboarding.Resend(r.Context(), actor(r), r.PathValue("id"), rid)
	st := res.Status
	s.requested(w, r, res.Request, http.StatusOK, resentJSON{EmailsSent: st.EmailsSent, LastSentAt: st.LastSentAt,
		NextResendAt: timeOrNil(st.NextResendAt), Request: requestOrNil(res.Request)}, err)
}

func (s *server) apiLink(w http.ResponseWriter, r *http.Request) {
	l, err := s.actions.Onboarding.Link(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, linkJSON{OnboardingID: l.OnboardingID, SubaccountID: l.SubaccountID, URL: l.URL, ValidUntil: l.ValidUntil}, err)
}

func (s *server) apiCancel(w http.ResponseWriter, r *http.Request) {
	rid, err := requestKey(r)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	c, err := s.actions.Onboarding.Cancel(r.Context(), actor(r), r.PathValue("id"), rid)
	s.requested(w, r, c.Request, http.StatusOK, cancelledJSON{Outcome: c.Result.Outcome, SubaccountID: c.Result.SubaccountID,
		Request: requestOrNil(c.Request)}, err)
}

func (s *server) apiClouds(w http.ResponseWriter, r *http.Request) {
	clouds, err := s.actions.Lifecycle.Clouds(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, cloudListJSON{Clouds: cloudsOf(clouds)}, err)
}

func (s *server) apiAddCloud(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name string `json:"name"`
	}
	if err := decode(r, &b, false); err != nil {
		s.failJSON(w, r, err)
		return
	}
	rid, err := requestKey(r)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	c, err := s.actions.Lifecycle.AddCloud(r.Context(), actor(r), r.PathValue("id"), b.Name, rid)
	status := http.StatusCreated
	if !c.Created {
		status = http.StatusOK
	}
	s.requested(w, r, c.Request, status, cloudAddedOf(c), err)
}

// apiSuspend stops a customer's services. Its body is optional: none, or
// {}, suspends with the configured retention and no reason.
func (s *server) apiSuspend(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason    string `json:"reason"`
		Retention string `json:"retention"` // a duration such as 720h; empty: the default
	}
	if err := decode(r, &b, true); err != nil {
		s.failJSON(w, r, err)
		return
	}
	retention, err := domain.ParseRetention(b.Retention)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	rid, err := requestKey(r)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	l, err := s.actions.Lifecycle.Suspend(r.Context(), actor(r), r.PathValue("id"), b.Reason, retention, rid)
	s.requested(w, r, l.Request, http.StatusOK, lifecycleOf(l), err)
}

func (s *server) apiResume(w http.ResponseWriter, r *http.Request) {
	rid, err := requestKey(r)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	l, err := s.actions.Lifecycle.Resume(r.Context(), actor(r), r.PathValue("id"), rid)
	s.requested(w, r, l.Request, http.StatusOK, lifecycleOf(l), err)
}

// apiRequest is where one request stands: accepted, done or refused.
func (s *server) apiRequest(w http.ResponseWriter, r *http.Request) {
	req, err := s.actions.Onboarding.Request(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, requestOf(req), err)
}

func (s *server) apiStaff(w http.ResponseWriter, r *http.Request) {
	list, err := s.actions.Access.Staff(r.Context(), actor(r), actor(r).PartnerID)
	out := staffListJSON{Staff: make([]staffJSON, 0, len(list))}
	for _, st := range list {
		out.Staff = append(out.Staff, staffOf(st))
	}
	s.reply(w, r, http.StatusOK, out, err)
}

// staffBody is the body of POST and PATCH /api/v1/staff.
type staffBody struct {
	Email        string `json:"email"`
	Role         string `json:"role"`
	PersonalData bool   `json:"personal_data"`
}

func (s *server) apiAddStaff(w http.ResponseWriter, r *http.Request) {
	var b staffBody
	if err := decode(r, &b, false); err != nil {
		s.failJSON(w, r, err)
		return
	}
	st, err := s.actions.Access.AddStaff(r.Context(), actor(r), actor(r).PartnerID, b.Email, b.Role, b.PersonalData)
	s.reply(w, r, http.StatusOK, staffOf(st), err)
}

func (s *server) apiChangeStaff(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Role         string `json:"role"`
		PersonalData bool   `json:"personal_data"`
	}
	if err := decode(r, &b, false); err != nil {
		s.failJSON(w, r, err)
		return
	}
	st, err := s.actions.Access.SetStaffRole(r.Context(), actor(r), r.PathValue("id"), b.Role, b.PersonalData)
	s.reply(w, r, http.StatusOK, staffOf(st), err)
}

func (s *server) apiRemoveStaff(w http.ResponseWriter, r *http.Request) {
	err := s.actions.Access.RemoveStaff(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, staffRemovedJSON{Removed: r.PathValue("id")}, err)
}

func (s *server) apiKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.actions.Access.APIKeys(r.Context(), actor(r))
	out := apiKeyListJSON{APIKeys: make([]apiKeyJSON, 0, len(keys))}
	for _, k := range keys {
		out.APIKeys = append(out.APIKeys, apiKeyOf(k))
	}
	s.reply(w, r, http.StatusOK, out, err)
}

func (s *server) apiCreateKey(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := decode(r, &b, false); err != nil {
		s.failJSON(w, r, err)
		return
	}
	k, err := s.actions.Access.CreateAPIKey(r.Context(), actor(r), b.Name, b.Role)
	s.reply(w, r, http.StatusCreated, newAPIKeyOf(k), err)
}

func (s *server) apiRevokeKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.actions.Access.RevokeAPIKey(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, apiKeyOf(k), err)
}
