package main

import (
	"context"
	"fmt"

	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

func runPartner(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			e.printf("Usage: starter partner add --id ID --name NAME [--json]\n\nRegister a partner with partner status. Run `starter partner add --help` for the flags.\n")
			return nil
		}
		return usagef("partner: want `starter partner add --id ID --name NAME` (see `starter partner add --help`)")
	}
	fs := e.flagSet("partner add", "partner add --id ID --name NAME [--partner-status=false] [--json]", `
Register a partner with partner status, so that it may add customers.
Registering an existing id again keeps its name and prints the partner;
--partner-status=false withdraws the status (its staff then can do
nothing), --partner-status=true grants it again.`)
	id := fs.String("id", "", "partner id: lower-case letters, digits, '-' or '_' (required)")
	name := fs.String("name", "", "the partner's display name, shown to customers (required)")
	status := fs.Bool("partner-status", true, "whether the partner has partner status")
	if err := parseNone(fs, args[1:], "id", "name"); err != nil {
		return err
	}
	a, err := e.serviceFor(ctx, domain.ValidatePartnerID(*id))
	if err != nil {
		return err
	}
	p, err := a.Access.AddPartner(ctx, e.operator(), *id, *name)
	if err != nil {
		return err
	}
	if p.PartnerStatus != *status {
		if p, err = a.Access.SetPartnerStatus(ctx, e.operator(), *id, *status); err != nil {
			return err
		}
	}
	if e.json {
		return e.printJSON(partnerOf(p))
	}
	says := "with partner status"
	if !p.PartnerStatus {
		says = "WITHOUT partner status: it may not add customers"
	}
	e.printf("Partner %s (%s) is registered %s.\n", p.ID, p.Name, says)
	return nil
}

func runAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("add", "add --partner ID --name NAME --email EMAIL --cloud NAME [--contact TEXT] [--confirm-within DURATION] [--json]", `
Launch one onboarding: create the customer record, email the customer a
confirmation link and wait for the confirmation. Prints the onboarding id.
Launching the same customer (same name) again for the same partner prints
the same id and creates nothing new; a customer whose earlier onboarding
expired or was cancelled is onboarded again under the same id.

The onboarding keeps the resend settings (RESEND_MIN_INTERVAL, RESEND_MAX)
and confirmation window in force when it is launched.`)
	partner := fs.String("partner", "", "the partner's id (required)")
	name := fs.String("name", "", "the customer's name; it can never be changed later (required)")
	email := fs.String("email", "", "the customer's account email, where the confirmation goes (required)")
	cloud := fs.String("cloud", "", "name of the cloud to create once confirmed: 3-63 of a-z, 0-9, '-' (required)")
	contact := fs.String("contact", "", "the customer's contact person (optional)")
	within := fs.String("confirm-within", "", "how long the customer has to confirm, from 1s to 8760h, such as 168h (default CONFIRM_WITHIN, else 168h)")
	if err := parseNone(fs, args, "partner", "name", "email", "cloud"); err != nil {
		return err
	}
	d, werr := domain.ParseConfirmWithin(*within)
	werr = asFlag(werr, "--confirm-within")
	c := onboarding.NewCustomer{Name: *name, Email: *email, Cloud: *cloud, Contact: *contact, ConfirmWithin: d}
	// Everything is checked before anything connects or is written.
	a, err := e.serviceFor(ctx, domain.ValidatePartnerID(*partner), domain.Validate(c.Name, c.Email, c.Cloud, c.Contact), werr)
	if err != nil {
		return err
	}
	res, err := a.Onboarding.Launch(ctx, e.operator(), *partner, c)
	if err != nil {
		return err
	}
	if res.Launched {
		e.warnNoWorker(ctx, a)
	}
	if e.json {
		return e.printJSON(launchedOf(res))
	}
	if res.Launched {
		e.printf("Launched onboarding %s\nSee where it stands: starter status '%s'\n", res.OnboardingID, res.OnboardingID)
	} else {
		e.printf("Already launched: onboarding %s (%s); nothing new was created.\n", res.OnboardingID, res.State)
	}
	return nil
}

// warnNoWorker notes on stderr that no worker polls the task queue: the
// onboarding is launched and waits for one.
func (e *env) warnNoWorker(ctx context.Context, _ *deps.Actions) {
	if ok, err := e.deps.Requests.WorkerPolling(ctx, e.set.launch.TaskQueue); err == nil && !ok {
		fmt.Fprintf(e.stderr, "starter: note: no worker is polling task queue %q: the onboarding starts when one does (bin/worker, or `make demo`)\n", e.set.launch.TaskQueue)
	}
}
