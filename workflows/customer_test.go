package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"github.com/uber-go/tally/v4"
	sdktally "go.temporal.io/sdk/contrib/tally"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
)

// lifeHarness runs one customer workflow with mocked activities.
type lifeHarness struct {
	t       *testing.T
	env     *testsuite.TestWorkflowEnvironment
	calls   []string // activities run, in order
	status  []string // SubaccountStatus upserts
	expired bool
	metrics tally.TestScope
}

// newLifeHarness mocks each activity with its usual behaviour; own mocks,
// registered by first, take precedence.
func newLifeHarness(t *testing.T, first ...func(*testsuite.TestWorkflowEnvironment)) *lifeHarness {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	metrics := tally.NewTestScope("", nil)
	s.SetMetricsHandler(sdktally.NewMetricsHandler(metrics))
	h := &lifeHarness{t: t, env: s.NewTestWorkflowEnvironment(), metrics: metrics}
	onlyDeclared(t, metrics, CustomerWorkflowName)
	h.env.SetStartTime(start)
	h.env.RegisterActivity(&activities.Activities{})
	h.env.RegisterWorkflowWithOptions(Customer, workflow.RegisterOptions{Name: CustomerWorkflowName})
	for _, f := range first {
		f(h.env)
	}
	h.env.OnActivity(a.AddCloud, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.AddCloudInput) (activities.CloudCreated, error) {
			h.calls = append(h.calls, "add-cloud "+in.Name)
			require.Equal(t, CloudID(subID, in.Name), in.CloudID, "the cloud id follows from subaccount and name")
			return activities.CloudCreated{CloudID: in.CloudID, Name: in.Name, Created: true}, nil
		}).Maybe()
	h.env.OnActivity(a.Suspend, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SuspendInput) (activities.Account, error) {
			h.calls = append(h.calls, "suspend")
			require.True(t, in.DeleteAfter.After(in.At))
			return activities.Account{SubaccountID: subID, Status: domain.StatusSuspended, SuspensionID: in.SuspensionID, DeleteAfter: in.DeleteAfter}, nil
		}).Maybe()
	h.env.OnActivity(a.Resume, mock.Anything, subID).Return(
		func(_ context.Context, _ string) (activities.Account, error) {
			h.calls = append(h.calls, "resume")
			return activities.Account{SubaccountID: subID, Status: domain.StatusActive}, nil
		}).Maybe()
	h.env.OnActivity(a.ExpireSuspension, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ExpireInput) (activities.Account, error) {
			h.calls = append(h.calls, "expire")
			h.expired = true
			return activities.Account{SubaccountID: subID, Status: domain.StatusInactive}, nil
		}).Maybe()
	h.env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, ok := sa.GetKeyword(AttrSubaccountStatus); ok {
			h.status = append(h.status, v)
		}
	}).Return(nil).Maybe()
	return h
}

func lifeInput() CustomerInput {
	return CustomerInput{PartnerID: "acme", SubaccountID: subID, CustomerName: "ACME Corp", Status: domain.StatusActive}
}

// do sends an update at start+d; the result or error lands in res.
type updateResult struct {
	value    any
	err      error
	rejected error
}

func (h *lifeHarness) do(d time.Duration, name string, res *updateResult, args ...any) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
			OnAccept:   func() {},
			OnReject:   func(err error) { res.rejected = err },
			OnComplete: func(v any, err error) { res.value, res.err = v, err },
		}, args...)
	}, d)
}

func (h *lifeHarness) query() CustomerStatus {
	h.t.Helper()
	v, err := h.env.QueryWorkflow(QueryCustomer)
	require.NoError(h.t, err)
	var s CustomerStatus
	require.NoError(h.t, v.Get(&s))
	return s
}

func TestSuspensionRunsOut(t *testing.T) {
	h := newLifeHarness(t)
	var cloud, susp, again updateResult
	h.do(time.Hour, UpdateAddCloud, &cloud, CloudRequest{Name: "second-cloud"})
	h.do(2*time.Hour, UpdateSuspend, &susp, SuspendRequest{Reason: "unpaid"})
	h.do(3*time.Hour, UpdateSuspend, &again, SuspendRequest{Reason: "twice"})
	h.env.ExecuteWorkflow(Customer, lifeInput())
	require.True(t, h.env.IsWorkflowCompleted())
	require.NoError(t, h.env.GetWorkflowError())
	var r CustomerResult
	require.NoError(t, h.env.GetWorkflowResult(&r))
	require.Equal(t, domain.ReasonSuspensionExpired, r.Outcome)
	// 60 days of retention, skipped: deleted exactly then.
	require.Equal(t, start.Add(2*time.Hour+domain.DefaultRetention), r.DeletedAt)
	require.Equal(t, []string{"add-cloud second-cloud", "suspend", "expire"}, h.calls, "suspending twice is one suspension")
	require.True(t, cloud.value.(CloudResult).Created)
	s := susp.value.(CustomerStatus)
	require.Equal(t, domain.StatusSuspended, s.Status)
	require.Equal(t, "unpaid", s.Suspension.Reason)
	require.Equal(t, s.Suspension.ID, again.value.(CustomerStatus).Suspension.ID)
	require.Equal(t, []string{domain.StatusSuspended, domain.StatusInactive}, h.status)
	// Each counted once: the second suspend changed nothing.
	require.EqualValues(t, 1, counted(h.metrics, MetricCloudsCreated, "when", "later"))
	require.EqualValues(t, 1, counted(h.metrics, MetricSuspended))
	require.EqualValues(t, 1, counted(h.metrics, MetricSuspensionsExpired))
	require.Zero(t, counted(h.metrics, MetricResumed))
}

