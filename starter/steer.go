package main

import (
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/store"
)

func runResend(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("resend", "resend ID [--json]", `
Send the confirmation email again, to the customer's current email address
(change it first with "starter edit ID --email ..." if it was wrong).
Refused, with the reason, when the last email went out too recently, when
all allowed emails have been sent, or when the onboarding is not waiting for
confirmation. Needs a running worker: without one it says so at once.`)
	resend := func(svc *onboarding.Service, id string) (resent, error) {
		s, err := svc.Resend(ctx, e.operator(), id)
		return resent{id, s.EmailsSent, timePtr(s.LastSentAt), timePtr(s.NextResendAt), timePtr(s.Deadline)}, err
	}
	return onID(ctx, e, fs, args, resend, nil, func(id string, s resent) error {
		e.printf("Confirmation email sent again for %s: %d sent so far.\n", id, s.EmailsSent)
		if s.NextResendAt != nil {
			e.printf("The next resend is possible from %s.\n", fmtTime(s.NextResendAt))
		} else {
			e.printf("That was the last email allowed.\n")
		}
		return nil
	})
}

// resent is what resend prints.
type resent struct {
	OnboardingID string     `json:"onboarding_id"`
	EmailsSent   int        `json:"emails_sent"`
	LastSentAt   *time.Time `json:"last_sent_at,omitempty"`
	NextResendAt *time.Time `json:"next_resend_at,omitempty"`
	Deadline     *time.Time `json:"deadline,omitempty"`
}

func runCancel(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("cancel", "cancel ID [--json]", `
Delete the unconfirmed subaccount: its status becomes INACTIVE, its
organization is deleted, its role bindings revoked and the link dies.
Refused once the customer has confirmed. Needs a running worker: without
one it says so at once and changes nothing.`)
	cancel := func(svc *onboarding.Service, id string) (cancelled, error) {
		res, err := svc.Cancel(ctx, e.operator(), id)
		return cancelled{id, res.Outcome, res.SubaccountID}, err
	}
	return onID(ctx, e, fs, args, cancel, nil, func(id string, c cancelled) error {
		e.printf("Cancelled %s: subaccount %s is deleted.\n", id, c.SubaccountID)
		return nil
	})
}

// cancelled is what cancel prints.
type cancelled struct {
	OnboardingID string `json:"onboarding_id"`
	Outcome      string `json:"outcome"`
	SubaccountID string `json:"subaccount_id"`
}

func runLink(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("link", "link ID [--json]", `
Print the customer's confirmation link, for the partner to send by other
means. Refused unless the onboarding is waiting for confirmation.`)
	link := func(svc *onboarding.Service, id string) (onboarding.Link, error) {
		return svc.Link(ctx, e.operator(), id)
	}
	return onID(ctx, e, fs, args, link, nil, func(_ string, l onboarding.Link) error {
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
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := oneID(fs, pos)
	if err != nil {
		return err
	}
	var ed store.Edit
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
	// Refused before anything connects; the service checks again.
	if ed.Name != nil {
		return fmt.Errorf("--name refused: %w; nothing was changed", customer.ErrNameImmutable)
	}
	if err := ed.Validate(); err != nil {
		return fmt.Errorf("%w; nothing was changed", err)
	}
	svc, err := e.service(ctx)
	if err != nil {
		return err
	}
	sa, err := svc.Edit(ctx, e.operator(), id, ed)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			OnboardingID string           `json:"onboarding_id"`
			Changed      []string         `json:"changed"`
			Subaccount   store.Subaccount `json:"subaccount"`
		}{sa.OnboardingID, changed, sa})
	}
	e.printf("Edited subaccount %s of %s: %s changed.\n", sa.ID, sa.OnboardingID, strings.Join(changed, ", "))
	if ed.Email != nil && sa.Status == customer.StatusAcceptanceRequired {
		e.printf("To send the confirmation to the new address: starter resend '%s'\n", sa.OnboardingID)
	}
	return nil
}
