package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// exported is an export answered: its rows by column name (CSV) or its
// events (JSON).
type exported struct {
	answer
	rows []map[string]string
}

// export gets an export and reads it as its Content-Type says.
func (w *world) export(path string, c creds) exported {
	w.t.Helper()
	a := w.send(w.request(http.MethodGet, path, c, nil))
	e := exported{answer: a}
	if a.status != http.StatusOK {
		return e
	}
	switch ct := a.header.Get("Content-Type"); ct {
	case "text/csv; charset=utf-8":
		recs, err := csv.NewReader(strings.NewReader(a.body)).ReadAll()
		if err != nil || len(recs) == 0 {
			w.t.Fatalf("%s: not CSV with a header (%v):\n%s", path, err, a.body)
		}
		for _, r := range recs[1:] {
			m := map[string]string{}
			for i, col := range recs[0] {
				m[col] = r[i]
			}
			e.rows = append(e.rows, m)
		}
	case "application/json":
		var evs []map[string]any
		a.decode(w.t, &evs)
		for _, ev := range evs {
			m := map[string]string{}
			for k, v := range ev {
				if s, ok := v.(string); ok {
					m[k] = s
				}
			}
			e.rows = append(e.rows, m)
		}
	default:
		w.t.Fatalf("%s: Content-Type %q", path, ct)
	}
	return e
}

// count is how many rows have the column's value.
func (e exported) count(col, v string) int {
	n := 0
	for _, r := range e.rows {
		if r[col] == v {
			n++
		}
	}
	return n
}

