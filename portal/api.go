package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/httpserver"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/store"
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
		{"PATCH /api/v1/customers/{id}", s.apiEdit},
		{"POST /api/v1/customers/{id}/resend", s.apiResend},
		{"POST /api/v1/customers/{id}/link", s.apiLink},
		{"POST /api/v1/customers/{id}/cancel", s.apiCancel},
		{"GET /api/v1/customers/{id}/clouds", s.apiClouds},
		{"POST /api/v1/customers/{id}/clouds", s.apiAddCloud},
		{"POST /api/v1/customers/{id}/suspend", s.apiSuspend},
		{"POST /api/v1/customers/{id}/resume", s.apiResume},
		{"GET /api/v1/staff", s.apiStaff},
		{"POST /api/v1/staff", s.apiAddStaff},
		{"PATCH /api/v1/staff/{id}", s.apiChangeStaff},
		{"DELETE /api/v1/staff/{id}", s.apiRemoveStaff},
		{"GET /api/v1/api-keys", s.apiKeys},
		{"POST /api/v1/api-keys", s.apiCreateKey},
		{"DELETE /api/v1/api-keys/{id}", s.apiRevokeKey},
	}
}

// errNoCredentials means an API call came with neither an API key nor a session.
var errNoCredentials = errors.New("no valid API key or session: send Authorization: Bearer <key>")

// apiAuth lets in an API call with an API key (Authorization: Bearer obk_…)
// or a signed-in session; with a session, a state-changing call must carry
// the session's token in X-CSRF-Token and come from the portal's origin.
// Nothing is let in for a partner without partner status, as on the pages.
func (s *server) apiAuth(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxForm)
		if h := r.Header.Get("Authorization"); h != "" {
			key, ok := strings.CutPrefix(h, "Bearer ")
			a, err := s.svc.APIKeyActor(r.Context(), strings.TrimSpace(key), httpserver.ClientAddr(r))
			if !ok || errors.Is(err, customer.ErrNotFound) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="portal"`)
				s.failJSON(w, r, errSignedOut)
				return
			}
			if err != nil {
				s.failJSON(w, r, err)
				return
			}
			next(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, who{actor: a})))
			return
		}
		id, err := s.session(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="portal"`)
			s.failJSON(w, r, fmt.Errorf("%w: %w", errSignedOut, errNoCredentials))
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead && (!s.sameOrigin(r) || !sameToken(r.Header.Get("X-CSRF-Token"), id.csrf)) {
			s.failJSON(w, r, errCrossSite)
			return
		}
		if !id.staff.PartnerStatus {
			s.failJSON(w, r, onboarding.ErrNoPartnerStatus)
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), whoKey{}, id)))
	})
}

// errBadJSON means a request body is not the JSON the call takes.
var errBadJSON = customer.Invalid("body", "not the JSON object this call takes (see /api/v1/openapi.json)")

// decode reads a JSON body strictly: unknown fields are refused.
func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return err
		}
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
	writeJSON(w, http.StatusOK, map[string]any{"kind": a.Kind, "id": a.ID, "partner_id": a.PartnerID, "role": a.Role, "personal_data": a.PersonalData})
}

// customerRow is one customer of a list.
type customerRow struct {
	ID            string     `json:"id"`
	OnboardingID  string     `json:"onboarding_id"`
	Name          string     `json:"name"`
	Status        string     `json:"status"`
	DisplayStatus string     `json:"display_status"`
	DeletedReason string     `json:"deleted_reason,omitempty"`
	CreatedAt     *time.Time `json:"created_at,omitempty"`
	Deadline      *time.Time `json:"deadline,omitempty"`
	EmailsSent    int        `json:"emails_sent"`
	Clouds        int        `json:"clouds"`
	SuspendedAt   *time.Time `json:"suspended_at,omitempty"`
	DeleteAfter   *time.Time `json:"delete_after,omitempty"`
}

func (s *server) apiList(w http.ResponseWriter, r *http.Request) {
	limit := pageSize
	if v := r.URL.Query().Get("limit"); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &limit); err != nil || limit < 1 || limit > 1000 {
			s.failJSON(w, r, customer.Invalid("limit", "want a whole number from 1 to 1000"))
			return
		}
	}
	lq, _ := listQuery(r.URL.Query(), limit)
	if st := r.URL.Query().Get("status"); st != "" && lq.Status == "" && lq.Reason == "" {
		s.failJSON(w, r, customer.Invalid("status", "%q is not a tab: want verification, active, suspended, inactive, declined, expired or cancelled", truncate(st, 20)))
		return
	}
	l, err := s.svc.List(r.Context(), actor(r), lq)
	if err != nil {
		s.failJSON(w, r, err)
		return
	}
	rows := make([]customerRow, 0, len(l.Onboardings))
	for _, v := range l.Onboardings {
		rows = append(rows, customerRow{ID: v.SubaccountID, OnboardingID: v.OnboardingID, Name: v.Customer, Status: v.SubaccountStatus,
			DisplayStatus: customer.DisplayStatus(v.SubaccountStatus, v.DeletedReason), DeletedReason: v.DeletedReason, CreatedAt: v.CreatedAt,
			Deadline: v.Deadline, EmailsSent: v.EmailsSent, Clouds: v.CloudCount, SuspendedAt: v.SuspendedAt, DeleteAfter: v.DeleteAfter})
	}
	writeJSON(w, http.StatusOK, map[string]any{"customers": rows, "next": l.Next, "prev": l.Prev})
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
	if err := decode(r, &b); err != nil {
		s.failJSON(w, r, err)
		return
	}
	c := onboarding.NewCustomer{Name: b.Name, Email: b.Email, Contact: b.Contact, Cloud: b.Cloud}
	if b.ConfirmWithin != "" {
		d, err := time.ParseDuration(b.ConfirmWithin)
		if err != nil {
			s.failJSON(w, r, customer.Invalid("confirm_within", "%q is not a duration such as 168h", truncate(b.ConfirmWithin, 20)))
			return
		}
		c.ConfirmWithin = d
	}
	l, err := s.svc.Launch(r.Context(), actor(r), actor(r).PartnerID, c)
	status := http.StatusCreated
	if !l.Launched {
		status = http.StatusOK
	}
	s.reply(w, r, status, l, err)
}

