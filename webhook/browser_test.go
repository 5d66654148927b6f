package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestBrowserConfirms opens the link from the real email in headless
// Chromium, reads the page, clicks Confirm and finds the onboarding ACTIVE
// with its cloud. A scanner's HEAD and GET of the same link, and the
// browser opening it, leave it unconfirmed.
func TestBrowserConfirms(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	o := e.launch(t, "browser", time.Hour)

	expect(t, e.get(t, http.MethodHead, o.link), http.StatusOK)
	expect(t, e.get(t, http.MethodGet, o.link), http.StatusOK, pageConfirm)

	ctx := testenv.Browser(t, 90*time.Second)

	resp, err := chromedp.RunResponse(ctx, chromedp.Navigate(o.link))
	if err != nil {
		t.Fatalf("open the link from the email: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("opening the link: status %d, want 200", resp.Status)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.ID("confirm"))); err != nil {
		t.Fatalf("the page shows no Confirm button: %v", err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	page := testenv.Text(t, ctx, "main")
	for _, want := range []string{"Confirm that you want to work with", e.partnerName, o.name, "cloud-browser"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page does not show %q:\n%s", want, page)
		}
	}
	if !strings.Contains(title, testBrand) {
		t.Errorf("title %q does not name the brand %q", title, testBrand)
	}
	// The browser has loaded the page (and run whatever it would run):
	// still nothing confirmed.
	time.Sleep(time.Second)
	e.awaiting(t, o)

	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("confirm")))
	if err != nil {
		t.Fatalf("click Confirm: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("the confirmation page: status %d, want 200", resp.Status)
	}
	done := testenv.Text(t, ctx, "main")
	for _, want := range []string{"Thank you, your confirmation is received", o.name, e.partnerName} {
		if !strings.Contains(done, want) {
			t.Errorf("the confirmation page does not show %q:\n%s", want, done)
		}
	}
	e.activeWithCloud(t, o, workflows.ViaLink)

	// Back to the link in the browser: it says the work is done.
	if err := chromedp.Do(ctx, chromedp.Navigate(o.link)); err != nil {
		t.Fatalf("open the link again: %v", err)
	}
	again := testenv.Text(t, ctx, "main")
	if !strings.Contains(again, "Already confirmed") {
		t.Errorf("the used link shows:\n%s", again)
	}
}
