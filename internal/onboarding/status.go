package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/customer"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/workflows"
)

// queryTimeout bounds the status query: it needs a worker, and without one
// the status falls back to what the server and the database know.
const queryTimeout = 5 * time.Second

// View is where one onboarding stands, from Temporal and the database.
type View struct {
	OnboardingID     string     `json:"onboarding_id"`
	RunID            string     `json:"run_id,omitempty"`
	PartnerID        string     `json:"partner_id,omitempty"`
	Customer         string     `json:"customer,omitempty"`
	Workflow         string     `json:"workflow,omitempty"` // Temporal's execution status: RUNNING, COMPLETED, ...
	Stage            string     `json:"stage,omitempty"`
	Outcome          string     `json:"outcome,omitempty"`
	SubaccountID     string     `json:"subaccount_id,omitempty"`
	SubaccountStatus string     `json:"subaccount_status,omitempty"`
	DeletedReason    string     `json:"deleted_reason,omitempty"`
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
	CreatedAt        *time.Time `json:"created_at,omitempty"` // when the customer record was created
	CloudCount       int        `json:"cloud_count"`
	Clouds           []Cloud    `json:"clouds,omitempty"` // in Status, not in List
	SuspendedAt      *time.Time `json:"suspended_at,omitempty"`
	DeleteAfter      *time.Time `json:"delete_after,omitempty"` // while suspended: deleted then unless resumed
	SuspendReason    string     `json:"suspend_reason,omitempty"`
	Note             string     `json:"note,omitempty"`
}

// Cloud is one of a customer's clouds.
type Cloud struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Running reports whether the onboarding's workflow still runs.
func (v View) Running() bool { return v.Workflow == "RUNNING" }

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

// applyExecution fills the view from Temporal's record of one run.
func (v *View) applyExecution(info *workflowpb.WorkflowExecutionInfo) {
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
func (v *View) applyStatus(s workflows.Status) {
	v.Stage, v.Outcome = s.Stage, s.Outcome
	v.SubaccountID, v.CloudID = s.SubaccountID, s.CloudID
	v.Deadline, v.EmailsSent = timePtr(s.Deadline), s.EmailsSent
	v.LastSentAt, v.NextResendAt = timePtr(s.LastSentAt), timePtr(s.NextResendAt)
	v.ConfirmedVia, v.Failure = s.ConfirmedVia, s.Failure
}

// applySubaccount fills the view from the system of record.
func (v *View) applySubaccount(sa store.Subaccount) {
	v.OnboardingID = sa.OnboardingID
	v.PartnerID, v.Customer = sa.PartnerID, sa.Name
	v.SubaccountID, v.SubaccountStatus, v.DeletedReason = sa.ID, sa.Status, sa.DeletedReason
	v.CloudName = sa.CloudName
	if sa.CloudID != "" {
		v.CloudID = sa.CloudID
	}
	v.Deadline = timePtr(sa.ConfirmDeadline)
	v.CreatedAt = timePtr(sa.CreatedAt)
	v.CloudCount = sa.Clouds
	v.SuspendedAt, v.DeleteAfter, v.SuspendReason = sa.SuspendedAt, sa.DeleteAfter, sa.SuspendReason
	// The database counts the emails the mail server accepted.
	v.EmailsSent = max(v.EmailsSent, sa.EmailsSent)
	if v.Outcome == "" && sa.Status == customer.StatusInactive {
		// A deleted record tells its outcome even where Temporal's record is gone.
		v.Outcome = sa.DeletedReason
	}
}

// target is what an id given to an action names: an onboarding, the run
// to act on, and its customer record once it exists.
type target struct {
	id    string // the onboarding id
	runID string // empty: the latest run
	sa    *store.Subaccount
}

// resolve finds what an id names — an onboarding id (as `starter add`
// prints it) or a subaccount id — among what the actor may see. Any other
// partner's onboarding is not found, exactly like an unknown one.
func (s *Service) resolve(ctx context.Context, by Actor, id string) (target, error) {
	if sa, err := s.store.Subaccount(ctx, id); err == nil {
		if !by.sees(sa.PartnerID) {
			return target{}, notFound(id)
		}
		return target{id: sa.OnboardingID, runID: sa.RunID, sa: &sa}, nil
	} else if !errors.Is(err, customer.ErrNotFound) {
		return target{}, err
	}
	// No onboarding can have an id the Temporal client could not carry.
	if !carriable(id) || !by.sees(partnerOf(id)) {
		return target{}, notFound(id)
	}
	return target{id: id}, nil
}

// describe returns Temporal's record of a run (the latest when runID is empty).
func (s *Service) describe(ctx context.Context, id, runID string) (*workflowpb.WorkflowExecutionInfo, error) {
	desc, err := s.temporal.DescribeWorkflow(ctx, id, runID)
	if isNotFound(err) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("look up onboarding %q: %w", id, err)
	}
	return desc.RawResponse.GetWorkflowExecutionInfo(), nil
}

