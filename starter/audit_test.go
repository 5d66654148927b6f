package main

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// csvRows reads an export's CSV: its rows by column name, after the header.
func csvRows(t *testing.T, out string) []map[string]string {
	t.Helper()
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) == 0 || recs[0][0] != "id" {
		t.Fatalf("not an export's CSV (%v):\n%s", err, out)
	}
	var rows []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, col := range recs[0] {
			m[col] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// TestAuditExport: `starter audit export` streams a partner's, a
// customer's or every partner's log to stdout or to a file; --partner
// holds nothing of another partner's, and another partner's customer under
// it is not found; from, to and actor narrow it; formulas are defused;
// every bad query is one line on stderr, nothing on stdout and no file.
func TestAuditExport(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	p1, p2 := s.partner(), s.partner()
	mine, theirs := s.add(p1, "Audit Co"), s.add(p2, "Their Audit Co")
	sa1, sa2 := s.waitStage(mine, workflows.StageAwaiting).SubaccountID, s.waitStage(theirs, workflows.StageAwaiting).SubaccountID
	testenv.SeedAudit(t, s.store, p1, "alice@p1.example", sa1, "=1+2", "2020-01-10T10:00:00Z", "2020-03-10T10:00:00Z")
	testenv.SeedAudit(t, s.store, p1, "@bob", "", "fine", "2020-02-10T10:00:00Z")
	testenv.SeedAudit(t, s.store, p2, "eve@p2.example", sa2, "p2 secret", "2020-02-11T10:00:00Z")

	rows := csvRows(t, s.run("audit", "export", "--partner", p1).ok(t).stdout)
	actions := map[string]int{}
	for _, r := range rows {
		if r["partner_id"] != p1 {
			t.Errorf("--partner %s exports %v", p1, r)
		}
		actions[r["action"]+" by "+r["actor_kind"]+" "+strings.TrimPrefix(r["actor"], "'")]++
	}
	if actions["add customer by operator "+(&env{getenv: testenv.Getenv(s.vars)}).operator().ID] != 1 || actions["edit by user alice@p1.example"] != 2 {
		t.Errorf("the partner's export: %v", actions)
	}
	bob := csvRows(t, s.run("audit", "export", "--partner", p1, "--actor", "@bob").ok(t).stdout)
	if len(bob) != 1 || bob[0]["actor"] != "'@bob" {
		t.Errorf("an actor a spreadsheet would run, filtered by its id and defused: %v", bob)
	}
	for _, r := range rows {
		if r["actor"] == "alice@p1.example" && r["detail"] != "'=1+2" {
			t.Errorf("a formula is not defused: %q", r["detail"])
		}
	}

	// Filters narrow it; one customer's by either id; JSON.
	for _, tc := range []struct {
		args []string
		want int
	}{
		{[]string{"--from", "2020-01-01", "--to", "2020-12-31"}, 3},
		{[]string{"--from", "2020-02-01", "--to", "2020-02-10"}, 1},
		{[]string{"--from", "2020-01-01", "--to", "2020-02-10T10:00:00Z"}, 1},
		{[]string{"--actor", "alice@p1.example"}, 2},
		{[]string{"--customer", sa1, "--from", "2020-01-01", "--to", "2020-12-31"}, 2},
		{[]string{"--customer", mine, "--actor", "alice@p1.example"}, 2},
	} {
		got := csvRows(t, s.run(append([]string{"audit", "export", "--partner", p1}, tc.args...)...).ok(t).stdout)
		if len(got) != tc.want {
			t.Errorf("%v: %d events, want %d: %v", tc.args, len(got), tc.want, got)
		}
	}
	var evs []map[string]any
	s.run("audit", "export", "--customer", mine, "--json").ok(t).decode(t, &evs)
	if len(evs) < 3 || evs[len(evs)-1]["detail"] != "=1+2" || evs[0]["subaccount_id"] != sa1 {
		t.Errorf("the customer's JSON, oldest last, as recorded: %v", evs)
	}
	var both []map[string]any
	s.run("audit", "export", "--format", "json", "--from", "2020-01-01", "--to", "2020-12-31").ok(t).decode(t, &both)
	if len(both) != 4 {
		t.Errorf("every partner's events of 2020: %v", both)
	}

	// Scope: under --partner, another partner's customer is not found.
	s.run("audit", "export", "--partner", p1, "--customer", sa2).fails(t, exitRefused, "no customer")
	s.run("audit", "export", "--partner", p1, "--customer", theirs).fails(t, exitRefused, "no customer")
	s.run("audit", "export", "--partner", "nobody-"+p1).fails(t, exitRefused, "is not registered")

	// To a file: whole, or not at all.
	dir := t.TempDir()
	file := filepath.Join(dir, "p1.csv")
	out := s.run("audit", "export", "--partner", p1, "--actor", "alice@p1.example", "--output", file).ok(t).stdout
	if out != "Exported 2 audit events as csv to "+file+".\n" {
		t.Errorf("stdout = %q", out)
	}
	body, err := os.ReadFile(file)
	if err != nil || len(csvRows(t, string(body))) != 2 {
		t.Fatalf("the file: %v\n%s", err, body)
	}
	var sum exportedJSON
	s.run("audit", "export", "--partner", p1, "--json", "--output", filepath.Join(dir, "p1.json")).ok(t).decode(t, &sum)
	if sum.Format != "json" || sum.Events < 4 {
		t.Errorf("the JSON summary: %+v", sum)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "p1.json")); err != nil || !json.Valid(b) {
		t.Errorf("the JSON file: %v", err)
	}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--from", "yesterday"}, []string{"--from:", `"yesterday" is not a date`}},
		{[]string{"--to", "2026-13-01"}, []string{"--to:"}},
		{[]string{"--from", "2026-02-01", "--to", "2026-01-31"}, []string{"--to:", "not after its start"}},
		{[]string{"--format", "xml"}, []string{"--format:", "want csv or json"}},
		{[]string{"--partner", "Bad Id"}, []string{"partner:", "not a partner id"}},
		{[]string{"--partner", p1, "--customer", sa2}, []string{"no customer"}},
	} {
		bad := filepath.Join(dir, "bad.csv")
		s.run(append(append([]string{"audit", "export"}, tc.args...), "--output", bad)...).fails(t, exitRefused, tc.want...)
		if entries, _ := os.ReadDir(dir); len(entries) != 2 {
			t.Errorf("%v left files behind: %v", tc.args, entries)
		}
	}
	s.run("audit", "export", "--output", filepath.Join(dir, "no", "such", "dir.csv")).fails(t, exitRefused, "--output")
}
