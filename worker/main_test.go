package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/seal"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// -record adds to workflows/testdata/histories the histories of these real
// runs that are not there yet (make record-histories). A history that is
// there was recorded by released code and stands for onboardings in
// flight: it is never overwritten.
var record = flag.Bool("record", false, "record the histories of these runs that are missing, for the replay tests")

const secret = "worker-test-secret-0123456789abcdefghij"

// stack is one worker run in-process through run(), with its own database
// and task queue, against the real Temporal, Postgres and mailpit.
type stack struct {
	t      *testing.T
	addr   string // the worker's health and metrics address
	st     *store.Store
	dsn    string
	stop   func() // stops the worker last started
	c      client.Client
	tq     string
	sealer *seal.Sealer
	signer *links.Signer
	drv    *testenv.Driver // the actions, as the starter takes them
}

func startWorker(t *testing.T, vars map[string]string) *stack {
	testenv.RequireStack(t)
	st, dsn := testenv.NewStore(t)
	s := &stack{t: t, st: st, tq: "tq-" + testenv.Suffix(), dsn: dsn}
	env := s.runWorker(vars)
	sealer, err := seal.New([]byte(secret))
	require.NoError(t, err)
	s.drv = testenv.NewDriver(t, env)
	s.c, s.sealer, s.signer = s.drv.Temporal, sealer, links.NewSigner([]byte(secret))
	return s
}

// startWorkerOn runs another worker, say with other settings, on the same
// database and task queue.
func startWorkerOn(t *testing.T, s *stack, vars map[string]string) {
	t.Helper()
	s.runWorker(vars)
}

// runWorker runs the worker in-process through run() until the test ends,
// and returns its environment.
func (s *stack) runWorker(vars map[string]string) map[string]string {
	t := s.t
	addr := testenv.FreePort(t)
	s.addr = addr
	env := map[string]string{"DATABASE_URL": s.dsn, "TASK_QUEUE": s.tq, "WORKER_ADDR": addr,
		"ONBOARDING_SECRET": secret, "RESEND_MIN_INTERVAL": "1s"}
	for k, v := range vars {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, testenv.Getenv(env), io.Discard, io.Discard) }()
	stopped := false
	s.stop = func() {
		if !stopped {
			stopped = true
			cancel()
			require.NoError(t, <-done)
		}
	}
	t.Cleanup(s.stop)
	return env
}

func (s *stack) launch(partner, name, email string, within time.Duration) client.WorkflowRun {
	s.t.Helper()
	l := s.drv.Launch(partner, onboarding.NewCustomer{Name: name, Email: email, Cloud: "main", ConfirmWithin: within})
	return s.c.GetWorkflow(context.Background(), l.OnboardingID, l.RunID)
}

func (s *stack) status(run client.WorkflowRun) workflows.Status {
	s.t.Helper()
	v, err := s.c.QueryWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.QueryStatus)
	require.NoError(s.t, err)
	var st workflows.Status
	require.NoError(s.t, v.Get(&st))
	return st
}

func (s *stack) waitStage(run client.WorkflowRun, stage string) {
	s.t.Helper()
	testenv.Eventually(s.t, 20*time.Second, "stage "+stage, func() bool { return s.status(run).Stage == stage })
}

func (s *stack) result(run client.WorkflowRun) (workflows.Result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var r workflows.Result
	err := run.Get(ctx, &r)
	return r, err
}

// save writes the run's history for the replay tests when -record is set.
func (s *stack) save(run client.WorkflowRun, name string) {
	s.t.Helper()
	if !*record {
		return
	}
	var h historypb.History
	it := s.c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, 0)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(s.t, err)
		h.Events = append(h.Events, e)
	}
	b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(&h)
	require.NoError(s.t, err)
	dir := filepath.Join(testenv.ModuleRoot(s.t), "workflows", "testdata", "histories")
	require.NoError(s.t, os.MkdirAll(dir, 0o755))
	f, err := os.OpenFile(filepath.Join(dir, name+".json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		s.t.Logf("history %s is recorded already: kept as it is", name)
		return
	}
	require.NoError(s.t, err)
	defer f.Close()
	_, err = f.Write(b)
	require.NoError(s.t, err)
}

func newCustomer(t *testing.T, s *stack) (partner, email string) {
	partner = "p-" + testenv.Suffix()
	_, err := s.st.AddPartner(context.Background(), partner, "Partner "+partner, nil)
	require.NoError(t, err)
	return partner, "owner-" + testenv.Suffix() + "@customer.example"
}