// Status says where one onboarding stands: Temporal's record of its run,
// the workflow's own status (its query, or its result once closed) and the
// customer record.
func (s *Service) Status(ctx context.Context, by Actor, id string) (View, error) {
	if err := s.authorize(ctx, by, permRead, "status"); err != nil {
		return View{}, err
	}
	v, sa, err := s.lookup(ctx, by, id)
	if err != nil || sa == nil {
		return v, err
	}
	clouds, err := s.store.Clouds(ctx, sa.ID)
	if err != nil {
		return View{}, err
	}
	for _, c := range clouds {
		v.Clouds = append(v.Clouds, Cloud{ID: c.ID, Name: c.Name, CreatedAt: c.CreatedAt.UTC()})
	}
	return v, nil
}

func (s *Service) lookup(ctx context.Context, by Actor, id string) (View, *store.Subaccount, error) {
	t, err := s.resolve(ctx, by, id)
	if err != nil {
		return View{}, nil, err
	}
	info, err := s.describe(ctx, t.id, t.runID)
	if err != nil {
		return View{}, nil, err
	}
	v := View{OnboardingID: t.id}
	v.applyExecution(info)
	if !by.sees(v.PartnerID) {
		return View{}, nil, notFound(id)
	}
	haveStatus := false
	if info.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		var st workflows.Status
		val, err := s.temporal.QueryWorkflow(qctx, t.id, v.RunID, workflows.QueryStatus)
		if err == nil {
			err = val.Get(&st)
		}
		cancel()
		if err == nil {
			v.applyStatus(st)
			haveStatus = true
		} else {
			v.Note = "no worker answered the status query; stage and emails are as last published"
		}
	} else {
		haveStatus = s.applyResult(ctx, &v)
	}

	sa := t.sa
	if sa == nil || (haveStatus && v.SubaccountID != "" && v.SubaccountID != sa.ID) {
		var row store.Subaccount
		switch {
		case haveStatus && v.SubaccountID != "":
			row, err = s.store.Subaccount(ctx, v.SubaccountID)
		case haveStatus:
			err = customer.ErrNotFound // the record is not created yet
		default:
			row, err = s.store.SubaccountByOnboarding(ctx, t.id)
		}
		switch {
		case err == nil:
			sa = &row
		case !errors.Is(err, customer.ErrNotFound):
			return View{}, nil, err
		}
	}
	if sa != nil {
		v.applySubaccount(*sa)
	}
	return v, sa, nil
}

// applyResult fills the view of a closed run from its history: no worker
// needed. It reports whether the run's own record was read.
func (s *Service) applyResult(ctx context.Context, v *View) bool {
	var res workflows.Result
	err := s.temporal.GetWorkflow(ctx, v.OnboardingID, v.RunID).Get(ctx, &res)
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			v.Failure = appErr.Message()
		} else {
			v.Failure = oneLine(err.Error())
		}
		if v.Stage == "" || v.Stage == workflows.StageCreating {
			v.Stage = workflows.StageFailed
		}
		return false
	}
	v.Outcome, v.Stage = res.Outcome, workflows.StageDone
	v.SubaccountID, v.CloudID, v.EmailsSent = res.SubaccountID, res.CloudID, res.EmailsSent
	v.Deadline = timePtr(res.Deadline)
	if res.Outcome == workflows.OutcomeActive {
		v.ConfirmedVia = s.confirmedVia(ctx, v.OnboardingID, v.RunID)
	}
	return true
}

// dataConverter decodes payloads as the client does.
func (s *Service) dataConverter() converter.DataConverter {
	if dc := s.cfg.Temporal.DataConverter; dc != nil {
		return dc
	}
	return converter.GetDefaultDataConverter()
}

// confirmedVia reads how an ACTIVE onboarding was confirmed from its
// history: the first confirm signal is the one the wait took.
func (s *Service) confirmedVia(ctx context.Context, id, runID string) string {
	it := s.temporal.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return ""
		}
		a := e.GetWorkflowExecutionSignaledEventAttributes()
		if a == nil || a.GetSignalName() != workflows.SignalConfirm {
			continue
		}
		var c workflows.Confirm
		// History events come as stored: encrypted by the payload codec.
		if p := a.GetInput().GetPayloads(); len(p) == 1 && s.dataConverter().FromPayload(p[0], &c) == nil {
			return c.Via
		}
		return ""
	}
	return ""
}
