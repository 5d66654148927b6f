package main

import (
	"net/http"
	"strings"

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
	list, err := s.actions.Access.Staff(r.Context(), actor(r), actor(r).PartnerID)
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	d := staffData{Staff: list, Roles: domain.StaffRoles, Me: whoFrom(r.Context()).staff.ID, Role: domain.StaffViewer}
	f := s.takeFlash(r)
	if v := f.Values; f.Form == "staff" {
		d.Email, d.Role, d.PII, d.Errors = v["email"], v["role"], v["personal_data"] == "on", f.Fields
	}
	s.render(w, r, http.StatusOK, "staff", page{Title: "Staff", Nav: "staff", Data: d, flash: &f})
}

func (s *server) addStaff(w http.ResponseWriter, r *http.Request) {
	f := r.PostForm
	typed := map[string]string{"email": strings.TrimSpace(f.Get("email")), "role": f.Get("role"), "personal_data": f.Get("personal_data")}
	st, err := s.actions.Access.AddStaff(r.Context(), actor(r), actor(r).PartnerID, typed["email"], typed["role"], typed["personal_data"] == "on")
	if err != nil {
		s.formFailed(w, r, "/staff", flash{Form: "staff", Values: typed}, err)
		return
	}
	s.sendOn(w, r, "/staff", flash{Notice: st.Email + " may now sign in as " + st.Role + "."})
}

func (s *server) changeStaff(w http.ResponseWriter, r *http.Request) {
	st, err := s.actions.Access.SetStaffRole(r.Context(), actor(r), r.PathValue("id"), r.PostForm.Get("role"), r.PostForm.Get("personal_data") == "on")
	if err != nil {
		s.formFailed(w, r, "/staff", flash{}, err)
		return
	}
	s.sendOn(w, r, "/staff", flash{Notice: st.Email + " is now " + st.Role + "."})
}

func (s *server) removeStaff(w http.ResponseWriter, r *http.Request) {
	if err := s.actions.Access.RemoveStaff(r.Context(), actor(r), r.PathValue("id")); err != nil {
		s.formFailed(w, r, "/staff", flash{}, err)
		return
	}
	s.sendOn(w, r, "/staff", flash{Notice: "Removed: their sessions are ended."})
}

// apiKeysData is the API keys page; New is a key just created, shown once.
type apiKeysData struct {
	Keys   []domain.APIKey
	Roles  []string
	New    *shownKey
	Name   string
	Role   string
	Errors map[string]string
}

func (s *server) apiKeysPage(w http.ResponseWriter, r *http.Request) {
	keys, err := s.actions.Access.APIKeys(r.Context(), actor(r))
	if err != nil {
		s.failPage(w, r, err)
		return
	}
	d := apiKeysData{Keys: keys, Roles: domain.StaffRoles, Role: domain.StaffViewer}
	f := s.takeFlash(r)
	if f.Form == "key" {
		d.Name, d.Role, d.Errors = f.Values["name"], f.Values["role"], f.Fields
	}
	d.New = f.Key
	s.render(w, r, http.StatusOK, "apikeys", page{Title: "API keys", Nav: "apikeys", Data: d, flash: &f})
}

// createAPIKey creates a key, whose secret the API keys page shows once
// (from the flash, sealed from the database's eyes); no page is ever
// cached (Cache-Control: no-store on every answer).
func (s *server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	typed := map[string]string{"name": strings.TrimSpace(r.PostForm.Get("name")), "role": r.PostForm.Get("role")}
	k, err := s.actions.Access.CreateAPIKey(r.Context(), actor(r), typed["name"], typed["role"])
	if err != nil {
		s.formFailed(w, r, "/api-keys", flash{Form: "key", Values: typed}, err)
		return
	}
	s.sendOn(w, r, "/api-keys", flash{Key: &shownKey{Name: k.Name, Secret: k.Secret}})
}

func (s *server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	k, err := s.actions.Access.RevokeAPIKey(r.Context(), actor(r), r.PathValue("id"))
	if err != nil {
		s.formFailed(w, r, "/api-keys", flash{}, err)
		return
	}
	s.sendOn(w, r, "/api-keys", flash{Notice: "Key " + k.Name + " revoked: it opens nothing any more."})
}
