package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/access"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestDrainFinishesTheAddInFlight: a second portal, the real binary beside
// the test's, is sent SIGTERM while a machine's POST /api/v1/customers is
// still uploading. It fails /readyz at once, adds a customer posted during
// DRAIN_DELAY, then stops taking connections, answers the first add 201
// and exits 0; each customer is onboarded once and gets one email.
func TestDrainFinishesTheAddInFlight(t *testing.T) {
	w := newWorld(t, nil)
	ctx := context.Background()
	owner, err := w.drv.Access.AddStaff(ctx, w.drv.Operator, w.acme, "drain-owner@acme.example", domain.StaffOwner, true)
	if err != nil {
		t.Fatal(err)
	}
	key, err := w.drv.Access.CreateAPIKey(ctx, access.StaffActor(owner, "127.0.0.1"), "drain test", domain.StaffEditor)
	if err != nil {
		t.Fatal(err)
	}
	addr := testenv.FreePort(t)
	const delay = 2 * time.Second
	vars := maps.Clone(w.vars)
	vars["PORTAL_ADDR"], vars["DRAIN_DELAY"] = addr, delay.String()
	p := testenv.Start(t, "portal", vars)
	sfx := testenv.Suffix()
	email := func(i int) string { return fmt.Sprintf("drain-%s-%d@example.com", sfx, i) }
	ids := make([]string, 2)
	testenv.Drain{Proc: p, Base: "http://" + addr, Delay: delay, Grace: delay + 10*time.Second,
		Request: func(i int) *http.Request {
			body, _ := json.Marshal(newCustomerBody{Name: fmt.Sprintf("Drain %s %d", sfx, i), Email: email(i), Cloud: "main"})
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/customers", strings.NewReader(string(body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+key.Secret)
			return req
		},
		Check: func(tb testing.TB, i int, a testenv.Answer) {
			var l launchedJSON
			if a.Status != http.StatusCreated || json.Unmarshal([]byte(a.Body), &l) != nil || !l.Launched || l.OnboardingID == "" {
				tb.Fatalf("add #%d answered %d, want 201 with the onboarding launched:\n%s", i, a.Status, a.Body)
			}
			ids[i] = l.OnboardingID
		},
	}.Run(t)
	for i, id := range ids {
		testenv.WaitMail(t, email(i), 1, 30*time.Second)
		if v := w.drv.Status(id); v.SubaccountID == "" {
			t.Errorf("onboarding %s has no subaccount: %+v", id, v)
		}
	}
	time.Sleep(time.Second) // a second email, were there one, would be in by now
	for i := range ids {
		if n := len(testenv.MailTo(t, email(i))); n != 1 {
			t.Errorf("%s got %d emails, want 1", email(i), n)
		}
	}
}
