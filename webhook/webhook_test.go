package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/loginhook"
	"github.com/cloudpartners/onboarding/workflows"
)

// Words of each page, as a customer reads them.
const (
	pageConfirm   = "Confirm that you want to work with"
	pageConfirmed = "Thank you, your confirmation is received"
	pageAlready   = "Already confirmed"
	pageMalformed = "This link is incomplete"
	pageUnknown   = "This link is not valid"
	pageExpired   = "This link has expired"
	pageCancelled = "This invitation was withdrawn"
	pageEnded     = "This invitation can no longer be confirmed"
	pageTooLarge  = "Request too large"
	pageTooMany   = "Too many requests"
)

func TestConfirm(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	t.Run("a scanner's HEAD and GET never confirm; the button's POST does, once", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "scan", time.Hour)
		for _, method := range []string{http.MethodHead, http.MethodGet, http.MethodHead, http.MethodGet} {
			a := e.get(t, method, o.link)
			if a.status != http.StatusOK {
				t.Fatalf("%s of the link: %d, want 200", method, a.status)
			}
			if method == http.MethodHead && a.body != "" {
				t.Errorf("HEAD answered with a body")
			}
			if method == http.MethodGet {
				expect(t, a, http.StatusOK, pageConfirm, escaped(e.partnerName), escaped(o.name), escaped(testBrand),
					"cloud-scan", `<form method="post" action="/confirm" class="answer">`, `name="token" value="`+o.token+`"`)
				if strings.Contains(a.body, "<script>") || strings.Contains(a.body, "<b>") {
					t.Errorf("the page shows names unescaped:\n%s", a.body)
				}
			}
			for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "same-origin",
				"X-Content-Type-Options": "nosniff", "Content-Type": "text/html; charset=utf-8"} {
				if got := a.header.Get(h); got != want {
					t.Errorf("%s %s = %q, want %q", method, h, got, want)
				}
			}
			if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q lets outside content in", csp)
			}
		}
		// Give a confirmation, had one been sent, time to reach the workflow.
		time.Sleep(time.Second)
		e.awaiting(t, o)

		expect(t, e.post(t, o.token), http.StatusOK, pageConfirmed, escaped(e.partnerName), escaped(o.name), "cloud-scan")
		e.activeWithCloud(t, o, workflows.ViaLink)

		// Twice is harmless, and says so; the page no longer offers the button.
		again := e.post(t, o.token)
		expect(t, again, http.StatusOK, pageAlready, escaped(o.name))
		page := e.get(t, http.MethodGet, o.link)
		expect(t, page, http.StatusOK, pageAlready)
		if strings.Contains(page.body, "<form") {
			t.Errorf("the page of a confirmed link still offers the button")
		}
		if s := e.status(t, o); s.IgnoredCount != 0 {
			t.Errorf("the workflow ignored %d late confirmations; the webhook should not have sent any", s.IgnoredCount)
		}
		e.noSecretsLogged(t, o)
	})

	t.Run("bad links get their page and change nothing", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "bad", time.Hour)
		tests := []struct {
			name   string
			method string
			token  string
			status int
			page   string
		}{
			{"no token", http.MethodPost, "", http.StatusBadRequest, pageMalformed},
			{"garbage", http.MethodPost, "abc", http.StatusBadRequest, pageMalformed},
			{"cut short", http.MethodPost, o.token[:len(o.token)-3], http.StatusBadRequest, pageMalformed},
			{"newline appended", http.MethodPost, o.token + "\n", http.StatusBadRequest, pageMalformed},
			{"forged", http.MethodPost, forge(t, o.sa.ID, o.sa.ConfirmDeadline), http.StatusNotFound, pageUnknown},
			{"bit flipped", http.MethodPost, flip(o.token), http.StatusNotFound, pageUnknown},
			{"unknown subaccount", http.MethodPost, token(t, uuid.NewString(), time.Now().Add(time.Hour)), http.StatusNotFound, pageUnknown},
			{"GET without token", http.MethodGet, "", http.StatusBadRequest, pageMalformed},
			{"GET garbage", http.MethodGet, "%3Cscript%3E", http.StatusBadRequest, pageMalformed},
			{"GET forged", http.MethodGet, forge(t, o.sa.ID, o.sa.ConfirmDeadline), http.StatusNotFound, pageUnknown},
			{"GET bit flipped", http.MethodGet, flip(o.token), http.StatusNotFound, pageUnknown},
		}
		for _, tt := range tests {
			var a answer
			if tt.method == http.MethodGet {
				a = e.get(t, http.MethodGet, e.base+"/confirm?token="+tt.token)
			} else {
				a = e.post(t, tt.token)
			}
			t.Logf("%s: %d", tt.name, a.status)
			expect(t, a, tt.status, tt.page, "nothing was confirmed", escaped(testBrand))
			if strings.Contains(a.body, "<form") {
				t.Errorf("%s: the problem page offers a button", tt.name)
			}
		}
		time.Sleep(500 * time.Millisecond)
		e.awaiting(t, o)
		e.noSecretsLogged(t, o)
	})

	t.Run("a link past its deadline has expired, before and after the record is deleted", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "late", 4*time.Second)
		// Past the deadline, inside the workflow's grace: the webhook refuses,
		// so the onboarding expires although it was still waiting.
		time.Sleep(time.Until(o.sa.ConfirmDeadline.Add(1200 * time.Millisecond)))
		if s := e.status(t, o); s.Stage != workflows.StageAwaiting {
			t.Logf("the onboarding left the wait already (%s); the grace case is not exercised", s.Stage)
		}
		expect(t, e.post(t, o.token), http.StatusGone, pageExpired, "nothing was confirmed")
		expect(t, e.get(t, http.MethodGet, o.link), http.StatusGone, pageExpired)
		body := `{"token":"` + o.token + `"}`
		a := e.hook(t, body, loginhook.Sign([]byte(testLoginSecret), time.Now(), []byte(body)))
		expect(t, a, http.StatusGone, `"error":"expired"`)

		r := e.result(t, o)
		if r.Outcome != workflows.OutcomeExpired {
			t.Fatalf("outcome %s, want EXPIRED", r.Outcome)
		}
		if s := e.status(t, o); s.IgnoredCount != 0 || s.ConfirmedVia != "" {
			t.Errorf("the workflow received a confirmation (via %q, %d ignored): the webhook sent one past the deadline", s.ConfirmedVia, s.IgnoredCount)
		}
		expect(t, e.post(t, o.token), http.StatusGone, pageExpired)
		expect(t, e.get(t, http.MethodGet, o.link), http.StatusGone, pageExpired)
		if sa := e.row(t, o); sa.Status != domain.StatusInactive || sa.DeletedReason != domain.ReasonExpired {
			t.Errorf("subaccount %s (%s), want INACTIVE (EXPIRED)", sa.Status, sa.DeletedReason)
		}
	})

	t.Run("a cancelled onboarding's link says so and changes nothing", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "gone", time.Hour)
		h, err := e.c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{
			WorkflowID: o.run.GetID(), UpdateName: workflows.UpdateCancel, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			t.Fatalf("cancel: %v", err)
		}
		var res workflows.Result
		if err := h.Get(context.Background(), &res); err != nil {
			t.Fatalf("cancel: %v", err)
		}
		before := e.row(t, o)
		expect(t, e.get(t, http.MethodGet, o.link), http.StatusGone, pageCancelled)
		expect(t, e.post(t, o.token), http.StatusGone, pageCancelled, "nothing to confirm")
		if r := e.result(t, o); r.Outcome != workflows.OutcomeCancelled {
			t.Errorf("outcome %s, want CANCELLED", r.Outcome)
		}
		after := e.row(t, o)
		if after.Status != domain.StatusInactive || after.DeletedReason != domain.ReasonCancelled || !after.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("subaccount %s (%s) updated %s, want INACTIVE (CANCELLED) untouched since %s", after.Status, after.DeletedReason, after.UpdatedAt, before.UpdatedAt)
		}
		if s := e.status(t, o); s.IgnoredCount != 0 {
			t.Errorf("the workflow saw %d confirmations after the cancel", s.IgnoredCount)
		}
	})

	t.Run("a link whose workflow is gone without an outcome says the onboarding ended", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "term", time.Hour)
		if err := e.c.TerminateWorkflow(context.Background(), o.run.GetID(), o.run.GetRunID(), "test: the onboarding broke off"); err != nil {
			t.Fatal(err)
		}
		expect(t, e.post(t, o.token), http.StatusGone, pageEnded)
		if sa := e.row(t, o); sa.Status != domain.StatusAcceptanceRequired {
			t.Errorf("subaccount %s, want it left as it was (%s)", sa.Status, domain.StatusAcceptanceRequired)
		}
	})

	t.Run("oversized bodies are refused and change nothing", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "big", time.Hour)
		form := "token=" + o.token + "&pad=" + strings.Repeat("x", 20<<10)
		for _, chunked := range []bool{false, true} {
			var body io.Reader = strings.NewReader(form)
			if chunked {
				body = io.MultiReader(body) // hides the length: sent chunked
			}
			req, err := http.NewRequest(http.MethodPost, e.base+"/confirm", body)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			expect(t, e.do(t, req), http.StatusRequestEntityTooLarge, pageTooLarge)
		}
		big := `{"token":"` + o.token + `","pad":"` + strings.Repeat("x", 20<<10) + `"}`
		expect(t, e.hook(t, big, loginhook.Sign([]byte(testLoginSecret), time.Now(), []byte(big))), http.StatusRequestEntityTooLarge, `"error":"too_large"`)
		time.Sleep(500 * time.Millisecond)
		e.awaiting(t, o)
	})
}

