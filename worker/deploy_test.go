package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/cloudpartners/onboarding/internal/domain"
	stacklib "github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// releasedCommit is the code in production before the decline branch and
// the customer workflow: its worker and starter start the onboardings that
// the new worker must finish.
const releasedCommit = testenv.ReleasedCommit

// TestDeployMeetsOnboardingsInFlight is the deploy test: the released
// starter launches onboardings that the released worker takes to the wait
// (one resent there), on the released schema; then the worker is replaced
// by this commit's, which migrates the schema and finishes them — confirmed,
// expired, cancelled, declined, resent and confirmed — with no
// non-determinism, and can go on to the customer's life after onboarding.
// The released code wrote plain payloads and sealed the customer's email
// and contact itself; this commit's encrypts payloads with the codec and
// still reads both, and opens the sealed contact of an onboarding launched
// by the released starter while the deploy was under way.
func TestDeployMeetsOnboardingsInFlight(t *testing.T) {
	testenv.RequireStack(t)
	ctx := context.Background()
	dsn := testenv.NewDatabase(t)
	sfx := testenv.Suffix()
	env := map[string]string{"DATABASE_URL": dsn, "TASK_QUEUE": "deploy-" + sfx, "ONBOARDING_SECRET": secret,
		"RESEND_MIN_INTERVAL": "1s", "PUBLIC_BASE_URL": "http://127.0.0.1:1"}
	workerEnv := map[string]string{"WORKER_ADDR": testenv.FreePort(t)}
	for k, v := range env {
		workerEnv[k] = v
	}

	// The released code, built from its commit.
	oldWorker := testenv.StartBinary(t, testenv.BuildAt(t, releasedCommit, "worker"), "released-worker", workerEnv)
	starter := releasedStarter(ctx, t, releasedCommit, env)
	partner := "deploy-" + sfx
	starter("partner", "add", "--id", partner, "--name", "Deploy partner")
	plans := []string{"confirm", "expire", "cancel", "decline", "resend+confirm"}
	ids := map[string]string{}
	for _, plan := range plans {
		args := []string{"add", "--json", "--partner", partner, "--name", "In flight " + plan, "--email", plan + "-" + sfx + "@deploy.example", "--cloud", "deploy-cloud"}
		if plan == "expire" {
			args = append(args, "--confirm-within", "40s")
		}
		var l struct {
			OnboardingID string `json:"onboarding_id"`
		}
		require.NoError(t, json.Unmarshal(starter(args...), &l))
		ids[plan] = l.OnboardingID
	}
	tc := testenv.Client(t)
	for _, id := range ids {
		testenv.Eventually(t, 30*time.Second, id+" to wait for confirmation", func() bool {
			v, err := tc.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
			var s workflows.Status
			return err == nil && v.Get(&s) == nil && s.Stage == workflows.StageAwaiting
		})
	}
	time.Sleep(1100 * time.Millisecond) // past RESEND_MIN_INTERVAL
	starter("resend", ids["resend+confirm"])

	// The deploy: the released worker stops, this commit's takes over. An
	// onboarding launched meanwhile by the released starter carries the
	// customer's email and contact sealed with ONBOARDING_SECRET, as every
	// launch did before the payload codec: this commit's worker opens it.
	oldWorker.Stop()
	var during struct {
		OnboardingID string `json:"onboarding_id"`
	}
	duringEmail := "during-" + sfx + "@deploy.example"
	require.NoError(t, json.Unmarshal(starter("add", "--json", "--partner", partner, "--name", "Launched during the deploy",
		"--email", duringEmail, "--contact", "Dana Sealed", "--cloud", "deploy-cloud"), &during))
	ids["sealed+confirm"] = during.OnboardingID
	testenv.Start(t, "worker", workerEnv)
	drv := testenv.NewDriver(t, env)
	st := drv.Store
	op := domain.Operator("deploy-test")
	token := func(id string) string {
		l, err := drv.Onboarding.Link(ctx, op, id)
		require.NoError(t, err)
		u, err := url.Parse(l.URL)
		require.NoError(t, err)
		return u.Query().Get("token")
	}

	_, already, err := drv.Onboarding.Confirm(ctx, token(ids["confirm"]), workflows.ViaLink)
	require.NoError(t, err)
	require.False(t, already)
	_, err = drv.Onboarding.Cancel(ctx, op, ids["cancel"], "")
	require.NoError(t, err)
	_, err = drv.Onboarding.Decline(ctx, token(ids["decline"]))
	require.NoError(t, err, "an onboarding started before the decline branch can be declined")
	time.Sleep(1100 * time.Millisecond)
	s, err := drv.Onboarding.Resend(ctx, op, ids["resend+confirm"], "")
	require.NoError(t, err)
	require.Equal(t, 3, s.Status.EmailsSent)
	_, _, err = drv.Onboarding.Confirm(ctx, token(ids["resend+confirm"]), workflows.ViaLink)
	require.NoError(t, err)
	testenv.WaitMail(t, duringEmail, 1, 30*time.Second) // the sealed address, opened
	_, _, err = drv.Onboarding.Confirm(ctx, token(ids["sealed+confirm"]), workflows.ViaLink)
	require.NoError(t, err)

	want := map[string]string{"confirm": workflows.OutcomeActive, "expire": workflows.OutcomeExpired, "cancel": workflows.OutcomeCancelled,
		"decline": workflows.OutcomeDeclined, "resend+confirm": workflows.OutcomeActive, "sealed+confirm": workflows.OutcomeActive}
	for plan, id := range ids {
		var r workflows.Result
		wctx, cancel := context.WithTimeout(ctx, 90*time.Second)
		require.NoError(t, tc.GetWorkflow(wctx, id, "").Get(wctx, &r), plan)
		cancel()
		require.Equal(t, want[plan], r.Outcome, plan)
		sa, err := st.Subaccount(ctx, "", r.SubaccountID)
		require.NoError(t, err)
		if r.Outcome == workflows.OutcomeActive {
			require.Equal(t, domain.StatusActive, sa.Status, plan)
			require.Equal(t, 1, sa.Clouds, plan)
		} else {
			require.Equal(t, domain.StatusInactive, sa.Status, plan)
			require.Equal(t, r.Outcome, sa.DeletedReason, plan)
		}
		if plan == "sealed+confirm" {
			require.Equal(t, duringEmail, sa.Email, "the sealed email, opened into the record")
			require.Equal(t, "Dana Sealed", sa.Contact, "the sealed contact, opened into the record")
		}
		cost, err := stacklib.History(ctx, tc, id, "")
		require.NoError(t, err)
		require.Zero(t, cost.WorkflowTaskFailed, "%s: a workflow task failed after the deploy", plan)
		require.Zero(t, cost.NonDeterministic, plan)
	}

	// A customer onboarded by the released code goes on to its life after onboarding.
	c, err := drv.Lifecycle.AddCloud(ctx, op, ids["confirm"], "after-deploy", "")
	require.NoError(t, err)
	require.True(t, c.Created)
}

