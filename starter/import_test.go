package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// importOutput is the --json output of an import.
type importOutput struct {
	Rows    []rowResult
	Summary importSummary
}

func writeFile(t *testing.T, content []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "customers.csv")
	if err := os.WriteFile(p, content, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImport imports a file with good rows and every kind of bad row, then
// the same file again, as after an interruption.
func TestImport(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()

	// One customer launched beforehand: the import finds it launched.
	pre := s.add(partner, "Good Three")

	var f bytes.Buffer
	f.WriteString("\uFEFFName,Email,Cloud,Contact,confirm_within\r\n") // row 1, as a spreadsheet saves it
	good := map[int]string{}
	addGood := func(name string) {
		good[strings.Count(f.String(), "\n")+1] = name
		fmt.Fprintf(&f, "%s,%s,main-cloud,Someone,\r\n", name, email("imp"))
	}
	addGood("Good One")     // row 2
	addGood("Good Two")     // row 3
	bad := map[int]string{} // row number → what the report says
	addBad := func(line, want string) {
		bad[strings.Count(f.String(), "\n")+1] = want
		f.WriteString(line + "\r\n")
	}
	addBad(",,,,", "name: missing")                                                            // row 4: empty fields
	addBad("No Email Inc,,main-cloud,,", "email: missing")                                     // row 5
	addBad("Bad Email Inc,not-an-email,main-cloud,,", "not a valid email address")             // row 6
	addBad("Worse Email Inc,a@b@c.example,main-cloud,,", "not a valid email address")          // row 7
	addBad(strings.Repeat("X", 10<<20)+","+email("big")+",main-cloud,,", "longer than 16 KiB") // row 8: a 10 MB field
	addBad("Soci\xe9t\xe9 Latin1,"+email("l1")+",main-cloud,,", "not valid UTF-8")             // row 9: Latin-1
	addBad("Broken \xff\xfe UTF8,"+email("u8")+",main-cloud,,", "not valid UTF-8")             // row 10
	addBad("=cmd()|' /C calc'!A0,"+email("inj")+",main-cloud,,", "run as a formula")           // row 11
	addBad("+SUM(1+1),"+email("inj")+",main-cloud,,", "run as a formula")                      // row 12
	addBad("-2+3,"+email("inj")+",main-cloud,,", "run as a formula")                           // row 13
	addBad("@SUM(A1),"+email("inj")+",main-cloud,,", "run as a formula")                       // row 14
	addBad("Good One,"+email("dup")+",main-cloud,,", "already in row 2")                       // row 15: duplicate
	addBad("GOOD  one,"+email("dup")+",main-cloud,,", "already in row 2")                      // row 16: same customer
	addBad("Short Row,"+email("s"), "has 2 fields, the header has 5")                          // row 17
	addBad("Bad Cloud,"+email("c")+",Main Cloud,,", "not a valid cloud name")                  // row 18
	addBad(`Bad "Quote,`+email("q")+",main-cloud,,", "not valid CSV")                          // row 19
	addBad("Bad Window,"+email("w")+",main-cloud,,forever", "confirm_within")                  // row 20
	f.WriteString("\r\n")                                                                      // row 21: blank, skipped
	addGood("Good Three")                                                                      // row 22: launched before
	addGood("Société Quatre")                                                                  // row 23
	fmt.Fprintf(&f, "Good Five,%s,main-cloud,,48h", email("imp"))                              // row 24, no final newline
	good[24] = "Good Five"
	path := writeFile(t, f.Bytes())

	r := s.run("import", "--json", "--partner", partner, "--file", path, "--concurrency", "3")
	r.fails(t, exitRefused, fmt.Sprintf("%d of %d rows failed", len(bad), len(bad)+len(good)), "fix them and run the same import again")
	var out importOutput
	r.decode(t, &out)
	want := importSummary{Rows: len(bad) + len(good), Launched: len(good) - 1, AlreadyLaunched: 1, Failed: len(bad)}
	if out.Summary != want {
		t.Errorf("summary = %+v, want %+v", out.Summary, want)
	}
	got := map[int]rowResult{}
	for _, row := range out.Rows {
		got[row.Row] = row
	}
	for n, wantErr := range bad {
		if row := got[n]; row.Result != rowFailed || !strings.Contains(row.Error, wantErr) {
			t.Errorf("row %d = %+v, want failed with %q", n, row, wantErr)
		}
	}
	for n, name := range good {
		row := got[n]
		wantResult := rowLaunched
		if name == "Good Three" {
			wantResult = rowAlreadyLaunched
		}

		if row.Result != wantResult || row.OnboardingID != workflows.WorkflowID(partner, name) {
			t.Errorf("row %d = %+v, want %s %s", n, row, wantResult, workflows.WorkflowID(partner, name))
		}
	}
	if got[8].Name != "" || len(r.stdout) > 64<<10 {
		t.Errorf("the 10 MB field made it into the report (%d bytes of output)", len(r.stdout))
	}
	if !regexp.MustCompile(`import: (\d+)/(\d+) rows done: ` + fmt.Sprint(len(good)-1) + ` launched, 1 already launched`).MatchString(r.stderr) {
		t.Errorf("no final progress line on stderr:\n%s", r.stderr)
	}

	// Every good row is onboarded; the bad ones created nothing.
	for _, name := range good {
		v := s.waitStage(workflows.WorkflowID(partner, name), workflows.StageAwaiting)
		if v.Customer != name {
			t.Errorf("onboarding of %q shows customer %q", name, v.Customer)
		}
	}
	if v := s.status(workflows.WorkflowID(partner, "Good Five")); v.Deadline == nil || v.StartedAt == nil || v.Deadline.Sub(*v.StartedAt).Hours() > 49 {
		t.Errorf("confirm_within 48h was not applied: %+v", v)
	}
	if n := len(s.subaccounts(partner)); n != len(good) {
		t.Errorf("%d subaccounts after import, want %d", n, len(good))
	}
	_ = pre

	// The same file again: nothing new is launched; the summary says so.
	r = s.run("import", "--partner", partner, "--file", path)
	r.fails(t, exitRefused, fmt.Sprintf("%d of %d rows failed", len(bad), len(bad)+len(good)))
	for _, w := range []string{
		fmt.Sprintf("row 2: already launched: %s", workflows.WorkflowID(partner, "Good One")),
		"row 8: failed: is longer than 16 KiB",
		"row 11: failed: name:",
		"row 15: failed: name: customer \"Good One\" is already in row 2",
		fmt.Sprintf("%d rows: 0 launched, %d already launched, %d failed", len(bad)+len(good), len(good), len(bad)),
	} {
		if !strings.Contains(r.stdout, w) {
			t.Errorf("re-run report does not contain %q:\n%s", w, r.stdout)
		}
	}
	if n := len(s.subaccounts(partner)); n != len(good) {
		t.Errorf("%d subaccounts after the re-run, want still %d", n, len(good))
	}
}

// TestImportClean: a file with only good rows exits 0, and a re-run
// reports every row as already launched, also while the first run's
// onboardings are still starting.
func TestImportClean(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	var f bytes.Buffer
	f.WriteString("cloud,email,name\n") // any column order
	const n = 12
	for i := range n {
		fmt.Fprintf(&f, "cloud-%02d,%s,Customer %02d\n", i, email("clean"), i)
	}
	path := writeFile(t, f.Bytes())

	var out importOutput
	s.run("import", "--json", "--partner", partner, "--file", path, "--concurrency", "4").ok(t).decode(t, &out)
	if out.Summary != (importSummary{Rows: n, Launched: n}) {
		t.Errorf("summary = %+v, want %d launched", out.Summary, n)
	}
	r := s.run("import", "--partner", partner, "--file", path).ok(t)
	if !strings.Contains(r.stdout, fmt.Sprintf("%d rows: 0 launched, %d already launched, 0 failed", n, n)) {
		t.Errorf("re-run report:\n%s", r.stdout)
	}
	testenv.Eventually(t, 30e9, "every customer record", func() bool { return len(s.subaccounts(partner)) == n })
	for _, sa := range s.subaccounts(partner) {
		if sa.Status != domain.StatusAcceptanceRequired {
			t.Errorf("subaccount %s is %s", sa.Name, sa.Status)
		}
	}
}

func TestImportFileErrors(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	for _, tc := range []struct {
		name    string
		content []byte
		want    string
	}{
		{"empty", nil, "the file is empty"},
		{"no header", []byte("Acme,a@b.example,main-cloud\n"), "unknown column"},
		{"missing column", []byte("name,email\nAcme,a@b.example\n"), `missing column "cloud"`},
		{"utf-16", []byte("\xff\xfen\x00a\x00m\x00e\x00\n\x00"), "UTF-16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.run("import", "--partner", partner, "--file", writeFile(t, tc.content)).fails(t, exitRefused, tc.want)
		})
	}
	s.run("import", "--partner", partner, "--file", filepath.Join(t.TempDir(), "missing.csv")).fails(t, exitRefused, "cannot read the file")
	ok := writeFile(t, []byte("name,email,cloud\nAcme,"+email("x")+",main-cloud\n"))
	s.run("import", "--partner", "nobody", "--file", ok).fails(t, exitRefused, `partner "nobody" is not registered`)
	if n := len(s.subaccounts(partner)); n != 0 {
		t.Errorf("%d subaccounts after refused imports, want 0", n)
	}
}

// TestImportInterrupted: rows not launched when the import is interrupted
// are reported as not attempted, so the summary tells the partner to run
// the file again.
func TestImportInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rows := []numberedRow{{n: 2, customerRow: customerRow{Name: "A"}}, {n: 3, customerRow: customerRow{Name: "B"}}}
	var progressOut bytes.Buffer
	// No launcher: an interrupted import must not try to launch anything.
	// One bad row was found before launching: progress counts it too.
	var bad importSummary
	bad.add(rowFailed)
	results := launchAll(ctx, nil, rows, 2, newProgress(&progressOut, len(rows)+1), bad)
	if len(results) != 2 {
		t.Fatalf("results = %+v, want one per row", results)
	}
	for _, r := range results {
		if r.Result != rowNotAttempted {
			t.Errorf("row %d: %s, want not attempted", r.Row, r.Result)
		}
	}
	if !strings.Contains(progressOut.String(), "import: 3/3 rows done: 0 launched, 0 already launched, 1 failed, 2 not attempted") {
		t.Errorf("progress = %q", progressOut.String())
	}
}
