package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// console is what the tab wrote to its console since the last reset:
// calls of the console API, exceptions nothing caught, and entries of the
// browser's log — where a Content-Security-Policy violation shows.
type console struct {
	mu   sync.Mutex
	msgs []string
}

// listenConsole starts recording the tab's console.
func listenConsole(t *testing.T, ctx context.Context) *console {
	t.Helper()
	c := &console{}
	// The log domain is where the browser reports violations and failed loads.
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Listen(ctx, func(ev any) {
		var m string
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			var args []string
			for _, a := range e.Args {
				if a.Value != nil {
					args = append(args, string(a.Value))
				} else {
					args = append(args, a.Description)
				}
			}
			m = "console." + string(e.Type) + ": " + strings.Join(args, " ")
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			m = "exception: " + d.Text
			if d.Exception != nil {
				m += " " + d.Exception.Description
			}
			m += fmt.Sprintf(" at %s:%d", d.URL, d.LineNumber)
		case *log.EventEntryAdded:
			m = fmt.Sprintf("log %s (%s): %s %s", e.Entry.Level, e.Entry.Source, e.Entry.Text, e.Entry.URL)
		default:
			return
		}
		c.mu.Lock()
		c.msgs = append(c.msgs, m)
		c.mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// take returns what was written since the last take.
func (c *console) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.msgs
	c.msgs = nil
	return out
}

// viewport is a screen the pages are looked at on.
type viewport struct {
	name          string
	width, height int64
	phone         bool
}

var viewports = []viewport{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}}

func (v viewport) emulate() chromedp.Action[chromedp.Void] {
	if v.phone {
		return chromedp.EmulateViewport(v.width, v.height, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait)
	}
	return chromedp.EmulateViewport(v.width, v.height)
}

// shownPage is one page of the portal in one of its states, and how the
// browser gets there.
type shownPage struct {
	name   string
	open   []chromedp.Action[chromedp.Void]
	status int // a problem page's status, which the browser logs as a failed load of the page itself
}

// codes are what a page must never show a partner: statuses, stages,
// outcomes and reasons as the machines have them.
var codes = slices.Concat(domain.Statuses, domain.Reasons, []string{domain.StageCreating, domain.StageSending, domain.StageAwaiting,
	domain.StageActivating, domain.StageDeleting, domain.StageDone, domain.StageFailed, domain.OutcomeActive})

// pageProblems is what a page shows wrong, read in the page: anything
// wider than the screen (or a page that scrolls sideways), a table cell
// shown as a card's line whose value runs under its label, a machine's
// code in its text, a time not rewritten into the reader's time zone
// (or without its UTC time on hover), the partner not named in the
// header of a signed-in page.
const pageProblems = `(function (codes, partner) {
  var out = [], W = document.documentElement.clientWidth;
  var name = function (el) {
    return el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "");
  };
  if (document.scrollingElement.scrollWidth > window.innerWidth) {
    out.push("the page scrolls sideways: " + document.scrollingElement.scrollWidth + "px wide in " + window.innerWidth + "px");
  }
  document.querySelectorAll("body *").forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || el.closest(".sr-only")) { return; }
    if (r.left < -1 || r.right > W + 1) {
      out.push(name(el) + " spans " + Math.round(r.left) + "-" + Math.round(r.right) + "px of " + W + "px: " + (el.textContent || "").trim().slice(0, 50));
    }
  });
  // A table's row as a card (a phone): each value beside its label, none under it.
  document.querySelectorAll("td[data-label]").forEach(function (td) {
    var cs = getComputedStyle(td);
    if (cs.display !== "grid") { return; }
    var from = td.getBoundingClientRect().left + parseFloat(cs.gridTemplateColumns) + parseFloat(cs.columnGap) - 1;
    td.childNodes.forEach(function (n) {
      var range = document.createRange();
      range.selectNodeContents(n);
      Array.from(range.getClientRects()).forEach(function (r) {
        if (r.width > 0 && r.left < from) { out.push("in " + td.dataset.label + ", " + (n.textContent || "").trim().slice(0, 40) + " stands under the label"); }
      });
    });
  });
  var text = document.body.textContent;
  codes.forEach(function (c) {
    if (new RegExp("\\b" + c + "\\b").test(text)) { out.push("the page shows the code " + c); }
  });
  document.querySelectorAll("time").forEach(function (el) {
    if (!/ UTC$/.test(el.title) || el.textContent === el.title || / UTC$/.test(el.textContent) || isNaN(Date.parse(el.getAttribute("datetime")))) {
      out.push("a time is not in the reader's zone with its UTC on hover: " + el.outerHTML);
    }
  });
  if (document.getElementById("signout")) {
    var p = document.getElementById("partner");
    if (!p || p.textContent !== partner) { out.push("the header does not name the partner " + JSON.stringify(partner) + ": " + (p ? p.textContent : "none")); }
  }
  return out.slice(0, 12);
})`