func TestResumeCancelsTheDeletion(t *testing.T) {
	h := newLifeHarness(t)
	var susp, res, res2, cloudWhileSuspended, cloudAfter updateResult
	h.do(time.Hour, UpdateSuspend, &susp, SuspendRequest{Retention: 48 * time.Hour})
	h.do(2*time.Hour, UpdateAddCloud, &cloudWhileSuspended, CloudRequest{Name: "blocked-cloud"})
	h.do(24*time.Hour, UpdateResume, &res)
	h.do(25*time.Hour, UpdateResume, &res2)
	h.do(26*time.Hour, UpdateAddCloud, &cloudAfter, CloudRequest{Name: "later-cloud"})
	// Well past the first suspension's deadline: nothing is deleted.
	h.env.RegisterDelayedCallback(func() {
		s := h.query()
		require.Equal(t, domain.StatusActive, s.Status)
		require.Nil(t, s.Suspension)
		h.env.CancelWorkflow()
	}, 100*time.Hour)
	h.env.ExecuteWorkflow(Customer, lifeInput())
	require.True(t, h.env.IsWorkflowCompleted())
	require.False(t, h.expired, "a resume before the deadline cancels the deletion")
	require.ErrorContains(t, cloudWhileSuspended.rejected, "suspended; resume its services first", "no new cloud while suspended")
	require.Equal(t, domain.StatusActive, res.value.(CustomerStatus).Status)
	require.Equal(t, domain.StatusActive, res2.value.(CustomerStatus).Status)
	require.Equal(t, []string{"suspend", "resume", "add-cloud later-cloud"}, h.calls, "resuming twice is one resume")
	require.Equal(t, []string{domain.StatusSuspended, domain.StatusActive}, h.status)
	require.EqualValues(t, 1, counted(h.metrics, MetricSuspended))
	require.EqualValues(t, 1, counted(h.metrics, MetricResumed), "the second resume changed nothing")
	require.Zero(t, counted(h.metrics, MetricSuspensionsExpired))
}

func TestLifecycleRefusals(t *testing.T) {
	h := newLifeHarness(t)
	var badName, badRetention, badReason updateResult
	h.do(time.Hour, UpdateAddCloud, &badName, CloudRequest{Name: "Not A Name"})
	h.do(time.Hour, UpdateSuspend, &badRetention, SuspendRequest{Retention: 61 * 24 * time.Hour})
	h.do(time.Hour, UpdateSuspend, &badReason, SuspendRequest{Reason: "two\nlines"})
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 2*time.Hour)
	h.env.ExecuteWorkflow(Customer, lifeInput())
	require.ErrorIs(t, badName.rejected, domain.ErrInvalid)
	require.ErrorIs(t, badRetention.rejected, domain.ErrInvalid)
	require.ErrorIs(t, badReason.rejected, domain.ErrInvalid)
	require.Empty(t, h.calls, "a refused operation runs nothing")
	require.Zero(t, h.query().Operations)
}

func TestRefusedByTheStore(t *testing.T) {
	h := newLifeHarness(t, func(env *testsuite.TestWorkflowEnvironment) {
		env.OnActivity(a.AddCloud, mock.Anything, mock.Anything).Return(activities.CloudCreated{},
			temporal.NewNonRetryableApplicationError("the customer's services are stopped", domain.ErrSuspended.Code, errors.New("suspended"))).Once()
	})
	var taken updateResult
	h.do(time.Hour, UpdateAddCloud, &taken, CloudRequest{Name: "acme-prod"})
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, 2*time.Hour)
	h.env.ExecuteWorkflow(Customer, lifeInput())
	var app *temporal.ApplicationError
	require.ErrorAs(t, taken.err, &app)
	require.Equal(t, domain.ErrSuspended.Code, app.Type())
}

func TestExpiredWhileTheWorkerWasAway(t *testing.T) {
	// A run that starts (continues) after its suspension's deadline deletes at once.
	h := newLifeHarness(t)
	in := lifeInput()
	in.Status = domain.StatusSuspended
	in.Suspension = &Suspension{ID: "44444444-4444-4444-8444-444444444444", At: start.Add(-61 * 24 * time.Hour), DeleteAfter: start.Add(-time.Hour)}
	h.env.ExecuteWorkflow(Customer, in)
	require.NoError(t, h.env.GetWorkflowError())
	require.Equal(t, []string{"expire"}, h.calls)
}

func TestContinueAsNewCarriesTheState(t *testing.T) {
	h := newLifeHarness(t)
	in := lifeInput()
	in.Operations = 7
	results := make([]updateResult, maxRunOperations)
	for i := range results {
		h.do(time.Duration(i+1)*time.Minute, UpdateAddCloud, &results[i], CloudRequest{Name: "cloud-" + string(rune('a'+i%26)) + "x"})
	}
	h.env.ExecuteWorkflow(Customer, in)
	require.True(t, h.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	require.ErrorAs(t, h.env.GetWorkflowError(), &can)
	require.Equal(t, CustomerWorkflowName, can.WorkflowType.Name)
	for i, r := range results {
		require.NoError(t, r.err, i)
		require.NoError(t, r.rejected, i)
	}
}
