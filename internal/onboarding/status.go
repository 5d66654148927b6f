package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/text"
	"github.com/cloudpartners/onboarding/workflows"
)

// queryTimeout bounds the status query: it needs a worker, and without one
// the status falls back to what the server and the database know.
const queryTimeout = 5 * time.Second

// View is where one onboarding stands, from Temporal and the database.
type View struct {
	OnboardingID     string
	RunID            string
	PartnerID        string
	Customer         string
	Workflow         string // Temporal's execution status: RUNNING, COMPLETED, ...
	Stage            string
	Outcome          string
	SubaccountID     string
	SubaccountStatus string
	DeletedReason    string
	CloudName        string
	CloudID          string
	Deadline         *time.Time
	EmailsSent       int
	LastSentAt       *time.Time
	NextResendAt     *time.Time
	ConfirmedVia     string
	Failure          string
	StartedAt        *time.Time
	ClosedAt         *time.Time
	CreatedAt        *time.Time // when the customer record was created
	CloudCount       int
	Clouds           []domain.Cloud // in Status, not in List
	SuspendedAt      *time.Time
	DeleteAfter      *time.Time // while suspended: deleted then unless resumed
	SuspendReason    string
	Note             string
	Pending          []domain.Request // requests accepted, not carried out yet (in Status)
	taskQueue        string           // the run's, where an update goes
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
	v.RunID, v.taskQueue = info.GetExecution().GetRunId(), info.GetTaskQueue()
	v.Workflow = strings.ToUpper(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
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
func (v *View) applySubaccount(sa domain.Subaccount) {
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
	v.Pending = sa.Pending
	// The database counts the emails the mail server accepted.
	v.EmailsSent = max(v.EmailsSent, sa.EmailsSent)
	if v.LastSentAt == nil {
		v.LastSentAt = sa.LastSentAt
	}
	// How the customer answered is in the record: no history is read.
	if v.ConfirmedVia == "" && sa.Answer == domain.AnswerConfirm && sa.Status != domain.StatusAcceptanceRequired {
		v.ConfirmedVia = sa.AnswerVia
	}
	if v.Stage == "" {
		v.Stage = sa.Stage()
	}
	if v.Outcome == "" {
		// A deleted record tells its outcome even where Temporal's record is gone.
		v.Outcome = sa.Outcome()
	}
}

// found is what a reference an action was given names: the customer
// record, when it exists, and the onboarding.
type found struct {
	id     string // the onboarding id
	runID  string // the run that made the record; "" for the latest
	sa     *domain.Subaccount
	clouds []domain.Cloud
}

// find looks up what a reference names — a subaccount id or an onboarding
// id (as `starter add` prints it) — among what the actor may see, with one
// indexed query: another partner's is not found, exactly like an unknown
// one, from the store's WHERE. An onboarding that has not created its
// record yet is found by its id alone, when the id is the actor's partner's.
func (s *Service) find(ctx context.Context, by domain.Actor, ref string) (found, error) {
	sa, clouds, err := s.store.Customer(ctx, by.Scope(), ref)
	switch {
	case err == nil:
		return found{id: sa.OnboardingID, runID: sa.RunID, sa: &sa, clouds: clouds}, nil
	case !errors.Is(err, domain.ErrNotFound):
		return found{}, err
	}
	// No onboarding can have an id the Temporal client could not carry.
	if !workflows.Carriable(ref) || workflows.PartnerOf(ref) == "" || !by.Sees(workflows.PartnerOf(ref)) {
		return found{}, notFound(ref)
	}
	return found{id: ref}, nil
}

// notFound is a reference that names nothing the actor may see.
func notFound(ref string) error {
	return domain.NotFoundf("no customer or onboarding %q", text.Truncate(ref, 120))
}

// describe returns Temporal's record of a run (the latest when runID is empty).
func (s *Service) describe(ctx context.Context, id, runID string) (*workflowpb.WorkflowExecutionInfo, error) {
	desc, err := s.temporal.DescribeWorkflow(ctx, id, runID)
	if request.IsNotFound(err) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("look up onboarding %q: %w", id, err)
	}
	return desc.RawResponse.GetWorkflowExecutionInfo(), nil
}

// Status says where one onboarding stands: Temporal's record of its run,
// the workflow's own status (its query, or its result once closed) and the
// customer record with its clouds.
func (s *Service) Status(ctx context.Context, by domain.Actor, ref string) (View, error) {
	if err := by.Authorize(domain.Read, "status"); err != nil {
		return View{}, err
	}
	f, err := s.find(ctx, by, ref)
	if err != nil {
		return View{}, err
	}
	return s.view(ctx, by, f)
}

// execution is Temporal's record of the run a reference found, as a
// view; not found when the actor may not see its partner.
func (s *Service) execution(ctx context.Context, by domain.Actor, f found) (View, error) {
	info, err := s.describe(ctx, f.id, f.runID)
	if err != nil {
		return View{}, err
	}
	v := View{OnboardingID: f.id}
	v.applyExecution(info)
	if !by.Sees(v.PartnerID) {
		return View{}, notFound(f.id)
	}
	return v, nil
}

// view joins what the store found with Temporal's record of the run.
func (s *Service) view(ctx context.Context, by domain.Actor, f found) (View, error) {
	v, err := s.execution(ctx, by, f)
	if err != nil {
		return View{}, err
	}
	haveStatus := false
	if v.Running() {
		qctx, cancel := context.WithTimeout(ctx, queryTimeout)
		var st workflows.Status
		val, err := s.temporal.QueryWorkflow(qctx, f.id, v.RunID, workflows.QueryStatus)
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
	sa := f.sa
	if sa == nil && haveStatus && v.SubaccountID != "" {
		// Created since the look-up.
		if row, clouds, err := s.store.Customer(ctx, by.Scope(), v.SubaccountID); err == nil {
			sa, f.clouds = &row, clouds
		}
	}
	if sa != nil {
		v.applySubaccount(*sa)
		v.Clouds = f.clouds
	}
	return v, nil
}

// applyResult fills the view of a closed run from its result: no worker
// needed. It reports whether the run's own record was read.
func (s *Service) applyResult(ctx context.Context, v *View) bool {
	var res workflows.Result
	err := s.temporal.GetWorkflow(ctx, v.OnboardingID, v.RunID).Get(ctx, &res)
	if err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) {
			v.Failure = appErr.Message()
		} else {
			v.Failure = text.OneLine(err.Error())
		}
		if v.Stage == "" || v.Stage == workflows.StageCreating {
			v.Stage = workflows.StageFailed
		}
		return false
	}
	v.Outcome, v.Stage = res.Outcome, workflows.StageDone
	v.SubaccountID, v.CloudID, v.EmailsSent = res.SubaccountID, res.CloudID, res.EmailsSent
	v.Deadline = timePtr(res.Deadline)
	return true
}

