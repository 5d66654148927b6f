package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/text"
)

// launchTimeout bounds launching one row, so one stuck call cannot hold up
// the import forever; the row is reported and a re-run picks it up.
const launchTimeout = 30 * time.Second

// Results of one import row.
const (
	rowLaunched        = "launched"
	rowAlreadyLaunched = "already launched"
	rowFailed          = "failed"
	rowNotAttempted    = "not attempted" // the import was interrupted first
)

// rowResult is what happened to one row of the file.
type rowResult struct {
	Row          int    `json:"row"` // the line number in the file; the header is row 1
	Name         string `json:"name,omitempty"`
	Result       string `json:"result"`
	OnboardingID string `json:"onboarding_id,omitempty"`
	State        string `json:"state,omitempty"`
	Error        string `json:"error,omitempty"`
}

// importSummary counts the rows by result.
type importSummary struct {
	Rows            int `json:"rows"`
	Launched        int `json:"launched"`
	AlreadyLaunched int `json:"already_launched"`
	Failed          int `json:"failed"`
	NotAttempted    int `json:"not_attempted"`
}

func (s *importSummary) add(result string) {
	s.Rows++
	switch result {
	case rowLaunched:
		s.Launched++
	case rowAlreadyLaunched:
		s.AlreadyLaunched++
	case rowFailed:
		s.Failed++
	case rowNotAttempted:
		s.NotAttempted++
	}
}

func runImport(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("import", "import --partner ID --file customers.csv [--concurrency N] [--json]", `
Launch one onboarding per row of a CSV file (UTF-8, comma-separated) whose
header row names the columns, in any order:
  name,email,cloud[,contact][,confirm_within]
confirm_within is a duration such as 168h; empty means the default.

A bad row (a missing field, an invalid email, a customer twice in the file,
bad encoding, an over-long line, a value starting with = + - @ that a
spreadsheet would run as a formula) is reported with its row number and the
other rows go on. Re-running the same file, say after an interruption,
launches only what is missing and reports the rest as "already launched".
Exits non-zero when any row failed. A progress bar shows on a terminal;
otherwise progress lines go to stderr.`)
	partner := fs.String("partner", "", "the partner's id (required)")
	file := fs.String("file", "", "the CSV file, or - for standard input (required)")
	concurrency := fs.Int("concurrency", 8, "how many rows to launch at once, 1-64")
	if err := parseNone(fs, args, "partner", "file"); err != nil {
		return err
	}
	if *concurrency < 1 || *concurrency > 64 {
		return usagef("import: --concurrency %d is out of range; want 1 to 64", *concurrency)
	}
	if err := domain.ValidatePartnerID(*partner); err != nil {
		return err
	}

	var in io.Reader = os.Stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return domain.WithKind(domain.Invalid, fmt.Errorf("cannot read the file: %w", err))
		}
		defer f.Close()
		in = f
	}
	rows, bad, err := readImport(in)
	if err != nil {
		return domain.WithKind(domain.Invalid, fmt.Errorf("%s: %w", *file, err))
	}

	e.poolSz = *concurrency + 2
	a, err := e.service(ctx)
	if err != nil {
		return err
	}
	// An unknown partner fails the whole import at once, not row by row.
	if err := a.Onboarding.CheckPartner(ctx, e.operator(), *partner); err != nil {
		return err
	}
	l := func(ctx context.Context, c onboarding.NewCustomer) (onboarding.Launched, error) {
		return a.Onboarding.Launch(ctx, e.operator(), *partner, c)
	}
	// Progress counts every row of the file: the bad ones are done already.
	var done importSummary
	for range bad {
		done.add(rowFailed)
	}
	results := launchAll(ctx, l, rows, *concurrency, newProgress(e.stderr, len(rows)+len(bad)), done)
	results = append(results, bad...)
	sort.Slice(results, func(i, j int) bool { return results[i].Row < results[j].Row })
	var sum importSummary
	for _, r := range results {
		sum.add(r.Result)
	}

	if e.json {
		if err := e.printJSON(struct {
			Partner string        `json:"partner"`
			File    string        `json:"file"`
			Rows    []rowResult   `json:"rows"`
			Summary importSummary `json:"summary"`
		}{*partner, *file, results, sum}); err != nil {
			return err
		}
	} else {
		for _, r := range results {
			switch r.Result {
			case rowFailed:
				e.printf("row %d: failed: %s\n", r.Row, r.Error)
			case rowAlreadyLaunched:
				e.printf("row %d: already launched: %s (%s)\n", r.Row, r.OnboardingID, r.State)
			case rowNotAttempted:
				e.printf("row %d: not attempted: %s\n", r.Row, r.Error)
			}
		}
		e.printf("Import of %s for partner %s: %d rows: %d launched, %d already launched, %d failed, %d not attempted.\n",
			*file, *partner, sum.Rows, sum.Launched, sum.AlreadyLaunched, sum.Failed, sum.NotAttempted)
	}
	switch {
	case sum.NotAttempted > 0:
		return fmt.Errorf("interrupted: %d of %d rows were not attempted and %d failed (see the rows above); run the same import again: launched rows are skipped",
			sum.NotAttempted, sum.Rows, sum.Failed)
	case sum.Failed > 0:
		return domain.WithKind(domain.Invalid, fmt.Errorf("%d of %d rows failed (see the rows above); fix them and run the same import again: launched rows are skipped",
			sum.Failed, sum.Rows))
	case ctx.Err() != nil:
		return fmt.Errorf("interrupted: %w", ctx.Err())
	}
	return nil
}

