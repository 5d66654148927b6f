package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// partnerID is the shape the partners table accepts; it is checked before a
// partner id goes into a visibility query.
var partnerID = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func checkPartnerID(id string) error {
	if !partnerID.MatchString(id) {
		return &customer.InvalidError{Field: "partner", Reason: fmt.Sprintf("%q is not a partner id (want lower-case letters, digits, '-' or '_', at most 63)", truncate(id, 40))}
	}
	return nil
}

func runPartner(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "add" {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			e.printf("Usage: starter partner add --id ID --name NAME [--json]\n\nRegister a partner with partner status. Run `starter partner add --help` for the flags.\n")
			return nil
		}
		return usagef("partner: want `starter partner add --id ID --name NAME` (see `starter partner add --help`)")
	}
	fs := e.flagSet("partner add", "partner add --id ID --name NAME [--json]", `
Register a partner with partner status, so that it may add customers.
Registering an existing id again changes nothing and prints the partner.`)
	id := fs.String("id", "", "partner id: lower-case letters, digits, '-' or '_' (required)")
	name := fs.String("name", "", "the partner's display name, shown to customers (required)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if err := required(fs, "id", "name"); err != nil {
		return err
	}
	if err := checkPartnerID(*id); err != nil {
		return fmt.Errorf("partner add: %w", err)
	}
	st, err := e.store(ctx)
	if err != nil {
		return err
	}
	p, err := st.AddPartner(ctx, *id, *name)
	if err != nil {
		return fmt.Errorf("partner add: %w", err)
	}
	if e.json {
		return e.printJSON(p)
	}
	status := "with partner status"
	if !p.PartnerStatus {
		status = "WITHOUT partner status: it may not add customers"
	}
	e.printf("Partner %s (%s) is registered %s.\n", p.ID, p.Name, status)
	return nil
}

func runAdd(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("add", "add --partner ID --name NAME --email EMAIL --cloud NAME [--contact TEXT] [--confirm-within DURATION] [--json]", `
Launch one onboarding: create the customer record, email the customer a
confirmation link and wait for the confirmation. Prints the onboarding id.
Launching the same customer (same name) again for the same partner prints
the same id and creates nothing new; a customer whose earlier onboarding
expired or was cancelled is onboarded again under the same id.`)
	partner := fs.String("partner", "", "the partner's id (required)")
	name := fs.String("name", "", "the customer's name; it can never be changed later (required)")
	email := fs.String("email", "", "the customer's account email, where the confirmation goes (required)")
	cloud := fs.String("cloud", "", "name of the cloud to create once confirmed: 3-63 of a-z, 0-9, '-' (required)")
	contact := fs.String("contact", "", "the customer's contact person (optional)")
	within := fs.Duration("confirm-within", 0, "how long the customer has to confirm, such as 168h (default CONFIRM_WITHIN, else 168h)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	if err := required(fs, "partner", "name", "email", "cloud"); err != nil {
		return err
	}
	// Everything is checked before anything is written.
	verr := []error{checkPartnerID(*partner), customer.Validate(*name, *email, *cloud, *contact)}
	if *within != 0 {
		if _, err := parseConfirmWithin(within.String()); err != nil {
			verr = append(verr, fmt.Errorf("--confirm-within: %w", err))
		}
	}
	if err := errors.Join(verr...); err != nil {
		return fmt.Errorf("add: %w", err)
	}
	l, err := newLauncher(ctx, e, *partner)
	if err != nil {
		return err
	}
	res, err := l.launch(ctx, customerRow{Name: *name, Email: *email, Cloud: *cloud, Contact: *contact, ConfirmWithin: *within})
	if err != nil {
		return fmt.Errorf("add: %w", err)
	}
	if e.json {
		return e.printJSON(res)
	}
	if res.Launched {
		e.printf("Launched onboarding %s\nSee where it stands: starter status '%s'\n", res.OnboardingID, res.OnboardingID)
	} else {
		e.printf("Already launched: onboarding %s (%s); nothing new was created.\n", res.OnboardingID, res.State)
	}
	return nil
}