// TestAuditExportAPI: the API exports the caller's partner's log, whole
// or one customer's, as a download; from, to and actor narrow it; CSV
// cells a spreadsheet would run are defused; another partner's customer
// is 404 and nothing of another partner's is ever in the file; every bad
// query is a JSON error with nothing of a file sent.
func TestAuditExportAPI(t *testing.T) {
	w := newWorld(t, nil)
	owner := w.signIn("owner@acme.example").creds()
	viewer := w.signIn("viewer@acme.example").creds()
	globex := w.signIn("owner@globex.example").creds()
	mine, theirs := w.launch(w.acme, "Export Co"), w.launch(w.globex, "Their Co")
	testenv.SeedAudit(t, w.st, w.acme, "alice@acme.example", mine.ID, "=HYPERLINK(\"http://evil.example\")", "2020-01-10T10:00:00Z", "2020-03-10T10:00:00Z")
	testenv.SeedAudit(t, w.st, w.acme, "bob@acme.example", "", "+SUM(A1)", "2020-02-10T10:00:00Z")
	testenv.SeedAudit(t, w.st, w.globex, "eve@globex.example", theirs.ID, "globex secret", "2020-02-11T10:00:00Z")

	all := w.export("/api/v1/audit", viewer)
	expect(t, all.answer, http.StatusOK)
	if cd := all.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=audit-"+w.acme+"-") || !strings.HasSuffix(cd, ".csv") {
		t.Errorf("Content-Disposition = %q", cd)
	}
	for _, r := range all.rows {
		if r["partner_id"] != w.acme {
			t.Errorf("another partner's event in acme's export: %v", r)
		}
	}
	if strings.Contains(all.body, "globex") || strings.Contains(all.body, theirs.ID) {
		t.Errorf("globex's events leak into acme's export:\n%s", all.body)
	}
	if all.count("action", "add customer") != 1 || all.count("actor", "alice@acme.example") != 2 || all.count("actor", "bob@acme.example") != 1 {
		t.Errorf("the export is not the whole of acme's log:\n%s", all.body)
	}
	if all.count("detail", `'=HYPERLINK("http://evil.example")`) != 2 || all.count("detail", "'+SUM(A1)") != 1 {
		t.Errorf("formulas are not defused:\n%s", all.body)
	}

	// Filters narrow the rows; JSON has the same events.
	for _, tc := range []struct {
		query string
		want  int
	}{
		{"from=2020-01-01&to=2020-12-31", 3},
		{"from=2020-02-01&to=2020-12-31", 2},
		{"from=2020-01-01&to=2020-02-10", 2},           // a date as the end takes in that whole day
		{"from=2020-01-01&to=2020-02-10T10:00:00Z", 1}, // a time is exact: [from, to)
		{"from=2020-01-01&to=2020-12-31&actor=alice%40acme.example", 2},
		{"actor=bob%40acme.example&format=json", 1},
		{"actor=nobody", 0},
	} {
		e := w.export("/api/v1/audit?"+tc.query, owner)
		expect(t, e.answer, http.StatusOK)
		if len(e.rows) != tc.want {
			t.Errorf("%s: %d events, want %d:\n%s", tc.query, len(e.rows), tc.want, e.body)
		}
	}
	j := w.export("/api/v1/audit?format=json&from=2020-01-01&to=2020-12-31", owner)
	if ct, cd := j.header.Get("Content-Type"), j.header.Get("Content-Disposition"); ct != "application/json" || !strings.HasSuffix(cd, ".json") {
		t.Errorf("a JSON export: Content-Type %q, Content-Disposition %q", ct, cd)
	}
	if len(j.rows) != 3 || j.rows[0]["at"] != "2020-03-10T10:00:00Z" || j.rows[0]["detail"] != `=HYPERLINK("http://evil.example")` {
		t.Errorf("JSON is newest first and as recorded (only CSV defuses formulas): %v", j.rows)
	}

	// One customer's log, by either id; with an API key too. (Each export
	// of it is recorded on the customer, and is in the next one.)
	var key newAPIKeyJSON
	w.send(w.request(http.MethodPost, "/api/v1/api-keys", owner, map[string]any{"name": "exporter", "role": "viewer"})).decode(t, &key)
	for i, c := range []struct {
		path string
		as   creds
	}{
		{"/api/v1/customers/" + mine.ID + "/audit", owner},
		{"/api/v1/customers/" + url.PathEscape(mine.OnboardingID) + "/audit", owner},
		{"/api/v1/customers/" + mine.ID + "/audit?format=json", creds{key: key.Secret}},
	} {
		e := w.export(c.path, c.as)
		expect(t, e.answer, http.StatusOK)
		if e.count("subaccount_id", mine.ID) != len(e.rows) || e.count("action", "add customer") != 1 || e.count("actor", "alice@acme.example") != 2 ||
			e.count("action", "export audit log") != i || !strings.HasPrefix(e.header.Get("Content-Disposition"), "attachment; filename=audit-"+w.acme+"-") {
			t.Errorf("%s: %v %q", c.path, e.rows, e.header.Get("Content-Disposition"))
		}
	}

	// Attacks: another partner's customer is not found, by either id, as an
	// unknown one; globex's export holds nothing of acme's.
	for _, path := range []string{
		"/api/v1/customers/" + theirs.ID + "/audit",
		"/api/v1/customers/" + url.PathEscape(theirs.OnboardingID) + "/audit?format=json",
		"/api/v1/customers/" + unknownID + "/audit",
	} {
		a := w.send(w.request(http.MethodGet, path, owner, nil))
		expect(t, a, http.StatusNotFound, `"error":"not_found"`)
		noFile(t, path, a)
	}
	for _, path := range []string{"/api/v1/audit?partner=" + w.globex, "/api/v1/audit?partner=nobody", "/api/v1/customers/" + mine.ID + "/audit?partner=" + w.globex} {
		a := w.send(w.request(http.MethodGet, path, owner, nil))
		expect(t, a, http.StatusNotFound, `"error":"not_found"`)
		noFile(t, path, a)
	}
	if own := w.export("/api/v1/audit?partner="+w.acme+"&actor=bob%40acme.example", owner); len(own.rows) != 1 {
		t.Errorf("naming its own partner: %v", own.rows)
	}
	g := w.export("/api/v1/audit", globex)
	if strings.Contains(g.body, w.acme) || strings.Contains(g.body, mine.ID) || g.count("actor", "eve@globex.example") != 1 {
		t.Errorf("globex's export:\n%s", g.body)
	}

	// Bad queries: a JSON error naming the field, nothing of a file.
	for _, tc := range []struct{ query, field string }{
		{"format=xml", "format"},
		{"format=tsv", "format"},
		{"from=yesterday", "from"},
		{"to=2026-13-01", "to"},
		{"from=2026-02-01&to=2026-01-31", "to"},
		{"from=2026-02-01T10:00:00Z&to=2026-02-01T10:00:00Z", "to"},
	} {
		for _, path := range []string{"/api/v1/audit?" + tc.query, "/api/v1/customers/" + mine.ID + "/audit?" + tc.query} {
			a := w.send(w.request(http.MethodGet, path, owner, nil))
			expect(t, a, http.StatusUnprocessableEntity, `"error":"invalid"`, `"`+tc.field+`":`)
			noFile(t, path, a)
		}
	}
	a := w.send(w.request(http.MethodGet, "/api/v1/audit", creds{}, nil))
	expect(t, a, http.StatusUnauthorized, `"error":"signed_out"`)
	noFile(t, "no credentials", a)

	// Every export is in the log: who, what and how it ended.
	after := w.export("/api/v1/audit?actor=viewer%40acme.example", owner)
	if after.count("action", "export audit log") != 1 || after.count("detail", fmt.Sprintf("csv: %d events", len(all.rows))) != 1 {
		t.Errorf("the viewer's export is not recorded: %v", after.rows)
	}
}