func TestHappyPathEndToEnd(t *testing.T) {
	s := startWorker(t, map[string]string{"PUBLIC_BASE_URL": "http://127.0.0.1:8088"})
	partner, email := newCustomer(t, s)
	run := s.launch(partner, "Happy Customer", email, time.Hour)

	// The link comes from the real email in mailpit.
	msgs := testenv.WaitMail(t, email, 1, 20*time.Second)
	token := strings.TrimPrefix(testenv.LinkIn(t, msgs[0]), "http://127.0.0.1:8088/confirm?token=")
	claims, err := s.signer.Parse(token)
	require.NoError(t, err)
	sa, err := s.st.Subaccount(context.Background(), "", claims.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusAcceptanceRequired, sa.Status)
	require.Equal(t, run.GetID(), sa.OnboardingID)
	s.waitStage(run, workflows.StageAwaiting)

	require.NoError(t, s.c.SignalWorkflow(context.Background(), run.GetID(), "", workflows.SignalConfirm, workflows.Confirm{Via: workflows.ViaLink}))
	r, err := s.result(run)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeActive, r.Outcome)
	sa, err = s.st.Subaccount(context.Background(), "", claims.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusActive, sa.Status)
	require.Equal(t, r.CloudID, sa.CloudID, "the cloud row is there")
	require.Equal(t, 1, sa.EmailsSent)

	desc, err := s.c.DescribeWorkflow(context.Background(), run.GetID(), "")
	require.NoError(t, err)
	outcome, _ := desc.TypedSearchAttributes.GetKeyword(workflows.AttrOutcome)
	require.Equal(t, workflows.OutcomeActive, outcome, "the outcome is searchable")

	// The worker reports its health and the SDK's metrics (label values
	// sanitized for Prometheus: '-' becomes '_').
	require.Equal(t, "ok\n", httpGet(t, "http://"+s.addr+"/healthz"))
	testenv.Eventually(t, 5*time.Second, "workflow metrics", func() bool {
		m := httpGet(t, "http://"+s.addr+"/metrics")
		return strings.Contains(m, "temporal_workflow_completed") && strings.Contains(m, `task_queue="`+strings.ReplaceAll(s.tq, "-", "_")+`"`)
	})
	s.save(run, "active")
}

func TestDeadlineEndToEnd(t *testing.T) {
	s := startWorker(t, nil)
	partner, email := newCustomer(t, s)
	run := s.launch(partner, "Slow Customer", email, 2*time.Second)
	r, err := s.result(run)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeExpired, r.Outcome)
	sa, err := s.st.Subaccount(context.Background(), "", r.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusInactive, sa.Status)
	require.Equal(t, domain.ReasonExpired, sa.DeletedReason)
	require.Empty(t, sa.CloudID)
	require.Len(t, testenv.WaitMail(t, email, 1, 10*time.Second), 1)
	s.save(run, "expired")
}

// TestRequestsEndToEnd: durable requests against the real worker: a
// resend carried out, one too soon (sent past the edge's own check)
// settled refused by the workflow, the same request again ignored, and a
// cancel carried out — each settled once, with one audit event.
func TestRequestsEndToEnd(t *testing.T) {
	s := startWorker(t, nil)
	ctx := context.Background()
	op := domain.Operator("test")
	partner, email := newCustomer(t, s)
	run := s.launch(partner, "Requesting Customer", email, time.Hour)
	s.waitStage(run, workflows.StageAwaiting)
	v := s.status(run)
	time.Sleep(1100 * time.Millisecond)
	resent, err := s.drv.Onboarding.Resend(ctx, op, run.GetID(), "")
	require.NoError(t, err)
	require.Equal(t, domain.RequestDone, resent.Request.Status)
	require.Equal(t, 2, resent.Status.EmailsSent)

	tooSoon := workflows.Request{ID: uuid.NewString(), Kind: domain.RequestResend, PartnerID: partner, SubaccountID: v.SubaccountID,
		OnboardingID: run.GetID(), WorkflowID: run.GetID(), Fingerprint: domain.RequestResend,
		By: workflows.Actor{Kind: domain.ActorOperator, ID: "test"}, At: time.Now().UTC()}
	for range 2 { // the same request twice: settled once
		require.NoError(t, s.c.SignalWorkflow(ctx, run.GetID(), run.GetRunID(), workflows.SignalRequest, tooSoon))
	}
	testenv.Eventually(t, 30*time.Second, "the too-soon resend to be settled", func() bool {
		r, err := s.st.Request(ctx, "", tooSoon.ID)
		return err == nil && r.Status == domain.RequestRefused
	})
	got, err := s.st.Request(ctx, "", tooSoon.ID)
	require.NoError(t, err)
	require.Contains(t, got.Reason, "too soon")

	c, err := s.drv.Onboarding.Cancel(ctx, op, run.GetID(), "")
	require.NoError(t, err)
	require.Equal(t, domain.RequestDone, c.Request.Status)
	require.Equal(t, workflows.OutcomeCancelled, c.Result.Outcome)
	r, err := s.result(run)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCancelled, r.Outcome)

	log, err := s.st.AuditLog(ctx, store.AuditQuery{SubaccountID: v.SubaccountID, Limit: 100})
	require.NoError(t, err)
	actions := map[string]int{}
	for _, e := range log {
		actions[e.Action+" "+e.Outcome]++
	}
	require.Equal(t, map[string]int{"add customer done": 1, "resend done": 1, "resend refused": 1, "delete unconfirmed customer done": 1}, actions)
	sa, err := s.st.Subaccount(ctx, "", v.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, 2, sa.EmailsSent, "the first email and one resend, nothing for the refused one")
	s.save(run, "requests-resend-refused-cancel")
}

