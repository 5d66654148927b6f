package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/lifecycle"
)

func runCloud(ctx context.Context, e *env, args []string) error {
	return subcommand(ctx, e, args, map[string]runFunc{"add": runCloudAdd, "list": runCloudList},
		"Usage: starter cloud add ID --name NAME [--json]\n       starter cloud list ID [--json]\n\nCreate more clouds for an active customer, and list them. Run `starter cloud add --help` for the flags.\n",
		"cloud: want `starter cloud add ID --name NAME` or `starter cloud list ID` (see `starter cloud --help`)")
}

func runCloudAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("cloud add", "cloud add ID --name NAME [--request-id UUID] [--json]", `
Create another cloud for an ACTIVE customer, in the customer's organization
"For subaccount '<Name>'". A name the organization holds already — the
first cloud's or a later one's — returns that cloud and creates nothing.
A customer that is not ACTIVE (suspended, unconfirmed or deleted) is
refused. `+acceptedHelp)
	name := fs.String("name", "", "the cloud's name: 3-63 of a-z, 0-9, '-', starting with a letter (required)")
	rid := requestIDFlag(fs)
	id, err := parseOneID(fs, args)
	if err != nil {
		return err
	}
	if err := requireFlags(fs, "name"); err != nil {
		return err
	}
	a, err := e.serviceFor(ctx, domain.ValidateCloudName(*name))
	if err != nil {
		return err
	}
	c, err := a.Lifecycle.AddCloud(ctx, e.operator(), id, *name, *rid)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(cloudAddedJSON{SubaccountID: c.SubaccountID, CloudID: c.Cloud.ID, Name: c.Cloud.Name, Organization: c.Organization.Name,
			Created: c.Created, Request: requestOf(c.Request)})
	}
	if e.accepted(id, requestOf(c.Request)) {
		return nil
	}
	if c.Created {
		e.printf("Created cloud %s (%s) in organization %s.\n", c.Cloud.Name, c.Cloud.ID, c.Organization.Name)
	} else {
		e.printf("Cloud %s (%s) exists already in organization %s; nothing new was created.\n", c.Cloud.Name, c.Cloud.ID, c.Organization.Name)
	}
	return nil
}

func runCloudList(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("cloud list", "cloud list ID [--json]", `
List a customer's clouds, the one created at onboarding first.`)
	list := func(a *deps.Actions, id string) ([]domain.Cloud, error) {
		return a.Lifecycle.Clouds(ctx, e.operator(), id)
	}
	asJSON := func(clouds []domain.Cloud) any {
		out := cloudListJSON{Clouds: make([]cloudJSON, 0, len(clouds))}
		for _, c := range clouds {
			out.Clouds = append(out.Clouds, cloudJSON{ID: c.ID, OrganizationID: c.OrganizationID, Name: c.Name, CreatedAt: c.CreatedAt})
		}
		return out
	}
	return onID(ctx, e, fs, args, list, asJSON, func(_ string, clouds []domain.Cloud) error {
		if len(clouds) == 0 {
			e.printf("No clouds yet.\n")
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "CLOUD\tID\tCREATED")
		for _, c := range clouds {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Name, c.ID, fmtTime(timePtr(c.CreatedAt)))
		}
		return tw.Flush()
	})
}

func runSuspend(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("suspend", "suspend ID [--reason TEXT] [--retention DURATION] [--request-id UUID] [--json]", `
Stop an ACTIVE customer's services: the subaccount becomes SUSPENDED. Its
data is kept for the retention period (default and most 60 days); if its
services are not resumed by then, the subaccount is deleted. Suspending a
suspended customer changes nothing; any other state is refused. `+acceptedHelp)
	rid := requestIDFlag(fs)
	reason := fs.String("reason", "", "why, for the record (one line, at most 500 characters)")
	retention := fs.String("retention", "", "how long the data is kept, from 1s to 1440h, such as 720h (default SUSPEND_RETENTION, else 1440h: 60 days, the most)")
	id, err := parseOneID(fs, args)
	if err != nil {
		return err
	}
	keep, rerr := domain.ParseRetention(*retention)
	rerr = asFlag(rerr, "--retention")
	a, err := e.serviceFor(ctx, domain.ValidateSuspendReason(*reason), rerr)
	if err != nil {
		return err
	}
	l, err := a.Lifecycle.Suspend(ctx, e.operator(), id, *reason, keep, *rid)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(lifecycleOf(l))
	}
	if e.accepted(id, requestOf(l.Request)) {
		return nil
	}
	if !l.Changed {
		e.printf("Already suspended: %s; nothing changed.\n", id)
	} else {
		e.printf("Suspended %s.\n", id)
	}
	e.printf("Unless resumed, it is deleted at %s.\n", fmtTime(l.DeleteAfter))
	return nil
}

func runResume(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("resume", "resume ID [--request-id UUID] [--json]", `
Resume a SUSPENDED customer's services: the subaccount is ACTIVE again and
its deletion is called off. Resuming an active customer changes nothing;
any other state is refused. `+acceptedHelp)
	rid := requestIDFlag(fs)
	resume := func(a *deps.Actions, id string) (lifecycle.Lifecycle, error) {
		return a.Lifecycle.Resume(ctx, e.operator(), id, *rid)
	}
	return onID(ctx, e, fs, args, resume, func(l lifecycle.Lifecycle) any { return lifecycleOf(l) }, func(id string, l lifecycle.Lifecycle) error {
		if e.accepted(id, requestOf(l.Request)) {
			return nil
		}
		if !l.Changed {
			e.printf("Already active: %s; nothing changed.\n", id)
			return nil
		}
		e.printf("Resumed %s: the subaccount is ACTIVE and will not be deleted.\n", id)
		return nil
	})
}