// noFile checks that a refused export sent nothing of a file.
func noFile(t *testing.T, what string, a answer) {
	t.Helper()
	if a.header.Get("Content-Disposition") != "" || a.header.Get("Content-Type") != "application/json" {
		t.Errorf("%s: a refusal looks like a file: %v", what, a.header)
	}
}

// TestAuditPage: signed-in staff of every role find the Audit log in the
// navigation, fill its GET form and download their partner's log; a bad
// date shows the form again with the reason beside the field and no file;
// the customer page links to the customer's own log, which another
// partner's staff cannot download.
func TestAuditPage(t *testing.T) {
	w := newWorld(t, nil)
	viewer := w.signIn("viewer@acme.example")
	sa := w.launch(w.acme, "Audit Page Co")
	testenv.SeedAudit(t, w.st, w.acme, "=cmd|' /C calc'!A0", sa.ID, "", "2020-05-01T00:00:00Z")

	list := viewer.get("/customers")
	expect(t, list, http.StatusOK, `<a href="/audit" >Audit log</a>`)
	form := viewer.get("/audit")
	expect(t, form, http.StatusOK, `<a href="/audit" class="on">Audit log</a>`, `<form method="get" action="/audit/export"`,
		`name="from"`, `name="to"`, `name="actor"`, `<option value="csv" selected>`, `<option value="json" >`, `id="download"`)
	if strings.Contains(form.body, "style=") || strings.Contains(form.body, "<script>") {
		t.Errorf("the page has inline styles or scripts, which the CSP refuses")
	}
	// A bookmarked query fills the form.
	expect(t, viewer.get("/audit?from=2020-01-01&actor=x%40acme.example&format=json"), http.StatusOK,
		`value="2020-01-01"`, `value="x@acme.example"`, `<option value="json" selected>`)

	d := viewer.get("/audit/export?from=2020-01-01&to=2020-12-31&actor=&format=csv")
	expect(t, d, http.StatusOK, `'=cmd|' /C calc'!A0`)
	if cd := d.header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment; filename=audit-"+w.acme) || d.header.Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("the download: %v", d.header)
	}
	if n := strings.Count(d.body, "\n"); n != 2 {
		t.Errorf("the download has %d lines, want the header and one event:\n%s", n, d.body)
	}

	bad := viewer.get("/audit/export?from=last+week&to=2020-12-31&format=csv")
	expect(t, bad, http.StatusUnprocessableEntity, `id="from-error"`, "is not a date", `value="last week"`, `value="2020-12-31"`)
	if bad.header.Get("Content-Disposition") != "" || !strings.HasPrefix(bad.header.Get("Content-Type"), "text/html") {
		t.Errorf("a refused download sent a file: %v", bad.header)
	}
	expect(t, viewer.get("/audit/export?from=2020-02-01&to=2020-01-01"), http.StatusUnprocessableEntity, `id="to-error"`)
	expect(t, viewer.get("/audit/export?format=pdf"), http.StatusUnprocessableEntity, `id="format-error"`)

	// The customer page's link, and its download.
	page := viewer.get("/customers/" + sa.ID)
	expect(t, page, http.StatusOK, `href="/customers/`+sa.ID+`/audit"`)
	one := viewer.get("/customers/" + sa.ID + "/audit")
	expect(t, one, http.StatusOK, "add customer", `'=cmd`)
	if !strings.Contains(one.header.Get("Content-Disposition"), sa.ID) {
		t.Errorf("the customer's download: %v", one.header)
	}
	globex := w.signIn("owner@globex.example")
	other := globex.get("/customers/" + sa.ID + "/audit")
	expect(t, other, http.StatusNotFound)
	if other.header.Get("Content-Disposition") != "" || strings.Contains(other.body, "add customer") {
		t.Errorf("another partner's staff downloaded acme's customer: %v\n%s", other.header, other.body)
	}
	// (globex's own refused attempt is in globex's log, naming the id it tried.)
	if g := globex.get("/audit/export"); strings.Contains(g.body, w.acme) || strings.Contains(g.body, "add customer") {
		t.Errorf("globex's download holds acme's events:\n%s", g.body)
	}

	// Signed out, the download goes to sign-in first; a partner without
	// partner status gets nothing.
	resp := w.send(w.request(http.MethodGet, "/audit/export?format=json", creds{}, nil))
	if resp.status != http.StatusSeeOther || !strings.Contains(resp.header.Get("Location"), "/login?return=%2Faudit%2Fexport") {
		t.Errorf("signed out: %d %v", resp.status, resp.header)
	}
	dormant := w.signIn("nostatus@dormant.example")
	expect(t, dormant.get("/audit/export"), http.StatusForbidden)
}

