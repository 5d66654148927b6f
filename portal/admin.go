package main

import (
	"net/http"
	"strings"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/domain"
)

// staffData is the staff page.
type staffData struct {
	Staff  []domain.Staff
	Roles  []string
	Me     string
	Email  string
	Role   string
	PII    bool
	Errors map[string]string
}

func (s *server) staffPage(w http.ResponseWriter, r *http.Request) {
	s.showStaff(w, r, http.StatusOK, staffData{Role: domain.StaffViewer})
}

func (s *server) showStaff(w http.ResponseWriter, r *http.Request, status int, d staffData) {
	list, err := s.actions.Access.Staff(r.Context(), actor(r), actor(r).PartnerID)
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	d.Staff, d.Roles, d.Me = list, domain.StaffRoles, whoFrom(r.Context()).staff.ID
	s.render(w, r, status, "staff", page{Title: "Staff", Nav: "staff", Notice: notice(r), Data: d})
}

func (s *server) addStaff(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	d := staffData{Email: strings.TrimSpace(f.Get("email")), Role: f.Get("role"), PII: f.Get("personal_data") == "on"}
	st, err := s.actions.Access.AddStaff(r.Context(), actor(r), actor(r).PartnerID, d.Email, d.Role, d.PII)
	if fe := domain.Fields(err); len(fe) > 0 {
		d.Errors = fe
		s.showStaff(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	seeOther(w, r, "/staff", st.Email+" may now sign in as "+st.Role+".")
}

func (s *server) changeStaff(w http.ResponseWriter, r *http.Request) {
	st, err := s.actions.Access.SetStaffRole(r.Context(), actor(r), r.PathValue("id"), r.PostForm.Get("role"), r.PostForm.Get("personal_data") == "on")
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	seeOther(w, r, "/staff", st.Email+" is now "+st.Role+".")
}

func (s *server) removeStaff(w http.ResponseWriter, r *http.Request) {
	if err := s.actions.Access.RemoveStaff(r.Context(), actor(r), r.PathValue("id")); err != nil {
		s.failPage(w, r, err)
		return
	}
	seeOther(w, r, "/staff", "Removed: their sessions are ended.")
}

// apiKeysData is the API keys page; New is a key just created, shown once.
type apiKeysData struct {
	Keys   []domain.APIKey
	Roles  []string
	New    *access.NewAPIKey
	Name   string
	Errors map[string]string
}

func (s *server) apiKeysPage(w http.ResponseWriter, r *http.Request) {
	s.showKeys(w, r, http.StatusOK, apiKeysData{})
}

func (s *server) showKeys(w http.ResponseWriter, r *http.Request, status int, d apiKeysData) {
	keys, err := s.actions.Access.APIKeys(r.Context(), actor(r))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	d.Keys, d.Roles = keys, domain.StaffRoles
	s.render(w, r, status, "apikeys", page{Title: "API keys", Nav: "apikeys", Notice: notice(r), Data: d})
}

// createAPIKey creates a key and shows its secret on this one answer;
// the page is never cached (Cache-Control: no-store on every answer).
func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimSpace(r.PostForm.Get("name"))
	k, err := s.actions.Access.CreateAPIKey(r.Context(), actor(r), name, r.PostForm.Get("role"))
	if fe := domain.Fields(err); len(fe) > 0 {
		s.showKeys(w, r, http.StatusUnprocessableEntity, apiKeysData{Name: name, Errors: fe})
		return
	}
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	s.showKeys(w, r, http.StatusOK, apiKeysData{New: &k})
}

func (s *server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.actions.Access.RevokeAPIKey(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	seeOther(w, r, "/api-keys", "Key "+k.Name+" revoked: it opens nothing any more.")
}
