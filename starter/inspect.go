package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/text"
)

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("status", "status ID [--json]", `
Show where one onboarding stands: its stage, outcome, subaccount status,
confirmation deadline and the emails sent. ID is the onboarding id that
"starter add" and "starter list" print (quote it, it may contain spaces),
or a subaccount id.`)
	status := func(a *deps.Actions, id string) (onboarding.View, error) {
		return a.Onboarding.Status(ctx, e.operator(), id)
	}
	return onID(ctx, e, fs, args, status, func(v onboarding.View) any { return viewOf(v) }, e.printStatus)
}

// printStatus shows where one onboarding stands, a line a fact.
func (e *env) printStatus(_ string, v onboarding.View) error {
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	row := func(k, val string) {
		switch {
		case val == "":
		case k == "": // a continuation line
			fmt.Fprintf(tw, "\t%s\n", val)
		default:
			fmt.Fprintf(tw, "%s:\t%s\n", k, val)
		}
	}
	row("Onboarding", v.OnboardingID)
	row("Partner", v.PartnerID)
	row("Customer", v.Customer)
	row("Workflow", v.Workflow)
	row("Stage", v.Stage)
	row("Outcome", v.Outcome)
	row("Subaccount", strings.TrimSpace(v.SubaccountID+" "+statusLabel(v.SubaccountStatus)))
	row("Deleted", v.DeletedReason)
	if len(v.Clouds) == 0 {
		row("Cloud", strings.TrimSpace(v.CloudName+" (created once the customer confirms)"))
	}
	for i, c := range v.Clouds {
		row(map[bool]string{true: "Clouds", false: ""}[i == 0], c.Name+" "+c.ID)
	}
	row("Suspended", strings.TrimSpace(fmtTime(v.SuspendedAt)+" "+v.SuspendReason))
	row("Deleted unless resumed by", fmtTime(v.DeleteAfter))
	row("Deadline", fmtTime(v.Deadline))
	row("Emails sent", fmt.Sprint(v.EmailsSent))
	row("Last sent", fmtTime(v.LastSentAt))
	row("Next resend", fmtTime(v.NextResendAt))
	row("Confirmed via", v.ConfirmedVia)
	row("Failure", v.Failure)
	row("Note", v.Note)
	for i, r := range v.Pending {
		row(map[bool]string{true: "Pending requests", false: ""}[i == 0],
			fmt.Sprintf("%s, asked %s by %s (request %s)", r.Summary, fmtTime(&r.CreatedAt), r.ActorID, r.ID))
	}
	return tw.Flush()
}

// statusLabel shows a subaccount status with the words people read.
func statusLabel(s string) string {
	if s == "" {
		return ""
	}
	return s + " (" + domain.StatusLabel(s) + ")"
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func runList(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("list", "list [--partner ID] [--status S] [--search TEXT] [--limit N] [--after CURSOR | --before CURSOR | --last] [--json]", `
List customer records, newest first, read from Postgres, with their stage
and outcome from Temporal, subaccount status, deadline and emails sent. A
long list comes in pages: the last line names the command for the next
one (--after), and JSON carries "next" and "prev" cursors. An onboarding
that has not created its record yet is not listed: see "starter status".`)
	partner := fs.String("partner", "", "only this partner's onboardings")
	status := fs.String("status", "", "only subaccounts with this status: "+strings.Join(domain.Statuses, ", "))
	search := fs.String("search", "", "only customers whose name contains this text")
	limit := fs.Int("limit", 200, "at most this many rows, 1-1000")
	after := fs.String("after", "", "the page after this cursor (older)")
	before := fs.String("before", "", "the page before this cursor (newer)")
	last := fs.Bool("last", false, "the last (oldest) page")
	if err := parseNone(fs, args); err != nil {
		return err
	}
	q := onboarding.ListQuery{PartnerID: *partner, Status: strings.ToUpper(strings.TrimSpace(*status)), Search: *search, Runs: true,
		Limit: *limit, After: *after, Before: *before, Last: *last}
	if *limit < 1 || *limit > 1000 {
		return usagef("list: --limit %d is out of range; want 1 to 1000", *limit)
	}
	if q.Status != "" && !slices.Contains(domain.Statuses, q.Status) {
		return usagef("list: --status %q is not a subaccount status; want one of %s", text.Truncate(q.Status, 40), strings.Join(domain.Statuses, ", "))
	}
	a, err := e.serviceFor(ctx, q.Validate())
	if err != nil {
		return err
	}
	l, err := a.Onboarding.List(ctx, e.operator(), q)
	if err != nil {
		return err
	}
	if e.json {
		out := listJSON{Onboardings: make([]viewJSON, 0, len(l.Onboardings)), Next: l.Next, Prev: l.Prev}
		for _, v := range l.Onboardings {
			out.Onboardings = append(out.Onboardings, viewOf(v))
		}
		return e.printJSON(out)
	}
	if len(l.Onboardings) == 0 {
		e.printf("No onboardings found.\n")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ONBOARDING\tCUSTOMER\tSTAGE\tOUTCOME\tSUBACCOUNT\tDEADLINE\tEMAILS\tCLOUDS")
	for _, v := range l.Onboardings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\n", v.OnboardingID, text.Dash(v.Customer), text.Dash(v.Stage), text.Dash(v.Outcome),
			text.Dash(v.SubaccountStatus), text.Dash(fmtTime(v.Deadline)), v.EmailsSent, v.CloudCount)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if l.Next != "" {
		// The next page's command repeats the filters given.
		var filters []string
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "partner", "status", "search", "limit":
				filters = append(filters, fmt.Sprintf("--%s %s", f.Name, shellQuote(f.Value.String())))
			}
		})
		e.printf("More: starter list %s\n", strings.Join(append(filters, "--after "+l.Next), " "))
	}
	return nil
}

// shellQuote quotes a value for a shell command line when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