// TestAuditExportStreams: an export through the real portal handler
// streams — the client holds the first rows while the portal is still
// reading the store, batch after batch — and holds no transaction between
// batches: with the table locked by another session after the first bytes
// arrived, the portal's next batch waits on the lock, and once it is
// released the export goes on to the end, every row once.
func TestAuditExportStreams(t *testing.T) {
	w := newWorld(t, nil)
	owner := w.signIn("owner@acme.example").creds()
	// About 40 MB of CSV: more than the sockets between the portal and the
	// client buffer, so the portal cannot have read it all by the time the
	// client has its first line and stops reading.
	const n = 100_000
	if err := stack.SeedAudit(t.Context(), w.st.DB(), w.acme, "seed@acme.example", n, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), 300); err != nil {
		t.Fatal(err)
	}
	req := w.request(http.MethodGet, "/api/v1/audit?actor=seed%40acme.example", owner, nil)
	resp, err := w.direct.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	header, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(header, "id,at,partner_id") {
		t.Fatalf("first line %q: %v", header, err)
	}

	// The first bytes are here: lock the table. The portal holds no
	// statement or transaction open on it while it writes a batch (if it
	// did, the lock would wait and time out); its next batch waits on the
	// lock.
	ctx := context.Background()
	tx, err := w.st.DB().BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() //nolint:errcheck
	if _, err := tx.Exec(`SET LOCAL lock_timeout = '10s'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`LOCK TABLE audit_events IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatalf("the portal holds the table between batches: %v", err)
	}
	rest := make(chan struct {
		lines int
		err   error
	}, 1)
	go func() {
		lines := 0
		r := csv.NewReader(br)
		var err error
		for {
			if _, err = r.Read(); err != nil {
				break
			}
			lines++
		}
		if err == io.EOF {
			err = nil
		}
		rest <- struct {
			lines int
			err   error
		}{lines, err}
	}()
	testenv.Eventually(t, 20*time.Second, "the portal's next batch to wait on the lock", func() bool {
		var waiting int
		err := w.st.DB().Get(&waiting, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
			AND wait_event_type = 'Lock' AND query LIKE 'SELECT a.id, a.at%FROM audit_events a%'`)
		return err == nil && waiting == 1
	})
	select {
	case r := <-rest:
		t.Fatalf("the export ended while the table was locked: %d rows, %v", r.lines, r.err)
	default:
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-rest
	if r.err != nil || r.lines != n {
		t.Fatalf("after the lock: %d rows (%v), want all %d", r.lines, r.err, n)
	}
}