// staffProblems checks the staff table's layout: each row has a cell per
// header, each header's column holds its cells' controls — the role under
// Role, the checkbox under Personal data, the buttons under the last — and
// a row's controls stand on one line.
const staffProblems = `(function () {
  var out = [], t = document.getElementById("staff");
  if (!t) { return ["no staff table"]; }
  var heads = Array.from(t.tHead.rows[0].cells);
  var want = {1: "select[name=role]", 2: "input[type=checkbox][name=personal_data]", 4: "button"};
  Array.from(t.tBodies[0].rows).forEach(function (tr, i) {
    if (tr.cells.length !== heads.length) { out.push("row " + i + " has " + tr.cells.length + " cells under " + heads.length + " headers"); }
    var top = null;
    Array.from(tr.cells).forEach(function (td, j) {
      var h = heads[j] && heads[j].getBoundingClientRect();
      if (!h) { return; }
      if (want[j] && !td.querySelector(want[j])) { out.push("row " + i + ": no " + want[j] + " under " + heads[j].textContent); }
      td.querySelectorAll("select, input:not([type=hidden]), button").forEach(function (el) {
        var r = el.getBoundingClientRect();
        if (r.left < h.left - 1 || r.right > h.right + 1) {
          out.push("row " + i + ": " + el.outerHTML.slice(0, 60) + " at " + Math.round(r.left) + "-" + Math.round(r.right) + "px is not under " + heads[j].textContent + " (" + Math.round(h.left) + "-" + Math.round(h.right) + "px)");
        }
        var mid = r.top + r.height / 2;
        if (top === null) { top = mid; } else if (Math.abs(mid - top) > r.height / 2) { out.push("row " + i + ": its controls are not on one line"); }
      });
    });
  });
  return out;
})()`

