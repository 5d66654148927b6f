package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
)

func runResend(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("resend", "resend ID [--request-id UUID] [--json]", `
Send the confirmation email again, to the customer's current email address
(change it first with "starter edit ID --email ..." if it was wrong).
Refused, with the reason, when the last email went out too recently, when
all allowed emails have been sent, or when the onboarding is not waiting for
confirmation. `+acceptedHelp)
	rid := requestIDFlag(fs)
	resend := func(a *deps.Actions, id string) (resentJSON, error) {
		r, err := a.Onboarding.Resend(ctx, e.operator(), id, *rid)
		s := r.Status
		out := resentJSON{OnboardingID: id, Request: requestOf(r.Request)}
		if r.Request.Status == domain.RequestDone {
			out.EmailsSent, out.LastSentAt, out.NextResendAt, out.Deadline = s.EmailsSent, timePtr(s.LastSentAt), timePtr(s.NextResendAt), timePtr(s.Deadline)
		}
		return out, err
	}
	return onID(ctx, e, fs, args, resend, func(r resentJSON) any { return r }, func(id string, s resentJSON) error {
		if e.accepted(id, s.Request) {
			return nil
		}
		e.printf("Confirmation email sent again for %s: %d sent so far.\n", id, s.EmailsSent)
		if s.NextResendAt != nil {
			e.printf("The next resend is possible from %s.\n", fmtTime(s.NextResendAt))
		} else {
			e.printf("That was the last email allowed.\n")
		}
		return nil
	})
}

func runCancel(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("cancel", "cancel ID [--request-id UUID] [--json]", `
Delete the unconfirmed subaccount: its status becomes INACTIVE, its
organization is deleted, its role bindings revoked and the link dies.
Refused once the customer has answered. `+acceptedHelp)
	rid := requestIDFlag(fs)
	cancel := func(a *deps.Actions, id string) (cancelledJSON, error) {
		c, err := a.Onboarding.Cancel(ctx, e.operator(), id, *rid)
		return cancelledJSON{OnboardingID: id, Request: requestOf(c.Request), Outcome: c.Result.Outcome, SubaccountID: c.Result.SubaccountID}, err
	}
	return onID(ctx, e, fs, args, cancel, func(c cancelledJSON) any { return c }, func(id string, c cancelledJSON) error {
		if e.accepted(id, c.Request) {
			return nil
		}
		e.printf("Cancelled %s: subaccount %s is deleted.\n", id, c.SubaccountID)
		return nil
	})
}

// acceptedHelp is what every command that sends a request says of it.
const acceptedHelp = `With a worker running it is carried
out at once; without one it is accepted — recorded, certain to be carried
out when a worker takes it — and the command exits 0 saying so: follow it
with "starter status ID". --request-id makes a retry safe: the same id
again is the same request, carried out once.`

// requestIDFlag is the --request-id flag of a command that sends a request.
func requestIDFlag(fs *flag.FlagSet) *string {
	return fs.String("request-id", "", "the request's id, a UUID: the same id again is the same request (default: a new one)")
}

// accepted prints, for a request accepted and not carried out yet, what
// will happen and how to follow it, and reports whether it did.
func (e *env) accepted(id string, r *requestJSON) bool {
	if r == nil || r.Status != domain.RequestAccepted {
		return false
	}
	e.printf("Accepted: %s for %s will be carried out when a worker takes it (request %s).\n", r.Summary, id, r.ID)
	e.printf("Follow it with: starter status '%s'\n", id)
	return true
}

func runLink(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("link", "link ID [--json]", `
Print the customer's confirmation link, for the partner to send by other
means. Refused unless the onboarding is waiting for confirmation.`)
	link := func(a *deps.Actions, id string) (onboarding.Link, error) {
		return a.Onboarding.Link(ctx, e.operator(), id)
	}
	asJSON := func(l onboarding.Link) any {
		return linkJSON{OnboardingID: l.OnboardingID, SubaccountID: l.SubaccountID, URL: l.URL, ValidUntil: l.ValidUntil}
	}
	return onID(ctx, e, fs, args, link, asJSON, func(_ string, l onboarding.Link) error {
		e.printf("%s\n(valid until %s; send it to the customer of %s)\n", l.URL, fmtTime(timePtr(l.ValidUntil)), l.OnboardingID)
		return nil
	})
}

func runEdit(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("edit", "edit ID [--email EMAIL] [--contact TEXT] [--cloud NAME] [--json]", `
Change the customer's account email, contact person or cloud name. The
name cannot be changed: only the customer's contact person may rename a
subaccount, outside this system. A deleted subaccount cannot be edited, nor
the cloud name once the cloud exists. Role bindings never change.`)
	email := fs.String("email", "", "the new account email")
	contact := fs.String("contact", "", "the new contact person (empty to clear)")
	cloud := fs.String("cloud", "", "the new name of the cloud to create")
	fs.String("name", "", "refused: the name of a subaccount cannot be changed")
	id, err := parseOneID(fs, args)
	if err != nil {
		return err
	}
	var ed domain.Edit
	var changed []string
	fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "email":
			ed.Email, changed = email, append(changed, "email")
		case "contact":
			ed.Contact, changed = contact, append(changed, "contact")
		case "cloud":
			ed.CloudName, changed = cloud, append(changed, "cloud")
		case "name":
			ed.Name = new(string)
		}
	})
	if ed.Name == nil && len(changed) == 0 {
		return usagef("edit: nothing to change: give --email, --contact or --cloud (see `starter edit --help`)")
	}
	// Refused before anything connects; the action checks again.
	if ed.Name != nil {
		return fmt.Errorf("--name refused: %w; nothing was changed", domain.ErrNameImmutable)
	}
	if err := ed.Validate(); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	a, err := e.service(ctx)
	if err != nil {
		return err
	}
	sa, err := a.Onboarding.Edit(ctx, e.operator(), id, ed)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(editedJSON{OnboardingID: sa.OnboardingID, Changed: changed, Subaccount: subaccountOf(sa)})
	}
	e.printf("Edited subaccount %s of %s: %s changed.\n", sa.ID, sa.OnboardingID, strings.Join(changed, ", "))
	if ed.Email != nil && sa.Status == domain.StatusAcceptanceRequired {
		e.printf("To send the confirmation to the new address: starter resend '%s'\n", sa.OnboardingID)
	}
	return nil
}
