package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// errEnded is the message for an onboarding that has already ended.
func errEnded(v view, what string) error {
	switch {
	case v.Outcome == workflows.OutcomeActive:
		return fmt.Errorf("onboarding %q has already ended: the customer confirmed and the subaccount is ACTIVE, so there is nothing to %s", v.OnboardingID, what)
	case v.Outcome != "":
		return fmt.Errorf("onboarding %q has already ended %s: the subaccount is deleted, so there is nothing to %s; launch the customer again with `starter add`", v.OnboardingID, v.Outcome, what)
	default:
		return fmt.Errorf("onboarding %q has already ended (%s), so there is nothing to %s; see `starter status '%s'`", v.OnboardingID, strings.ToLower(v.Workflow), what, v.OnboardingID)
	}
}

// describe returns Temporal's record of the latest run of an onboarding.
func describe(ctx context.Context, tc client.Client, id string) (view, error) {
	desc, err := tc.DescribeWorkflowExecution(ctx, id, "")
	if isNotFound(err) {
		return view{}, errNoOnboarding(id)
	}
	if err != nil {
		return view{}, fmt.Errorf("look up onboarding %q: %w", id, err)
	}
	v := view{OnboardingID: id}
	v.applyExecution(desc.GetWorkflowExecutionInfo())
	return v, nil
}

// update runs an update on the running onboarding and waits for its result.
// A refusal by the workflow's validator comes back as its reason.
func update(ctx context.Context, e *env, id, name, what string, result any) (view, error) {
	tc, err := e.temporal(ctx)
	if err != nil {
		return view{}, err
	}
	v, err := describe(ctx, tc, id)
	if err != nil {
		return view{}, err
	}
	if v.Workflow != "RUNNING" {
		return v, errEnded(v, what)
	}
	h, err := tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, RunID: v.RunID, UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, result)
	}
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return v, nil
	case isNotFound(err):
		// It ended between the look-up and the update.
		if v2, derr := describe(ctx, tc, id); derr == nil {
			v = v2
		}
		return v, errEnded(v, what)
	case errors.As(err, &appErr):
		return v, fmt.Errorf("%s refused: %s", what, appErr.Message())
	}
	return v, fmt.Errorf("%s: %w", what, err)
}

func runResend(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("resend", "resend ID [--json]", `
Send the confirmation email again, to the customer's current email address
(change it first with "starter edit ID --email ..." if it was wrong).
Refused, with the reason, when the last email went out too recently, when
all allowed emails have been sent, or when the onboarding is not waiting for
confirmation.`)
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	var s workflows.Status
	if _, err := update(ctx, e, id, workflows.UpdateResend, "resend", &s); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			OnboardingID string     `json:"onboarding_id"`
			EmailsSent   int        `json:"emails_sent"`
			LastSentAt   *time.Time `json:"last_sent_at,omitempty"`
			NextResendAt *time.Time `json:"next_resend_at,omitempty"`
			Deadline     *time.Time `json:"deadline,omitempty"`
		}{id, s.EmailsSent, timePtr(s.LastSentAt), timePtr(s.NextResendAt), timePtr(s.Deadline)})
	}
	e.printf("Confirmation email sent again for %s: %d sent so far.\n", id, s.EmailsSent)
	if !s.NextResendAt.IsZero() {
		e.printf("The next resend is possible from %s.\n", fmtTime(timePtr(s.NextResendAt)))
	} else {
		e.printf("That was the last email allowed.\n")
	}
	return nil
}

func runCancel(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("cancel", "cancel ID [--json]", `
Delete the unconfirmed subaccount: its status becomes INACTIVE, its
organization is deleted, its role bindings revoked and the link dies.
Refused once the customer has confirmed.`)
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	var res workflows.Result
	if _, err := update(ctx, e, id, workflows.UpdateCancel, "cancel", &res); err != nil {
		return err
	}
	if e.json {
		return e.printJSON(struct {
			OnboardingID string `json:"onboarding_id"`
			Outcome      string `json:"outcome"`
			SubaccountID string `json:"subaccount_id"`
		}{id, res.Outcome, res.SubaccountID})
	}
	e.printf("Cancelled %s: subaccount %s is deleted.\n", id, res.SubaccountID)
	return nil
}