func (s *server) apiCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.Customer(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, c, err)
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
	if err := decode(r, &b); err != nil {
		s.failJSON(w, r, err)
		return
	}
	if _, err := s.svc.Edit(r.Context(), actor(r), r.PathValue("id"), store.Edit{Name: b.Name, Email: b.Email, Contact: b.Contact, CloudName: b.Cloud}); err != nil {
		s.failJSON(w, r, err)
		return
	}
	s.apiCustomer(w, r)
}

func (s *server) apiResend(w http.ResponseWriter, r *http.Request) {
	st, err := s.svc.Resend(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, map[string]any{"emails_sent": st.EmailsSent, "last_sent_at": st.LastSentAt, "next_resend_at": timeOrNil(st.NextResendAt)}, err)
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func (s *server) apiLink(w http.ResponseWriter, r *http.Request) {
	l, err := s.svc.Link(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, l, err)
}

func (s *server) apiCancel(w http.ResponseWriter, r *http.Request) {
	res, err := s.svc.Cancel(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, map[string]any{"outcome": res.Outcome, "subaccount_id": res.SubaccountID}, err)
}

func (s *server) apiClouds(w http.ResponseWriter, r *http.Request) {
	clouds, err := s.svc.Clouds(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, map[string]any{"clouds": clouds}, err)
}

func (s *server) apiAddCloud(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name string `json:"name"`
	}
	if err := decode(r, &b); err != nil {
		s.failJSON(w, r, err)
		return
	}
	c, err := s.svc.AddCloud(r.Context(), actor(r), r.PathValue("id"), b.Name)
	status := http.StatusCreated
	if !c.Created {
		status = http.StatusOK
	}
	s.reply(w, r, status, c, err)
}

func (s *server) apiSuspend(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Reason    string `json:"reason"`
		Retention string `json:"retention"` // a duration such as 720h; empty: the default
	}
	if err := decode(r, &b); err != nil {
		s.failJSON(w, r, err)
		return
	}
	var retention time.Duration
	if b.Retention != "" {
		d, err := time.ParseDuration(b.Retention)
		if err != nil {
			s.failJSON(w, r, customer.Invalid("retention", "%q is not a duration such as 720h", truncate(b.Retention, 20)))
			return
		}
		retention = d
	}
	l, err := s.svc.Suspend(r.Context(), actor(r), r.PathValue("id"), b.Reason, retention)
	s.reply(w, r, http.StatusOK, l, err)
}

func (s *server) apiResume(w http.ResponseWriter, r *http.Request) {
	l, err := s.svc.Resume(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, l, err)
}

func (s *server) apiStaff(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Staff(r.Context(), actor(r), actor(r).PartnerID)
	s.reply(w, r, http.StatusOK, map[string]any{"staff": list}, err)
}

// staffBody is the body of POST and PATCH /api/v1/staff.
type staffBody struct {
	Email        string `json:"email"`
	Role         string `json:"role"`
	PersonalData bool   `json:"personal_data"`
}

func (s *server) apiAddStaff(w http.ResponseWriter, r *http.Request) {
	var b staffBody
	if err := decode(r, &b); err != nil {
		s.failJSON(w, r, err)
		return
	}
	st, err := s.svc.AddStaff(r.Context(), actor(r), actor(r).PartnerID, b.Email, b.Role, b.PersonalData)
	s.reply(w, r, http.StatusOK, st, err)
}

func (s *server) apiChangeStaff(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Role         string `json:"role"`
		PersonalData bool   `json:"personal_data"`
	}
	if err := decode(r, &b); err != nil {
		s.failJSON(w, r, err)
		return
	}
	st, err := s.svc.SetStaffRole(r.Context(), actor(r), r.PathValue("id"), b.Role, b.PersonalData)
	s.reply(w, r, http.StatusOK, st, err)
}

func (s *server) apiRemoveStaff(w http.ResponseWriter, r *http.Request) {
	err := s.svc.RemoveStaff(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, map[string]any{"removed": r.PathValue("id")}, err)
}

func (s *server) apiKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.svc.APIKeys(r.Context(), actor(r))
	s.reply(w, r, http.StatusOK, map[string]any{"api_keys": keys}, err)
}

func (s *server) apiCreateKey(w http.ResponseWriter, r *http.Request) {
	var b struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := decode(r, &b); err != nil {
		s.failJSON(w, r, err)
		return
	}
	k, err := s.svc.CreateAPIKey(r.Context(), actor(r), b.Name, b.Role)
	s.reply(w, r, http.StatusCreated, k, err)
}

func (s *server) apiRevokeKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.svc.RevokeAPIKey(r.Context(), actor(r), r.PathValue("id"))
	s.reply(w, r, http.StatusOK, k, err)
}
