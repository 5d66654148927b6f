package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// queryTimeout bounds the status query: it needs a worker, and without one
// the CLI falls back to what the server and the database know.
const queryTimeout = 5 * time.Second

// view is where one onboarding stands, from Temporal and the database.
type view struct {
	OnboardingID     string     `json:"onboarding_id"`
	RunID            string     `json:"run_id,omitempty"`
	PartnerID        string     `json:"partner_id,omitempty"`
	Customer         string     `json:"customer,omitempty"`
	Workflow         string     `json:"workflow,omitempty"` // Temporal's execution status: RUNNING, COMPLETED, ...
	Stage            string     `json:"stage,omitempty"`
	Outcome          string     `json:"outcome,omitempty"`
	SubaccountID     string     `json:"subaccount_id,omitempty"`
	SubaccountStatus string     `json:"subaccount_status,omitempty"`
	CloudName        string     `json:"cloud_name,omitempty"`
	CloudID          string     `json:"cloud_id,omitempty"`
	Deadline         *time.Time `json:"deadline,omitempty"`
	EmailsSent       int        `json:"emails_sent"`
	LastSentAt       *time.Time `json:"last_sent_at,omitempty"`
	NextResendAt     *time.Time `json:"next_resend_at,omitempty"`
	ConfirmedVia     string     `json:"confirmed_via,omitempty"`
	Failure          string     `json:"failure,omitempty"`
	StartedAt        *time.Time `json:"started_at,omitempty"`
	ClosedAt         *time.Time `json:"closed_at,omitempty"`
	Note             string     `json:"note,omitempty"`

	sortAt time.Time // when the record was created, or the run started
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// applyExecution fills the view from Temporal's record of one run.
func (v *view) applyExecution(info *workflowpb.WorkflowExecutionInfo) {
	v.RunID = info.GetExecution().GetRunId()
	v.Workflow = strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")
	v.Workflow = strings.ToUpper(v.Workflow)
	v.StartedAt = timePtr(info.GetStartTime().AsTime())
	if info.GetCloseTime() != nil {
		v.ClosedAt = timePtr(info.GetCloseTime().AsTime())
	}
	fields := info.GetSearchAttributes().GetIndexedFields()
	if s := keyword(fields, workflows.AttrPartner); s != "" {
		v.PartnerID = s
	}
	v.Stage = keyword(fields, workflows.AttrStage)
	v.Outcome = keyword(fields, workflows.AttrOutcome)
	if v.Outcome != "" {
		v.Stage = workflows.StageDone // the workflow publishes the outcome as its final stage
	}
}

func keyword(fields map[string]*commonpb.Payload, key temporal.SearchAttributeKeyKeyword) string {
	p, ok := fields[key.GetName()]
	if !ok {
		return ""
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(p, &s); err != nil {
		return ""
	}
	return s
}

// applyStatus fills the view from the workflow's own answer.
func (v *view) applyStatus(s workflows.Status) {
	v.Stage, v.Outcome = s.Stage, s.Outcome
	v.SubaccountID, v.CloudID = s.SubaccountID, s.CloudID
	v.Deadline, v.EmailsSent = timePtr(s.Deadline), s.EmailsSent
	v.LastSentAt, v.NextResendAt = timePtr(s.LastSentAt), timePtr(s.NextResendAt)
	v.ConfirmedVia, v.Failure = s.ConfirmedVia, s.Failure
}

// applySubaccount fills the view from the system of record.
func (v *view) applySubaccount(sa store.Subaccount) {
	v.PartnerID, v.Customer = sa.PartnerID, sa.Name
	v.SubaccountID, v.SubaccountStatus = sa.ID, sa.Status
	v.CloudName = sa.CloudName
	if sa.CloudID != "" {
		v.CloudID = sa.CloudID
	}
	v.Deadline = timePtr(sa.ConfirmDeadline)
	// The database counts the emails the mail server accepted.
	v.EmailsSent = max(v.EmailsSent, sa.EmailsSent)
}

// lookup reads where one onboarding stands: Temporal's record of its latest
// run, the workflow's status (its query, or its result once closed) and the
// subaccount row.
func lookup(ctx context.Context, e *env, id string) (view, *store.Subaccount, error) {
	tc, err := e.temporal(ctx)
	if err != nil {
		return view{}, nil, err
	}
	st, err := e.store(ctx)
	if err != nil {
		return view{}, nil, err
	}
	desc, err := tc.DescribeWorkflowExecution(ctx, id, "")
	if isNotFound(err) {
		return view{}, nil, errNoOnboarding(id)
	}
	if err != nil {
		return view{}, nil, fmt.Errorf("look up onboarding %q: %w", id, err)
	}
	v := view{OnboardingID: id}
	info := desc.GetWorkflowExecutionInfo()
	v.applyExecution(info)

	haveStatus := false
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		var s workflows.Status
		val, err := tc.QueryWorkflow(qctx, id, v.RunID, workflows.QueryStatus)
		if err == nil {
			err = val.Get(&s)
		}
		cancel()
		if err == nil {
			v.applyStatus(s)
			haveStatus = true
		} else {
			v.Note = "no worker answered the status query; stage and emails are as last published"
		}
	} else {
		// A closed run's result is in its history: no worker needed.
		var res workflows.Result
		err := tc.GetWorkflow(ctx, id, v.RunID).Get(ctx, &res)
		switch {
		case err == nil:
			v.Outcome, v.Stage = res.Outcome, workflows.StageDone
			v.SubaccountID, v.CloudID, v.EmailsSent = res.SubaccountID, res.CloudID, res.EmailsSent
			v.Deadline = timePtr(res.Deadline)
			haveStatus = true
		default:
			var appErr *temporal.ApplicationError
			if errors.As(err, &appErr) {
				v.Failure = appErr.Message()
			} else {
				v.Failure = oneLine(err.Error())
			}
			if v.Stage == "" || v.Stage == workflows.StageCreating {
				v.Stage = workflows.StageFailed
			}
		}
	}

	var sa store.Subaccount
	if haveStatus && v.SubaccountID != "" {
		sa, err = st.Subaccount(ctx, v.SubaccountID)
	} else if !haveStatus {
		sa, err = st.SubaccountByOnboarding(ctx, id)
	} else {
		err = store.ErrNotFound // the record is not created yet
	}
	switch {
	case err == nil:
		v.applySubaccount(sa)
		return v, &sa, nil
	case !errors.Is(err, store.ErrNotFound):
		return view{}, nil, err
	}
	return v, nil, nil
}

func runStatus(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("status", "status ID [--json]", `
Show where one onboarding stands: its stage, outcome, subaccount status,
confirmation deadline and the emails sent. ID is the onboarding id that
"starter add" and "starter list" print; quote it, it may contain spaces.`)
	id, err := parseID(fs, args)
	if err != nil {
		return err
	}
	v, _, err := lookup(ctx, e, id)
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if e.json {
		return e.printJSON(v)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	row := func(k, val string) {
		if val != "" {
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
	row("Cloud", strings.TrimSpace(v.CloudName+" "+v.CloudID))
	row("Deadline", fmtTime(v.Deadline))
	row("Emails sent", fmt.Sprint(v.EmailsSent))
	row("Last sent", fmtTime(v.LastSentAt))
	row("Next resend", fmtTime(v.NextResendAt))
	row("Confirmed via", v.ConfirmedVia)
	row("Failure", v.Failure)
	row("Note", v.Note)
	return tw.Flush()
}

// statusLabel shows a subaccount status as people know it.
func statusLabel(s string) string {
	if s == store.StatusAcceptanceRequired {
		return s + " (Verification required)"
	}
	return s
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

var subaccountStatuses = []string{store.StatusAcceptanceRequired, store.StatusActive, store.StatusSuspended, store.StatusInactive}

func runList(ctx context.Context, e *env, args []string) error {
	fs := e.flagSet("list", "list [--partner ID] [--status S] [--limit N] [--json]", `
List onboardings, newest first, with their stage, outcome, subaccount status,
deadline and emails sent: one row per customer record. Onboardings that have
not created their record yet (or failed before) are listed too unless
--status is given.`)
	partner := fs.String("partner", "", "only this partner's onboardings")
	status := fs.String("status", "", "only subaccounts with this status: "+strings.Join(subaccountStatuses, ", "))
	limit := fs.Int("limit", 200, "at most this many rows, 1-1000")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	*status = strings.ToUpper(strings.TrimSpace(*status))
	if *status != "" && !slices.Contains(subaccountStatuses, *status) {
		return usagef("list: --status %q is not a subaccount status; want one of %s", truncate(*status, 40), strings.Join(subaccountStatuses, ", "))
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("list: --limit %d is out of range; want 1 to 1000", *limit)
	}
	if *partner != "" {
		if err := checkPartnerID(*partner); err != nil {
			return fmt.Errorf("list: %w", err)
		}
	}
	views, err := list(ctx, e, *partner, *status, *limit)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if e.json {
		if views == nil {
			views = []view{}
		}
		return e.printJSON(struct {
			Onboardings []view `json:"onboardings"`
		}{views})
	}
	if len(views) == 0 {
		e.printf("No onboardings found.\n")
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ONBOARDING\tCUSTOMER\tSTAGE\tOUTCOME\tSUBACCOUNT\tDEADLINE\tEMAILS")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\n", v.OnboardingID, dash(v.Customer), dash(v.Stage), dash(v.Outcome),
			dash(v.SubaccountStatus), dash(fmtTime(v.Deadline)), v.EmailsSent)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// safeQueryValue matches values that can go into a visibility query as they are.
var safeQueryValue = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,200}$`)

// maxVisibilityPages bounds how much of Temporal's visibility list is read.
const maxVisibilityPages = 10

// list joins the subaccounts in the database with the runs Temporal's
// visibility knows: each subaccount gets the run of its onboarding id that
// started last before the subaccount was created.
func list(ctx context.Context, e *env, partner, status string, limit int) ([]view, error) {
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	tc, err := e.temporal(ctx)
	if err != nil {
		return nil, err
	}
	subs, err := st.ListSubaccounts(ctx, store.Filter{PartnerID: partner, Status: status, Limit: limit})
	if err != nil {
		return nil, err
	}
	query := fmt.Sprintf("WorkflowType = '%s'", workflows.WorkflowName)
	if cfg, err := e.config(); err == nil && safeQueryValue.MatchString(cfg.TaskQueue) {
		// One namespace may serve several deployments; show this one's.
		query += fmt.Sprintf(" AND TaskQueue = '%s'", cfg.TaskQueue)
	}
	if partner != "" {
		// partner matched checkPartnerID, so it holds no quote.
		query += fmt.Sprintf(" AND %s = '%s'", workflows.AttrPartner.GetName(), partner)
	}
	runs := map[string][]*workflowpb.WorkflowExecutionInfo{} // by workflow id, newest first
	var order []*workflowpb.WorkflowExecutionInfo
	var token []byte
	for page := 0; page < maxVisibilityPages; page++ {
		resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return nil, fmt.Errorf("list onboardings in Temporal: %w", err)
		}
		for _, info := range resp.GetExecutions() {
			id := info.GetExecution().GetWorkflowId()
			runs[id] = append(runs[id], info)
			order = append(order, info)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	for _, rs := range runs {
		slices.SortFunc(rs, func(a, b *workflowpb.WorkflowExecutionInfo) int {
			return b.GetStartTime().AsTime().Compare(a.GetStartTime().AsTime())
		})
	}

	// Join greedily, newest first on both sides: each run creates at most
	// one subaccount, shortly after it starts (allowing for clock skew
	// between the database and Temporal).
	matched := map[string]bool{} // run ids joined with a subaccount
	var out []view
	for _, sa := range subs {
		v := view{OnboardingID: sa.OnboardingID, sortAt: sa.CreatedAt}
		for _, info := range runs[sa.OnboardingID] {
			if !matched[info.GetExecution().GetRunId()] && !info.GetStartTime().AsTime().After(sa.CreatedAt.Add(time.Minute)) {
				v.applyExecution(info)
				matched[info.GetExecution().GetRunId()] = true
				break
			}
		}
		v.applySubaccount(sa)
		out = append(out, v)
	}
	if status == "" {
		// Runs without a record: just launched, or failed before creating it.
		for _, info := range order {
			if matched[info.GetExecution().GetRunId()] {
				continue
			}
			v := view{OnboardingID: info.GetExecution().GetWorkflowId(), sortAt: info.GetStartTime().AsTime()}
			v.applyExecution(info)
			out = append(out, v)
		}
	}
	slices.SortStableFunc(out, func(a, b view) int { return b.sortAt.Compare(a.sortAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
