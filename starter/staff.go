package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

func runStaff(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, args, map[string]runFunc{"add": runStaffAdd, "list": runStaffList},
		"Usage: starter staff add --partner ID --email EMAIL --role owner|editor|viewer [--personal-data] [--json]\n       starter staff list --partner ID [--json]\n\nWho of a partner may sign in to the portal, and with which role.\n",
		"staff: want `starter staff add ...` or `starter staff list --partner ID` (see `starter staff --help`)")
}

func runStaffAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("staff add", "staff add --partner ID --email EMAIL --role owner|editor|viewer [--personal-data] [--json]", `
Let a person sign in to the partner portal for a partner: they sign in
with the cloud's identity provider under this (verified) email. Roles:
owner (everything, staff and API keys too), editor (add, edit, resend, copy
link, delete unconfirmed customers, create clouds, suspend, resume), viewer
(read only). --personal-data lets them see customers' email and contact;
without it those are masked. The same email again changes role and
permission. Operators use this to let a partner's first owner in; owners
then manage their staff in the portal.`)
	partner := fs.String("partner", "", "the partner's id (required)")
	email := fs.String("email", "", "the person's email at the identity provider (required)")
	role := fs.String("role", "", "owner, editor or viewer (required)")
	pii := fs.Bool("personal-data", false, "may see customers' email and contact")
	if err := parseNone(fs, args, "partner", "email", "role"); err != nil {
		return err
	}
	a, err := e.serviceFor(ctx, domain.ValidatePartnerID(*partner), domain.ValidateStaff(*email, *role))
	if err != nil {
		return err
	}
	st, err := a.Access.AddStaff(ctx, e.operator(), *partner, *email, *role, *pii)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(staffOf(st))
	}
	e.printf("%s is %s of partner %s%s.\n", st.Email, st.Role, st.PartnerID, map[bool]string{true: ", with personal data", false: ""}[st.PersonalData])
	return nil
}

func runStaffList(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("staff list", "staff list --partner ID [--json]", `
List who may sign in to the portal for a partner, and with which role.`)
	partner := fs.String("partner", "", "the partner's id (required)")
	if err := parseNone(fs, args, "partner"); err != nil {
		return err
	}
	a, err := e.serviceFor(ctx, domain.ValidatePartnerID(*partner))
	if err != nil {
		return err
	}
	staff, err := a.Access.Staff(ctx, e.operator(), *partner)
	if err != nil {
		return err
	}
	if e.json {
		out := staffListJSON{Staff: make([]staffJSON, 0, len(staff))}
		for _, st := range staff {
			out.Staff = append(out.Staff, staffOf(st))
		}
		return e.printJSON(out)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tROLE\tPERSONAL DATA\tLAST SIGN-IN")
	for _, st := range staff {
		fmt.Fprintf(tw, "%s\t%s\t%t\t%s\n", st.Email, st.Role, st.PersonalData, text.Dash(fmtTime(st.LastLoginAt)))
	}
	return tw.Flush()
}
