package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/cloudpartners/onboarding/internal/audit"
	"github.com/cloudpartners/onboarding/internal/domain"
)

func runAudit(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, args, map[string]runFunc{"export": runAuditExport},
		"Usage: starter audit export [--partner ID] [--customer ID] [--from DATE] [--to DATE] [--actor ID] [--format csv|json] [--output FILE] [--json]\n\n"+
			"The audit log: every action taken — by whom, what, on which customer, when, from where, and how it ended.\n",
		"audit: want `starter audit export [--partner ID] [--customer ID] ...` (see `starter audit export --help`)")
}

func runAuditExport(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("audit export", "audit export [--partner ID] [--customer ID] [--from DATE] [--to DATE] [--actor ID] [--format csv|json] [--output FILE] [--json]", `
Export the audit log, newest first: every partner's, one partner's
(--partner) or one customer's (--customer: its subaccount id or onboarding
id), narrowed to a time range and an actor. CSV has a header, then a row
an event, and cells a spreadsheet would run as a formula start with an
apostrophe; JSON is one array (--json is --format json). Dates are UTC:
--from 2026-01-01 --to 2026-01-31 is the whole of January; RFC 3339 times
(2026-01-31T12:00:00Z) are exact. It streams: a year of a large partner's
log takes no more memory than a day's.

The export goes to stdout, or with --output to FILE, which appears only
once the export is whole (the command then prints what it wrote). A bad
query is refused before anything is written. The export is itself recorded
in the audit log.`)
	partner := fs.String("partner", "", "only this partner's events")
	customer := fs.String("customer", "", "only this customer's events: its subaccount id or onboarding id")
	from := fs.String("from", "", "events at or after this date or time (2026-01-31, 2026-01-31T12:00:00Z)")
	to := fs.String("to", "", "events before this time, or up to the end of this date")
	who := fs.String("actor", "", "only this actor's events: an email, an API key's name and prefix, an operator's name")
	format := fs.String("format", "", "csv or json (default csv; json with --json)")
	output := fs.String("output", "", "write the export to this file instead of stdout")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	q := audit.Query{PartnerID: *partner, SubaccountID: *customer, Actor: *who, From: *from, To: *to, Format: *format}
	switch {
	case e.json && q.Format == "":
		q.Format = audit.JSON
	case e.json && q.Format != audit.JSON:
		return usagef("audit export: --json is --format json, not --format %s (see `starter audit export --help`)", *format)
	}
	// Refused before anything connects or is written, naming the flag.
	var checks []error
	if *partner != "" {
		checks = append(checks, domain.ValidatePartnerID(*partner))
	}
	if _, err := q.Check(); err != nil {
		var inv *domain.InvalidError
		if errors.As(err, &inv) {
			err = asFlag(err, "--"+inv.Field)
		}
		checks = append(checks, err)
	}
	a, err := e.serviceFor(ctx, checks...)
	if err != nil {
		return err
	}
	if *output == "" {
		_, err := a.Audit.Export(ctx, e.operator(), q, e.stdout)
		return err
	}
	n, err := writeWhole(*output, func(w io.Writer) (int, error) { return a.Audit.Export(ctx, e.operator(), q, w) })
	if err != nil {
		return err
	}
	if q.Format == "" {
		q.Format = audit.CSV
	}
	if e.json {
		return e.printJSON(exportedJSON{Output: *output, Format: q.Format, Events: n})
	}
	e.printf("Exported %d audit events as %s to %s.\n", n, q.Format, *output)
	return nil
}

// writeWhole writes a file through a temporary file beside it, renamed
// into place once write succeeded: a failed or interrupted export leaves
// no file, and never a truncated one under the name asked for.
func writeWhole(path string, write func(io.Writer) (int, error)) (int, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return 0, domain.WithKind(domain.Invalid, fmt.Errorf("--output: %w", err))
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone once renamed
	n, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return n, err
}
