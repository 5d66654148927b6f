package main

import (
	"net/http"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

var secretField = regexp.MustCompile(`id="secret" class="secret" value="([^"]+)"`)

// TestAPIKeyLifecycle: an owner creates a key on the page (shown once,
// stored as a hash), a machine uses it on the JSON API within its role
// and partner, and once revoked it opens nothing.
func TestAPIKeyLifecycle(t *testing.T) {
	w := newWorld(t, nil)
	owner := w.signIn("owner@acme.example")
	page := owner.post("/api-keys", url.Values{"name": {"billing sync"}, "role": {"editor"}})
	expect(t, page, http.StatusOK, "shown this once")
	m := secretField.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("no key on the page:\n%s", page.body)
	}
	key := m[1]
	var hashed int
	if err := w.st.DB().Get(&hashed, `SELECT count(*) FROM api_keys WHERE hash = sha256(convert_to($1, 'UTF8'))`, key); err != nil || hashed != 1 {
		t.Fatalf("the key is not stored by its hash: %d %v", hashed, err)
	}
	if again := owner.get("/api-keys"); secretField.MatchString(again.body) {
		t.Errorf("the key is shown a second time")
	}

	machine := w.anonymous()
	var me map[string]any
	machine.api(http.MethodGet, "/api/v1/me", nil, key).decode(t, &me)
	if me["kind"] != domain.ActorAPIKey || me["partner_id"] != w.acme || me["role"] != "editor" {
		t.Errorf("/me with the key = %v", me)
	}
	add := machine.api(http.MethodPost, "/api/v1/customers", map[string]string{"name": "API Customer", "email": "api@customer.example", "cloud": "api-cloud"}, key)
	expect(t, add, http.StatusCreated)
	var l launchedJSON
	add.decode(t, &l)
	if !l.Launched || l.SubaccountID == "" {
		t.Fatalf("launch through the API = %+v", l)
	}
	expect(t, machine.api(http.MethodPost, "/api/v1/customers", map[string]string{"name": "API Customer", "email": "api@customer.example", "cloud": "api-cloud"}, key),
		http.StatusOK, `"launched":false`)
	var list struct {
		Customers []customerRow `json:"customers"`
	}
	// The record appears once the worker has created it.
	testenv.Eventually(t, 20*time.Second, "the customer in the list", func() bool {
		machine.api(http.MethodGet, "/api/v1/customers", nil, key).decode(t, &list)
		return len(list.Customers) == 1 && list.Customers[0].Name == "API Customer" && list.Customers[0].ID == l.SubaccountID
	})
	// Staff and keys are the owners': an editor's key is refused.
	expect(t, machine.api(http.MethodGet, "/api/v1/api-keys", nil, key), http.StatusForbidden, `"error":"forbidden"`)

	// Revoked, it opens nothing, and its use was recorded.
	var keys struct {
		Keys []struct {
			ID         string  `json:"id"`
			LastUsedAt *string `json:"last_used_at"`
		} `json:"api_keys"`
	}
	owner.api(http.MethodGet, "/api/v1/api-keys", nil, "").decode(t, &keys)
	if len(keys.Keys) != 1 || keys.Keys[0].LastUsedAt == nil {
		t.Fatalf("keys = %+v, want one, used", keys)
	}
	expect(t, owner.post("/api-keys/"+keys.Keys[0].ID+"/revoke", nil), http.StatusOK, "revoked")
	expect(t, machine.api(http.MethodGet, "/api/v1/customers", nil, key), http.StatusUnauthorized, `"error":"signed_out"`)
}