func runLink(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("link", "link ID [--json]", `
Print the customer's confirmation link, for the partner to send by other
means. Refused unless the onboarding is waiting for confirmation.`)
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	cfg, err := e.config()
	if err != nil {
		return err
	}
	v, sa, err := lookup(ctx, e, id)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	notAwaiting := func(why string) error {
		return fmt.Errorf("link: onboarding %q is not awaiting confirmation: %s", id, why)
	}
	switch {
	case v.Workflow != "RUNNING":
		return fmt.Errorf("link: %w", errEnded(v, "confirm"))
	case v.Stage == workflows.StageCreating || v.Stage == workflows.StageSending || sa == nil:
		return notAwaiting(fmt.Sprintf("it is still starting (stage %s); try again in a moment", dash(v.Stage)))
	case sa.Status == store.StatusActive || sa.Status == store.StatusSuspended:
		return notAwaiting("the customer has already confirmed")
	case sa.Status == store.StatusInactive:
		return notAwaiting(fmt.Sprintf("the subaccount has been deleted (%s)", sa.DeletedReason))
	case v.Stage != workflows.StageAwaiting:
		return notAwaiting(fmt.Sprintf("it is at stage %s", v.Stage))
	case !time.Now().Before(sa.ConfirmDeadline):
		return notAwaiting("the confirmation deadline has passed")
	}
	token, err := links.NewSigner(cfg.Secret).Token(sa.ID, sa.ConfirmDeadline)
	if err != nil {
		return fmt.Errorf("link: %w", err)
	}
	u := links.URL(cfg.PublicURL, token)
	if e.json {
		return e.printJSON(struct {
			OnboardingID string    `json:"onboarding_id"`
			SubaccountID string    `json:"subaccount_id"`
			Link         string    `json:"link"`
			ValidUntil   time.Time `json:"valid_until"`
		}{id, sa.ID, u, sa.ConfirmDeadline.UTC()})
	}
	e.printf("%s\n(valid until %s; send it to the customer of %s)\n", u, fmtTime(timePtr(sa.ConfirmDeadline)), id)
	return nil
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
	id, err := parseID(fs, args)
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
	if ed.Name != nil {
		return fmt.Errorf("edit: --name refused: %w; nothing was changed", store.ErrNameImmutable)
	}
	if len(changed) == 0 {
		return usagef("edit: nothing to change: give --email, --contact or --cloud (see `starter edit --help`)")
	}
	var verr []error
	if ed.Email != nil {
		verr = append(verr, customer.ValidateEmail(*ed.Email))
	}
	if ed.Contact != nil {
		verr = append(verr, checkFormula("contact", *ed.Contact), customer.ValidateContact(*ed.Contact))
	}
	if ed.CloudName != nil {
		verr = append(verr, customer.ValidateCloudName(*ed.CloudName))
	}
	if err := errors.Join(verr...); err != nil {
		return fmt.Errorf("edit: %w; nothing was changed", err)
	}

	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	sa, err := st.SubaccountByOnboarding(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// Tell an unknown id from an onboarding that has no record yet.
		tc, terr := e.temporal(ctx)
		if terr != nil {
			return terr
		}
		v, derr := describe(ctx, tc, id)
		if derr != nil {
			return fmt.Errorf("edit: %w", derr)
		}
		return fmt.Errorf("edit: onboarding %q has no customer record yet (stage %s); try again in a moment", id, dash(v.Stage))
	}
	if err != nil {
		return fmt.Errorf("edit: %w", err)
	}
	edited, err := st.EditSubaccount(ctx, sa.ID, ed)
	switch {
	case errors.Is(err, store.ErrDeleted):
		return fmt.Errorf("edit: onboarding %q has already ended %s: %w, so it cannot be edited; launch the customer again with `starter add`",
			id, sa.DeletedReason, store.ErrDeleted)
	case err != nil:
		return fmt.Errorf("edit: %w; nothing was changed", err)
	}
	sa = edited
	if e.json {
		return e.printJSON(struct {
			OnboardingID string           `json:"onboarding_id"`
			Changed      []string         `json:"changed"`
			Subaccount   store.Subaccount `json:"subaccount"`
		}{id, changed, sa})
	}
	e.printf("Edited subaccount %s of %s: %s changed.\n", sa.ID, id, strings.Join(changed, ", "))
	if ed.Email != nil && sa.Status == store.StatusAcceptanceRequired {
		e.printf("To send the confirmation to the new address: starter resend '%s'\n", id)
	}
	return nil
}
