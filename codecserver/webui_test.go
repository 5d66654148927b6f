package main

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestWebUIShowsPayloadsOnlyToSignedInOperators reads a history in the
// Temporal Web UI that `make up` starts, wired to the codec server `make up`
// starts, as an operator would in a browser: before signing in to the codec
// server the UI shows ciphertext and the codec's hint, never the customer's
// email; after signing in with the operators' token it shows the input
// decoded. The history itself, read without the keys, holds only
// ciphertext.
func TestWebUIShowsPayloadsOnlyToSignedInOperators(t *testing.T) {
	testenv.RequireStack(t)
	sfx := testenv.Suffix()
	email := "webui-" + sfx + "@customer.example"
	// A workflow nobody runs: its history is its start, with the input.
	c := testenv.Client(t)
	run, err := c.ExecuteWorkflow(t.Context(),
		client.StartWorkflowOptions{ID: "codec-webui/" + sfx, TaskQueue: "codec-webui-" + sfx},
		workflows.WorkflowName, workflows.Input{PartnerID: "p-" + sfx, CustomerName: "Webui Co " + sfx, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.TerminateWorkflow(context.Background(), run.GetID(), run.GetRunID(), "test over")
	})

	raw := testenv.ClientWith(t, converter.GetDefaultDataConverter())
	it := raw.GetWorkflowHistory(t.Context(), run.GetID(), run.GetRunID(), false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(e.String(), email) || strings.Contains(e.String(), "Webui Co") {
			t.Fatalf("the history holds the customer's data in the clear: %v", e)
		}
	}

	ctx := testenv.Browser(t, 2*time.Minute)
	history := testenv.WebUIURL() + "/namespaces/default/workflows/" + url.PathEscape(run.GetID()) + "/" + run.GetRunID() + "/history"
	step(t, ctx, "open the history", chromedp.Navigate(history))
	// The undecoded input (its metadata names the key, "dev-1" in base64)
	// and the codec's hint, once the UI's call to the codec was refused.
	page := waitBody(t, ctx, "the input undecoded and the hint to sign in", func(body string) bool {
		return strings.Contains(body, "ZGV2LTE=") && strings.Contains(body, "sign in to the codec server")
	})
	if strings.Contains(page, email) {
		t.Fatal("the Web UI shows the customer's email to someone not signed in to the codec server")
	}
	testenv.Screenshot(t, ctx, "webui-encrypted")

	// A wrong token is refused and changes nothing.
	step(t, ctx, "sign in with a wrong token", chromedp.Navigate(testenv.CodecURL()+"/"),
		chromedp.SendKeys(chromedp.CSS("#token"), "not-the-token-0123456789"), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("[role=alert]")))
	step(t, ctx, "sign in", chromedp.SendKeys(chromedp.CSS("#token"), devToken), chromedp.Submit(chromedp.CSS("#token")),
		chromedp.WaitVisible(chromedp.CSS("form[action='/logout']")))
	step(t, ctx, "open the history again", chromedp.Navigate(history))
	waitBody(t, ctx, "the decoded input", func(body string) bool { return strings.Contains(body, email) })
	testenv.Screenshot(t, ctx, "webui-decoded")

	// Signed out, the UI is back to ciphertext.
	step(t, ctx, "sign out", chromedp.Navigate(testenv.CodecURL()+"/"), chromedp.Submit(chromedp.CSS("form[action='/logout'] button")),
		chromedp.WaitVisible(chromedp.CSS("#token")))
	step(t, ctx, "open the history signed out", chromedp.Navigate(history))
	page = waitBody(t, ctx, "the history with its input", func(body string) bool { return strings.Contains(body, "ZGV2LTE=") })
	if strings.Contains(page, email) {
		t.Fatal("the Web UI still shows the customer's email after signing out")
	}
}

func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitBody polls the page's text until ok holds, and returns it.
func waitBody(t *testing.T, ctx context.Context, what string, ok func(string) bool) string {
	t.Helper()
	var body string
	testenv.Eventually(t, 30*time.Second, what, func() bool {
		body, _ = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		return ok(body)
	})
	return body
}