// Progress is where a customer stands as its record alone shows it — one
// indexed query, no Temporal: what a page that follows a customer polls.
func (s *Service) Progress(ctx context.Context, by domain.Actor, subaccountID string) (domain.Subaccount, error) {
	if err := by.Authorize(domain.Read, "status"); err != nil {
		return domain.Subaccount{}, err
	}
	return s.store.Subaccount(ctx, by.Scope(), subaccountID)
}

// Customer is everything a customer's page shows of it: where it stands
// and its contact details, masked for those without the personal-data
// permission.
type Customer struct {
	View
	Email        string
	Contact      string
	PersonalData bool // false: Email and Contact are masked
	Organization domain.Organization
	Display      string // the status as people read it
	Answer       string
	// Progress is the stage as the record shows it (domain.Subaccount.Stage):
	// what Progress answers, so a page that polls it compares like with like.
	Progress string
}

// Customer reads one customer for its page: status, details and clouds.
func (s *Service) Customer(ctx context.Context, by domain.Actor, ref string) (Customer, error) {
	if err := by.Authorize(domain.Read, "read a customer"); err != nil {
		return Customer{}, err
	}
	f, err := s.find(ctx, by, ref)
	if err != nil {
		return Customer{}, err
	}
	v, err := s.view(ctx, by, f)
	if err != nil {
		return Customer{}, err
	}
	if f.sa == nil {
		return Customer{View: v, Display: "Starting"}, nil
	}
	sa := *f.sa
	c := Customer{View: v, Email: sa.Email, Contact: sa.Contact, PersonalData: by.PersonalData,
		Organization: sa.Organization(), Display: domain.DisplayStatus(sa.Status, sa.DeletedReason), Answer: sa.Answer, Progress: sa.Stage()}
	if !by.PersonalData {
		c.Email, c.Contact = domain.MaskEmail(sa.Email), domain.MaskText(sa.Contact)
	}
	return c, nil
}

// Request is one request sent to an onboarding or a customer — where it
// stands: accepted, done or refused — as the actor may see it: another
// partner's is not found.
func (s *Service) Request(ctx context.Context, by domain.Actor, id string) (domain.Request, error) {
	if err := by.Authorize(domain.Read, "read a request"); err != nil {
		return domain.Request{}, err
	}
	return s.store.Request(ctx, by.Scope(), id)
}
