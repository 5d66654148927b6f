package main

import (
	"net/http"
	"testing"
)

func TestSignInAndDashboard(t *testing.T) {
	w := newWorld(t, nil)
	sa := w.launch(w.acme, "Smoke Customer")
	b := w.signIn("owner@acme.example")
	page := b.get("/customers")
	expect(t, page, http.StatusOK, "Smoke Customer", "Verification required", "owner@acme.example")
	c := b.get("/customers/" + sa.ID)
	expect(t, c, http.StatusOK, "Smoke Customer", "Audit log")
}