// launcher launches onboardings for one partner.
type launcher struct {
	cfg     config.Config
	st      *store.Store
	tc      client.Client
	sealer  *seal.Sealer
	partner string
}

// newLauncher connects and checks that the partner may add customers.
func newLauncher(ctx context.Context, e *env, partner string) (*launcher, error) {
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	sealer, err := seal.New(cfg.Secret)
	if err != nil {
		return nil, err
	}
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkPartner(ctx, st, partner); err != nil {
		return nil, err
	}
	tc, err := e.temporal(ctx)
	if err != nil {
		return nil, err
	}
	return &launcher{cfg: cfg, st: st, tc: tc, sealer: sealer, partner: partner}, nil
}

// checkPartner refuses an unknown partner and one without partner status.
func checkPartner(ctx context.Context, st *store.Store, id string) error {
	p, err := st.Partner(ctx, id)
	switch {
	case errors.Is(err, store.ErrUnknownPartner):
		return fmt.Errorf("partner %q is not registered (%w); register it with `starter partner add --id %s --name NAME`", id, store.ErrUnknownPartner, id)
	case err != nil:
		return err
	case !p.PartnerStatus:
		return fmt.Errorf("partner %q: %w; ask the cloud provider to grant it partner status", id, store.ErrNotPartner)
	}
	return nil
}

// carriable reports whether a workflow id can travel in the gRPC header
// the Temporal client puts it in: printable ASCII only.
func carriable(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] < 0x20 || id[i] > 0x7e {
			return false
		}
	}
	return true
}

// launchResult says what launching one customer did.
type launchResult struct {
	OnboardingID string `json:"onboarding_id"`
	RunID        string `json:"run_id,omitempty"`
	Launched     bool   `json:"launched"`        // false: it had been launched before
	State        string `json:"state,omitempty"` // when already launched: where it stands
}

// launch starts the onboarding of one customer unless one is already
// running, or finished with a live subaccount. Repeats are safe at each
// step: the DB knows live subaccounts, and the workflow id with
// USE_EXISTING never starts a second run next to a running one.
func (l *launcher) launch(ctx context.Context, r customerRow) (launchResult, error) {
	id := workflows.WorkflowID(l.partner, r.Name)
	// A finished onboarding whose customer is live (ACTIVE) must not run again.
	if sa, err := l.st.LiveSubaccount(ctx, l.partner, r.Name); err == nil {
		return launchResult{OnboardingID: sa.OnboardingID, State: "subaccount " + sa.Status}, nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return launchResult{}, err
	}
	desc, err := l.tc.DescribeWorkflowExecution(ctx, id, "")
	switch {
	case err == nil && desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		return launchResult{OnboardingID: id, RunID: desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), State: "running"}, nil
	case err != nil && !isNotFound(err):
		return launchResult{}, fmt.Errorf("look up onboarding %q: %w", id, err)
	}
	sealed, err := l.sealer.Seal(activities.Contact{Email: r.Email, Contact: r.Contact})
	if err != nil {
		return launchResult{}, err
	}
	within := r.ConfirmWithin
	if within == 0 {
		within = l.cfg.ConfirmWithin
	}
	run, err := l.tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       id,
		TaskQueue:                l.cfg.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes: temporal.NewSearchAttributes(
			workflows.AttrPartner.ValueSet(l.partner), workflows.AttrStage.ValueSet(workflows.StageCreating)),
		StaticSummary: fmt.Sprintf("Onboard %s for partner %s", r.Name, l.partner),
	}, workflows.WorkflowName, workflows.Input{
		PartnerID: l.partner, CustomerName: r.Name, CloudName: r.Cloud, SealedContact: sealed,
		ConfirmWithin: within, ResendAfter: l.cfg.ResendAfter, MaxSends: l.cfg.MaxSends,
	})
	if err != nil {
		return launchResult{}, fmt.Errorf("start onboarding %q: %w", id, err)
	}
	return launchResult{OnboardingID: id, RunID: run.GetRunID(), Launched: true}, nil
}
