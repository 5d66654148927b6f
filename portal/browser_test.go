package main

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// shoot saves a screenshot of the page when SCREENSHOTS names a folder.
func shoot(t *testing.T, ctx context.Context, name string) { testenv.Screenshot(t, ctx, name) }

// textOf is the visible text of what sel selects.
func textOf(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return testenv.Text(t, ctx, sel)
}

// must runs browser actions and fails the test on an error.
func must(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	// Each step gets its own bound, so that a failure still leaves time to look.
	sctx, cancel := context.WithTimeout(ctx, 40*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		shoot(t, ctx, "failed-"+strings.ReplaceAll(what, " ", "-"))
		t.Fatalf("%s: %v", what, err)
	}
}

// waitNotice waits until the page's notice says want.
func waitNotice(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	waitText(t, ctx, "#notice", want)
}

// waitText waits until what sel selects says want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	js := fmt.Sprintf(`(function(){ var n = document.querySelector(%q); return !!n && n.textContent.includes(%q); })()`, sel, want)
	// The page is navigating after a form: asked too early, the old page
	// answers, or none does; ask until the new one says it.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js)); err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			shoot(t, ctx, "failed-notice")
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
			t.Fatalf("%s never said %q:\n%s", sel, want, body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// signInBrowser signs the browser in as a demo user through the real
// identity provider, starting at path.
func signInBrowser(t *testing.T, ctx context.Context, w *world, path, email string) {
	t.Helper()
	must(t, ctx, "open the portal", chromedp.Navigate(w.base+path), chromedp.WaitVisible(chromedp.CSS("#password")))
	shoot(t, ctx, "01-sign-in")
	must(t, ctx, "sign in",
		chromedp.SendKeys(chromedp.CSS("#username"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), passwords[email]),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#signout")))
	if me := textOf(t, ctx, "#me"); me != email {
		t.Fatalf("signed in as %q", me)
	}
}

// TestBrowserOnboardsACustomer walks the partner's whole job in headless
// Chromium, through the real identity provider: sign in, add a customer,
// see "Verification required", confirm as the customer from the real
// email, see "Active" without reloading, create a second cloud, try to
// resend too soon, copy a link, delete another customer, sign out.
func TestBrowserOnboardsACustomer(t *testing.T) {
	w := newWorld(t, map[string]string{"RESEND_MIN_INTERVAL": "1h"})
	ctx := testenv.Browser(t, 3*time.Minute)

	// Sign in: the portal sends the browser to the identity provider.
	signInBrowser(t, ctx, w, "/customers", "owner@acme.example")
	if p := textOf(t, ctx, "#partner"); p != `ACME <Integrators> & "Co"` {
		t.Errorf("the header names the partner %q", p)
	}

	// Add a customer; its page says it awaits verification.
	email := "browser-" + testenv.Suffix() + "@customer.example"
	name := `Browser <b>Co</b> & "Sons"`
	must(t, ctx, "add a customer",
		chromedp.Navigate(w.base+"/customers/new"), chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), name),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#contact"), "Jane Doe"),
		chromedp.SendKeys(chromedp.CSS("#cloud"), "browser-cloud"))
	shoot(t, ctx, "02-add-customer")
	must(t, ctx, "submit", chromedp.Click(chromedp.CSS("#add")), chromedp.WaitVisible(chromedp.CSS("#status")))
	if s := textOf(t, ctx, "#status"); s != "Verification required" {
		t.Errorf("status after adding: %q", s)
	}
	if n := textOf(t, ctx, "#customer-name"); n != name {
		t.Errorf("the page names the customer %q, want %q (as text)", n, name)
	}
	customerURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(w.base) + `/customers/[0-9a-f-]{36}$`).MatchString(customerURL) {
		t.Errorf("after adding, the browser is at %s, want the customer's page", customerURL)
	}
	waitNotice(t, ctx, "Onboarding launched")
	if s := textOf(t, ctx, "#stage"); !strings.HasPrefix(s, "Waiting for the customer to confirm until ") && !strings.HasPrefix(s, "Sending") {
		t.Errorf("the stage says %q", s)
	}
	shoot(t, ctx, "03-verification-required")

	// Resend too soon: the button is disabled, and the server refuses anyway.
	// It is there once the first email is out: the page reloads itself
	// when the stage changes.
	must(t, ctx, "wait for the Resend button", chromedp.WaitVisible(chromedp.CSS("#resend")))
	disabled, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("resend").disabled`))
	if err != nil || !disabled {
		t.Errorf("the Resend button is enabled right after the first email")
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(document.getElementById("resend").disabled = false)`)); err != nil {
		t.Fatal(err)
	}
	must(t, ctx, "force a resend", chromedp.Click(chromedp.CSS("#resend")))
	waitText(t, ctx, "#error", "Too soon")
	// The refusal's page is the customer's page, got anew: a reload asks
	// nothing again.
	if at, err := chromedp.Run(ctx, chromedp.Location()); err != nil || at != customerURL {
		t.Errorf("after the refusal the browser is at %s (%v), want %s", at, err, customerURL)
	}
	audited := func() (n int) {
		if err := w.st.DB().Get(&n, `SELECT count(*) FROM audit_events`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := audited()
	must(t, ctx, "reload after the refusal", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#status")))
	if n, e := audited(), textOf(t, ctx, "main"); n != before || strings.Contains(e, "Too soon") {
		t.Errorf("the reload sent the form again (audit events %d, then %d) or says the refusal again:\n%s", before, n, e)
	}

	// Copy link: the link is shown, ready to copy.
	must(t, ctx, "copy link", chromedp.Click(chromedp.CSS("#show-link")), chromedp.WaitVisible(chromedp.CSS("#link")))
	link, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS("#link")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, w.webhook+"/confirm?token=") {
		t.Errorf("the link shown is %q", link)
	}
	shoot(t, ctx, "04-copy-link")
	must(t, ctx, "back to the customer", chromedp.Navigate(customerURL), chromedp.WaitVisible(chromedp.CSS("#status")))

	// The customer confirms with the link from the real email — pressing
	// Confirm on its page posts this form (the webhook's own browser test
	// clicks it) — while the partner's page stays open.
	msgs := testenv.WaitMail(t, email, 1, 30*time.Second)
	token, err := stack.TokenOf(testenv.LinkIn(t, msgs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if code, _, err := stack.PostConfirm(context.Background(), http.DefaultClient, w.webhook, token); err != nil || code != http.StatusOK {
		t.Fatalf("the customer's confirmation: %d %v", code, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.getElementById("status").textContent === "Active"`,
		chromedp.WithPollingTimeout(45*time.Second))); err != nil {
		shoot(t, ctx, "failed-active")
		t.Fatalf("the page did not turn Active by itself: %v", err)
	}
	shoot(t, ctx, "05-active-without-reload")

	// A second cloud, in the customer's organization.
	must(t, ctx, "reload for the new actions", chromedp.Navigate(customerURL), chromedp.WaitVisible(chromedp.CSS("#cloud-name")))
	must(t, ctx, "create a cloud", chromedp.SendKeys(chromedp.CSS("#cloud-name"), "second-cloud"),
		chromedp.Click(chromedp.CSS("#create-cloud")))
	waitNotice(t, ctx, "second-cloud created in For subaccount '"+name+"'")
	if got := textOf(t, ctx, "#clouds-section"); !strings.Contains(got, "browser-cloud") || !strings.Contains(got, "second-cloud") {
		t.Errorf("the clouds section shows:\n%s", got)
	}
	shoot(t, ctx, "06-second-cloud")

	// Delete another, unconfirmed customer, behind a confirmation step.
	other := w.launch(w.acme, "Delete Me Ltd")
	must(t, ctx, "delete another customer", chromedp.Navigate(w.base+"/customers/"+other.ID), chromedp.WaitVisible(chromedp.CSS("#delete")),
		chromedp.Click(chromedp.CSS("#delete")), chromedp.WaitVisible(chromedp.CSS("#delete-confirm")))
	shoot(t, ctx, "07-delete-step")
	must(t, ctx, "confirm the deletion", chromedp.Click(chromedp.CSS("#delete-confirm")))
	waitNotice(t, ctx, "The unconfirmed customer is deleted")
	testenv.Eventually(t, 30*time.Second, "the other customer to be deleted", func() bool {
		sa, err := w.st.Subaccount(context.Background(), "", other.ID)
		return err == nil && sa.Status == domain.StatusInactive && sa.DeletedReason == domain.ReasonCancelled
	})

	// The dashboard shows both, as people read them.
	must(t, ctx, "open the dashboard", chromedp.Navigate(w.base+"/customers"), chromedp.WaitVisible(chromedp.CSS("#customers")))
	waitText(t, ctx, "#customers", "Cancelled")
	board := textOf(t, ctx, "#customers")
	for _, want := range []string{name, "Active", "Delete Me Ltd", "Cancelled"} {
		if !strings.Contains(board, want) {
			t.Errorf("the dashboard does not show %q:\n%s", want, board)
		}
	}
	shoot(t, ctx, "08-dashboard")

	// Sign out: the session ends, at the portal and the provider.
	must(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#signout")))
	waitText(t, ctx, "main", "You are signed out")
	shoot(t, ctx, "09-signed-out")
	must(t, ctx, "come back", chromedp.Navigate(w.base+"/customers"), chromedp.WaitVisible(chromedp.CSS("#password")))
}