// TestBrowserEveryPage looks at every page of the portal — dashboard, add
// customer (and its errors), the customer's page awaiting confirmation,
// with its link, active (and a form's error), suspended, cancelled and
// declined, the delete step, staff, API keys (and a new key), a problem
// page, signed out — on a desktop's screen and a phone's. Each obeys its
// own Content-Security-Policy and writes nothing to the console (no
// violation, error, warning or exception); nothing is wider than the
// screen; the staff table's controls stand in their columns; partners read
// words, times in their own time zone and their partner's name. A
// screenshot of each is kept in the test's artifact directory (go test
// -artifacts) for people to look at.
func TestBrowserEveryPage(t *testing.T) {
	w := newWorld(t, map[string]string{"RESEND_MIN_INTERVAL": "1h"})
	ctx0 := context.Background()
	op := w.drv.Operator
	waiting := w.launch(w.acme, "Großartige Industrievertriebsgesellschaft mbH & Co. KG, Niederlassung Süd-West")
	active, suspended, cancelled, declined := w.launch(w.acme, "Active Ltd"), w.launch(w.acme, "Suspended Ltd"), w.launch(w.acme, "Cancelled Ltd"), w.launch(w.acme, "Declined Ltd")
	for _, sa := range []string{active.ID, suspended.ID} {
		w.confirm(sa)
	}
	if _, err := w.drv.Lifecycle.AddCloud(ctx0, op, active.ID, "a-second-cloud-with-a-rather-long-name", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.drv.Lifecycle.Suspend(ctx0, op, suspended.ID, "Unpaid invoices since March", 720*time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.drv.Onboarding.Cancel(ctx0, op, cancelled.ID, ""); err != nil {
		t.Fatal(err)
	}
	if code := w.drv.Decline(testenv.LinkIn(t, testenv.WaitMail(t, declined.Email, 1, 30*time.Second)[0])); code != http.StatusOK {
		t.Fatalf("decline: %d", code)
	}
	if _, err := w.drv.Access.AddStaff(ctx0, op, w.acme, "a.rather.long.address.for.the.layout@subsidiary.acme.example", domain.StaffEditor, false); err != nil {
		t.Fatal(err)
	}
	w.key(w.acme, domain.StaffViewer)
	for _, sa := range []string{cancelled.ID, declined.ID} {
		testenv.Eventually(t, 30*time.Second, "the customer deleted", func() bool {
			got, err := w.st.Subaccount(ctx0, "", sa)
			return err == nil && got.Status == domain.StatusInactive
		})
	}

	ctx := testenv.Browser(t, 8*time.Minute)
	// Far from UTC, by a half hour: a time left in UTC shows.
	if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Kolkata"}); err != nil {
		t.Fatal(err)
	}
	signInBrowser(t, ctx, w, "/customers", "owner@acme.example")
	messages := listenConsole(t, ctx)
	dir := t.ArtifactDir()
	css := func(s string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(s)) }
	visit := func(path, sel string) []chromedp.Action[chromedp.Void] {
		return []chromedp.Action[chromedp.Void]{chromedp.Navigate(w.base + path), css(sel)}
	}
	pages := []shownPage{
		{name: "dashboard", open: visit("/customers", "#customers")},
		{name: "dashboard-no-match", open: visit("/customers?status=active&q=nothing-matches", "main .card")},
		{name: "new-customer", open: visit("/customers/new", "#add")},
		{name: "new-customer-errors", open: append(visit("/customers/new", "#add"), chromedp.SendKeys(chromedp.CSS("#cloud"), "Not A Cloud!"),
			chromedp.Click(chromedp.CSS("#add")), css("#error"))},
		{name: "customer-waiting", open: visit("/customers/"+waiting.ID, "#resend")},
		{name: "customer-link", open: append(visit("/customers/"+waiting.ID, "#show-link"), chromedp.Click(chromedp.CSS("#show-link")), css("#link"))},
		{name: "customer-active", open: visit("/customers/"+active.ID, "#clouds-section")},
		{name: "customer-active-error", open: append(visit("/customers/"+active.ID, "#cloud-name"), chromedp.SendKeys(chromedp.CSS("#cloud-name"), "Bad Cloud!"),
			chromedp.Click(chromedp.CSS("#create-cloud")), css("#cloud-error"))},
		{name: "customer-suspended", open: visit("/customers/"+suspended.ID, "#resume")},
		{name: "customer-cancelled", open: visit("/customers/"+cancelled.ID, "#audit")},
		{name: "customer-declined", open: visit("/customers/"+declined.ID, "#audit")},
		{name: "delete-step", open: visit("/customers/"+waiting.ID+"/delete", "#delete-confirm")},
		{name: "staff", open: visit("/staff", "#staff")},
		{name: "api-keys", open: visit("/api-keys", "#keys")},
		{name: "api-keys-new-key", open: append(visit("/api-keys", "#key-name"), chromedp.SendKeys(chromedp.CSS("#key-name"), "layout check"),
			chromedp.Click(chromedp.CSS("#create-key")), css("#new-key"))},
		{name: "audit", open: visit("/audit", "#download")},
		{name: "audit-errors", open: visit("/audit/export?from=yesterday&format=csv", "#from-error"), status: http.StatusUnprocessableEntity},
		{name: "problem", open: visit("/customers/"+unknownID, "#problem"), status: http.StatusNotFound},
		{name: "signed-out", open: visit("/signed-out", "main .card")},
	}
	partner, _ := json.Marshal(`ACME <Integrators> & "Co"`)
	codesJSON, _ := json.Marshal(codes)
	for _, vp := range viewports {
		must(t, ctx, "look as a "+vp.name, vp.emulate())
		for _, pg := range pages {
			t.Run(vp.name+"/"+pg.name, func(t *testing.T) {
				messages.take()
				must(t, ctx, "open "+pg.name, pg.open...)
				// Let the page's script run; on the customer's page, poll once.
				wait := 300 * time.Millisecond
				if live, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector("[data-live]")`)); live && !vp.phone {
					wait = 2500 * time.Millisecond
				}
				time.Sleep(wait)
				at, _ := chromedp.Run(ctx, chromedp.Location())
				png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
				if err == nil {
					err = os.WriteFile(filepath.Join(dir, vp.name+"-"+pg.name+".png"), png, 0o644)
				}
				if err != nil {
					t.Errorf("screenshot: %v", err)
				}
				for _, m := range messages.take() {
					if pg.status != 0 && m == fmt.Sprintf("log error (network): Failed to load resource: the server responded with a status of %d (%s) %s", pg.status, http.StatusText(pg.status), at) {
						continue
					}
					t.Errorf("%s wrote to the console: %s", at, m)
				}
				problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](pageProblems+"("+string(codesJSON)+", "+string(partner)+")"))
				if err != nil {
					t.Fatal(err)
				}
				if pg.name == "staff" && !vp.phone {
					more, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](staffProblems))
					if err != nil {
						t.Fatal(err)
					}
					problems = append(problems, more...)
				}
				for _, p := range problems {
					t.Errorf("%s on a %s: %s", at, vp.name, p)
				}
				if t.Failed() {
					body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
					t.Logf("the page:\n%s", stack.Tail(body, 4000))
				}
			})
		}
	}
	t.Logf("screenshots in %s", dir)
}