// numberedRow is a valid row and its number in the file.
type numberedRow struct {
	n int
	customerRow
}

// readImport reads and checks the whole file before anything is launched:
// the valid rows, and a result for each bad one. An error means the file as
// a whole is unusable (no header, an unreadable file).
func readImport(r io.Reader) ([]numberedRow, []rowResult, error) {
	lr := newLineReader(r)
	line, err := lr.next()
	switch {
	case err == io.EOF:
		return nil, nil, fmt.Errorf("the file is empty (%s)", columnsHint)
	case errors.Is(err, errLineTooLong):
		return nil, nil, fmt.Errorf("header: the first line %w (%s)", err, columnsHint)
	case err != nil:
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if bytes.HasPrefix(line, []byte{0xff, 0xfe}) || bytes.HasPrefix(line, []byte{0xfe, 0xff}) {
		return nil, nil, errors.New("the file is UTF-16; save it as CSV UTF-8")
	}
	h, err := parseHeader(line)
	if err != nil {
		return nil, nil, err
	}
	var rows []numberedRow
	var bad []rowResult
	seen := map[string]int{} // domain.NameKey → row number
	for {
		line, err := lr.next()
		if err == io.EOF {
			break
		}
		n := lr.line
		if err != nil && !errors.Is(err, errLineTooLong) {
			return nil, nil, fmt.Errorf("read line %d: %w", n, err)
		}
		if err == nil && len(bytes.TrimSpace(line)) == 0 {
			continue // blank lines, such as one at the end, are not rows
		}
		var row customerRow
		if err == nil {
			row, err = parseRow(h, line)
		}
		if err == nil {
			key := domain.NameKey(row.Name)
			if first, dup := seen[key]; dup {
				err = fmt.Errorf("name: customer %q is already in row %d of this file", text.Truncate(row.Name, 40), first)
			} else {
				seen[key] = n
			}
		}
		if err != nil {
			bad = append(bad, rowResult{Row: n, Name: row.Name, Result: rowFailed, Error: text.OneLine(err.Error())})
			continue
		}
		rows = append(rows, numberedRow{n: n, customerRow: row})
	}
	return rows, bad, nil
}

// launchFunc launches one domain.
type launchFunc func(ctx context.Context, c onboarding.NewCustomer) (onboarding.Launched, error)

// launchAll launches the rows with at most concurrency at once, counting
// progress on from done. When ctx is cancelled the rows not yet started are
// reported as not attempted.
func launchAll(ctx context.Context, l launchFunc, rows []numberedRow, concurrency int, p progress, done importSummary) []rowResult {
	jobs := make(chan numberedRow)
	out := make(chan rowResult)
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for r := range jobs {
				out <- launchRow(ctx, l, r)
			}
		})
	}
	go func() {
		defer close(jobs)
		for _, r := range rows {
			select {
			case jobs <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(out) }()

	results := make([]rowResult, 0, len(rows))
	finished := map[int]bool{}
	sum := done
	for r := range out {
		results = append(results, r)
		finished[r.Row] = true
		sum.add(r.Result)
		p.update(sum)
	}
	for _, r := range rows {
		if !finished[r.n] {
			results = append(results, rowResult{Row: r.n, Name: r.Name, Result: rowNotAttempted, Error: "the import was interrupted before this row"})
			sum.add(rowNotAttempted)
		}
	}
	p.finish(sum)
	return results
}

func launchRow(ctx context.Context, l launchFunc, r numberedRow) rowResult {
	res := rowResult{Row: r.n, Name: r.Name}
	if ctx.Err() != nil {
		res.Result, res.Error = rowNotAttempted, "the import was interrupted before this row"
		return res
	}
	lctx, cancel := context.WithTimeout(ctx, launchTimeout)
	defer cancel()
	lr, err := l(lctx, r.customerRow)
	switch {
	case err != nil:
		res.Result, res.Error = rowFailed, text.OneLine(err.Error())
	case lr.Launched:
		res.Result, res.OnboardingID = rowLaunched, lr.OnboardingID
	default:
		res.Result, res.OnboardingID, res.State = rowAlreadyLaunched, lr.OnboardingID, lr.State
	}
	return res
}

// progress shows how far an import is.
type progress interface {
	update(importSummary)
	finish(importSummary)
}

// newProgress returns a progress bar when w is a terminal, plain progress
// lines otherwise (a log, a pipe, a test).
func newProgress(w io.Writer, total int) progress {
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return &barProgress{bar: progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription("launching"),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)}
	}
	return &lineProgress{w: w, total: total, every: time.Second}
}

type barProgress struct{ bar *progressbar.ProgressBar }

func (b *barProgress) update(importSummary) { _ = b.bar.Add(1) }
func (b *barProgress) finish(importSummary) { _ = b.bar.Finish() }

// lineProgress writes a line at most every so often, and one at the end.
type lineProgress struct {
	w     io.Writer
	total int
	every time.Duration
	last  time.Time
}

func (p *lineProgress) line(s importSummary) {
	fmt.Fprintf(p.w, "import: %d/%d rows done: %d launched, %d already launched, %d failed", s.Rows, p.total, s.Launched, s.AlreadyLaunched, s.Failed)
	if s.NotAttempted > 0 {
		fmt.Fprintf(p.w, ", %d not attempted", s.NotAttempted)
	}
	fmt.Fprintln(p.w)
}

func (p *lineProgress) update(s importSummary) {
	if now := time.Now(); now.Sub(p.last) >= p.every {
		p.last = now
		p.line(s)
	}
}

func (p *lineProgress) finish(s importSummary) { p.line(s) }