func TestLoginHook(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	secret := []byte(testLoginSecret)
	body := func(token string) string { return `{"token":"` + token + `"}` }

	t.Run("accepted once, refused when replayed", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "login", time.Hour)
		b := body(o.token)
		sig := loginhook.Sign(secret, time.Now(), []byte(b))
		a := e.hook(t, b, sig)
		expect(t, a, http.StatusAccepted, `"status":"confirmed"`, o.sa.ID)
		if ct := a.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		e.activeWithCloud(t, o, workflows.ViaLogin)

		expect(t, e.hook(t, b, sig), http.StatusConflict, `"error":"replayed"`)
		// A fresh call about a confirmed link is harmless.
		expect(t, e.hook(t, b, loginhook.Sign(secret, time.Now().Add(time.Second), []byte(b))), http.StatusOK, `"status":"already_confirmed"`)
		if s := e.status(t, o); s.IgnoredCount != 0 {
			t.Errorf("the workflow ignored %d confirmations; the replay reached it", s.IgnoredCount)
		}
		e.noSecretsLogged(t, o)
	})

	t.Run("refused calls get a reason and change nothing", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "nologin", time.Hour)
		b := body(o.token)
		now := time.Now()
		tests := []struct {
			name      string
			body, sig string
			status    int
			code      string
		}{
			{"no signature", b, "", http.StatusBadRequest, "malformed_signature"},
			{"malformed signature", b, "sha256=abc", http.StatusBadRequest, "malformed_signature"},
			{"signed with another secret", b, loginhook.Sign([]byte("another-login-secret-0123456789abcdef"), now, []byte(b)), http.StatusUnauthorized, "bad_signature"},
			{"signature of another body", b, loginhook.Sign(secret, now, []byte(body(flip(o.token)))), http.StatusUnauthorized, "bad_signature"},
			{"stale", b, loginhook.Sign(secret, now.Add(-6*time.Minute), []byte(b)), http.StatusUnauthorized, "stale_timestamp"},
			{"from the future", b, loginhook.Sign(secret, now.Add(6*time.Minute), []byte(b)), http.StatusUnauthorized, "stale_timestamp"},
			{"not JSON", "token=" + o.token, loginhook.Sign(secret, now, []byte("token="+o.token)), http.StatusBadRequest, "bad_json"},
			{"no token", `{}`, loginhook.Sign(secret, now, []byte(`{}`)), http.StatusBadRequest, "bad_json"},
			{"forged token", body(forge(t, o.sa.ID, o.sa.ConfirmDeadline)), loginhook.Sign(secret, now, []byte(body(forge(t, o.sa.ID, o.sa.ConfirmDeadline)))), http.StatusNotFound, "unknown_link"},
			{"malformed token", body("abc"), loginhook.Sign(secret, now, []byte(body("abc"))), http.StatusBadRequest, "malformed_link"},
		}
		for _, tt := range tests {
			a := e.hook(t, tt.body, tt.sig)
			t.Logf("%s: %d %s", tt.name, a.status, strings.TrimSpace(a.body))
			expect(t, a, tt.status, `"error":"`+tt.code+`"`, `"reason":"`)
			if strings.Count(strings.TrimSpace(a.body), "\n") != 0 {
				t.Errorf("%s: the reason is not one line: %q", tt.name, a.body)
			}
		}
		time.Sleep(500 * time.Millisecond)
		e.awaiting(t, o)
		e.noSecretsLogged(t, o)
	})
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, map[string]string{"WEBHOOK_RATE": "0.01", "WEBHOOK_BURST": "3"})
	o := e.launch(t, "flood", time.Hour)
	for i := range 3 {
		expect(t, e.post(t, fmt.Sprintf("bad-%d", i)), http.StatusBadRequest, pageMalformed)
	}
	a := e.post(t, o.token)
	expect(t, a, http.StatusTooManyRequests, pageTooMany, "nothing was changed")
	if a.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	b := body429(o.token)
	expect(t, e.hook(t, b, loginhook.Sign([]byte(testLoginSecret), time.Now(), []byte(b))), http.StatusTooManyRequests, `"error":"rate_limited"`)
	// Pages are not limited: a customer can still look.
	expect(t, e.get(t, http.MethodGet, o.link), http.StatusOK, pageConfirm)
	time.Sleep(500 * time.Millisecond)
	e.awaiting(t, o)
}

func body429(token string) string { return `{"token":"` + token + `"}` }

// token makes a genuine token, as the worker would.
func token(t *testing.T, subaccountID string, deadline time.Time) string {
	t.Helper()
	tok, err := links.NewSigner([]byte(testSecret)).Token(subaccountID, deadline)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