func TestCancelResendAndLateConfirmEndToEnd(t *testing.T) {
	s := startWorker(t, nil)
	partner, email := newCustomer(t, s)
	run := s.launch(partner, "Fickle Customer", email, time.Hour)
	s.waitStage(run, workflows.StageAwaiting)

	// A resend too soon is refused; one after the interval goes out.
	// update runs an update to completion; a refusal comes back as its error.
	update := func(name string, result any) error {
		h, err := s.c.UpdateWorkflow(context.Background(), client.UpdateWorkflowOptions{WorkflowID: run.GetID(),
			UpdateName: name, WaitForStage: client.WorkflowUpdateStageCompleted})
		if err != nil {
			return err
		}
		return h.Get(context.Background(), result)
	}
	time.Sleep(1100 * time.Millisecond)
	var st workflows.Status
	require.NoError(t, update(workflows.UpdateResend, &st))
	require.Equal(t, 2, st.EmailsSent)
	require.ErrorContains(t, update(workflows.UpdateResend, nil), "too soon")
	msgs := testenv.WaitMail(t, email, 2, 10*time.Second)
	require.NotEqual(t, msgs[0].MessageID, msgs[1].MessageID)

	var res workflows.Result
	require.NoError(t, update(workflows.UpdateCancel, &res))
	require.Equal(t, workflows.OutcomeCancelled, res.Outcome)
	r, err := s.result(run)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCancelled, r.Outcome)
	sa, err := s.st.Subaccount(context.Background(), "", r.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.ReasonCancelled, sa.DeletedReason)

	// A confirm after the end cannot reach the closed workflow: nothing changes.
	err = s.c.SignalWorkflow(context.Background(), run.GetID(), run.GetRunID(), workflows.SignalConfirm, workflows.Confirm{Via: workflows.ViaLink})
	require.Error(t, err)
	again, err := s.st.Subaccount(context.Background(), "", r.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, sa, again)
	s.save(run, "cancelled-after-resend")
}

func TestFailuresEndToEnd(t *testing.T) {
	s := startWorker(t, nil)
	_, email := newCustomer(t, s)
	// Launch refuses an unknown partner before starting anything; the
	// workflow's own refusal — for a partner gone between launch and the
	// record — is seen by starting it directly, as Launch would.
	_, err := s.drv.Onboarding.Launch(context.Background(), domain.Operator("test"), "no-such-partner",
		onboarding.NewCustomer{Name: "Orphan", Email: email, Cloud: "main"})
	require.ErrorIs(t, err, domain.ErrUnknownPartner)
	sealed, err := s.sealer.Seal(workflows.Contact{Email: email})
	require.NoError(t, err)
	run, err := s.c.ExecuteWorkflow(context.Background(), workflows.StartOptions(s.tq, "no-such-partner", "Orphan"), workflows.WorkflowName,
		workflows.Input{PartnerID: "no-such-partner", CustomerName: "Orphan", CloudName: "main", SealedContact: sealed, ConfirmWithin: time.Hour})
	require.NoError(t, err)
	_, err = s.result(run)
	require.ErrorContains(t, err, `partner "no-such-partner" is not registered`)
	var n int
	require.NoError(t, s.st.DB().Get(&n, `SELECT count(*) FROM subaccounts`))
	require.Zero(t, n, "nothing is created for an unknown partner")
	s.save(run, "failed-unknown-partner")

	// The workflow itself cancelled while waiting: the record is still deleted.
	partner, email := newCustomer(t, s)
	run = s.launch(partner, "Cancelled Workflow", email, time.Hour)
	s.waitStage(run, workflows.StageAwaiting)
	require.NoError(t, s.c.CancelWorkflow(context.Background(), run.GetID(), ""))
	r, err := s.result(run)
	require.NoError(t, err)
	require.Equal(t, workflows.OutcomeCancelled, r.Outcome)
	sa, err := s.st.Subaccount(context.Background(), "", r.SubaccountID)
	require.NoError(t, err)
	require.Equal(t, domain.StatusInactive, sa.Status)
	s.save(run, "workflow-cancelled")
}

func TestBadConfigIsRefused(t *testing.T) {
	err := run(context.Background(), nil, testenv.Getenv(map[string]string{"DATABASE_URL": "mysql://x"}), io.Discard, io.Discard)
	require.ErrorContains(t, err, "DATABASE_URL: not a postgres:// URL")
	err = run(context.Background(), nil, testenv.Getenv(map[string]string{"WORKFLOW_POLLERS": "lots"}), io.Discard, io.Discard)
	require.ErrorContains(t, err, "WORKFLOW_POLLERS")
	require.False(t, errors.Is(err, context.Canceled))
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	resp, err := http.Get(u)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}