// stackEnv is the environment that points a binary at the test stack.
// releasedStarter builds the starter at commit and runs it with env (its
// DATABASE_URL, TASK_QUEUE and the rest) pointed at the stack, failing the
// test when it fails.
func releasedStarter(ctx context.Context, t *testing.T, commit string, env map[string]string) func(args ...string) []byte {
	bin := testenv.BuildAt(t, commit, "starter")
	return func(args ...string) []byte {
		t.Helper()
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = stackEnv()
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.Output()
		require.NoError(t, err, "released starter %v", args)
		return out
	}
}

func stackEnv() []string {
	return append([]string{"TEMPORAL_ADDRESS=" + testenv.TemporalAddress(), "SMTP_ADDR=" + testenv.SMTPAddr(), "HOME=/tmp"},
		stacklib.TLSEnviron()...) // the stack's client certificate, when its frontends require mTLS
}

// releasedLifecycle is the code in production before durable requests: its
// worker carries out updates (resend, cancel, clouds, suspend, resume)
// that live in the server's memory until a worker accepts them.
const releasedLifecycle = "f024b6d33ec51d77566bb1b3c264b8a7a2f47ee5"

// TestDeployMeetsCustomersInFlight: customers left by the released code —
// one waiting for confirmation, one suspended by the released starter,
// its customer workflow waiting for the retention to run out — take the
// new kind of request once this commit's worker has replaced the released
// one: a resend is sent, the suspended customer is resumed and gets a
// cloud, each request settled with its audit event, and no workflow task
// fails.
func TestDeployMeetsCustomersInFlight(t *testing.T) {
	testenv.RequireStack(t)
	ctx := context.Background()
	dsn := testenv.NewDatabase(t)
	sfx := testenv.Suffix()
	env := map[string]string{"DATABASE_URL": dsn, "TASK_QUEUE": "deploy-life-" + sfx, "ONBOARDING_SECRET": secret,
		"RESEND_MIN_INTERVAL": "1s", "PUBLIC_BASE_URL": "http://127.0.0.1:1"}
	workerEnv := testenv.Vars(env, map[string]string{"WORKER_ADDR": testenv.FreePort(t)})
	oldWorker := testenv.StartBinary(t, testenv.BuildAt(t, releasedLifecycle, "worker"), "released-worker", workerEnv)
	starter := releasedStarter(ctx, t, releasedLifecycle, env)
	partner := "deploy-life-" + sfx
	starter("partner", "add", "--id", partner, "--name", "Deploy partner")
	ids := map[string]string{}
	for _, plan := range []string{"waiting", "suspended"} {
		var l struct {
			OnboardingID string `json:"onboarding_id"`
		}
		require.NoError(t, json.Unmarshal(starter("add", "--json", "--partner", partner, "--name", "In flight "+plan,
			"--email", plan+"-"+sfx+"@deploy.example", "--cloud", plan+"-cloud"), &l))
		ids[plan] = l.OnboardingID
	}
	// This commit's schema comes first, as a deploy migrates before it
	// replaces the workers; the released worker ignores what it added.
	drv := testenv.NewDriver(t, env)
	op := domain.Operator("deploy-test")
	for _, id := range ids {
		drv.WaitStage(id, workflows.StageAwaiting)
	}
	l, err := drv.Onboarding.Link(ctx, op, ids["suspended"])
	require.NoError(t, err)
	u, err := url.Parse(l.URL)
	require.NoError(t, err)
	_, _, err = drv.Onboarding.Confirm(ctx, u.Query().Get("token"), workflows.ViaLink)
	require.NoError(t, err)
	drv.WaitOutcome(ids["suspended"], workflows.OutcomeActive)
	starter("suspend", ids["suspended"], "--reason", "before the deploy", "--retention", "1h")

	oldWorker.Stop()
	testenv.Start(t, "worker", workerEnv)
	time.Sleep(1100 * time.Millisecond) // past RESEND_MIN_INTERVAL

	resent, err := drv.Onboarding.Resend(ctx, op, ids["waiting"], "")
	require.NoError(t, err)
	require.Equal(t, domain.RequestDone, resent.Request.Status)
	require.Equal(t, 2, resent.Status.EmailsSent)
	resumed, err := drv.Lifecycle.Resume(ctx, op, ids["suspended"], "")
	require.NoError(t, err)
	require.Equal(t, domain.RequestDone, resumed.Request.Status)
	require.Equal(t, domain.StatusActive, resumed.Status)
	c, err := drv.Lifecycle.AddCloud(ctx, op, ids["suspended"], "after-deploy", "")
	require.NoError(t, err)
	require.True(t, c.Created)

	tc := drv.Temporal
	sa, err := drv.Store.SubaccountByOnboarding(ctx, "", ids["suspended"])
	require.NoError(t, err)
	for _, wf := range []string{ids["waiting"], workflows.CustomerWorkflowID(sa.ID)} {
		cost, err := stacklib.History(ctx, tc, wf, "")
		require.NoError(t, err)
		require.Zero(t, cost.WorkflowTaskFailed, "%s: a workflow task failed after the deploy", wf)
		require.Zero(t, cost.NonDeterministic, wf)
	}
	log, err := drv.Store.AuditLog(ctx, store.AuditQuery{SubaccountID: sa.ID, Limit: 100})
	require.NoError(t, err)
	settled := map[string]int{}
	for _, e := range log {
		settled[e.Action+" "+e.Outcome]++
	}
	require.Equal(t, 1, settled["resume done"], "%v", settled)
	require.Equal(t, 1, settled["create cloud done"], "%v", settled)
}
