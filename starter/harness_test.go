package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/cloudpartners/onboarding/internal/domain"
	stacklib "github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/testenv"
)

// stack is one test's slice of the real stack: its own database, task
// queue and worker (the real binary), and the variables the starter runs
// with, as in production.
type stack struct {
	t      *testing.T
	vars   map[string]string
	store  *store.Store
	tc     client.Client
	drv    *testenv.Driver   // the one harness: the customer's side (mail, confirm)
	emails map[string]string // onboarding id → the customer's email, for add's onboardings
}

// newStack starts a worker on a fresh database and task queue. extra
// variables apply to both the worker and the starter.
func newStack(t *testing.T, extra map[string]string) *stack {
	t.Helper()
	testenv.RequireStack(t)
	st, dsn := testenv.NewStore(t)
	vars := map[string]string{
		"DATABASE_URL":        dsn,
		"TASK_QUEUE":          "tq-" + testenv.Suffix(),
		"RESEND_MIN_INTERVAL": "100ms",
	}
	for k, v := range extra {
		vars[k] = v
	}
	worker := map[string]string{"WORKER_ADDR": testenv.FreePort(t)}
	for k, v := range vars {
		worker[k] = v
	}
	testenv.Start(t, "worker", worker)
	drv := testenv.NewDriver(t, vars)
	tc := drv.Temporal
	t.Cleanup(func() { terminateRunning(tc, vars["TASK_QUEUE"]) })
	return &stack{t: t, vars: vars, store: st, tc: tc, drv: drv, emails: map[string]string{}}
}

// terminateRunning ends, best effort, the onboardings a test left waiting
// on its task queue, whose worker is gone: they would otherwise wait for
// their deadline in the shared dev server.
func terminateRunning(tc client.Client, taskQueue string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: fmt.Sprintf("TaskQueue = '%s' AND ExecutionStatus = 'Running'", taskQueue), PageSize: 1000,
	})
	if err != nil {
		return
	}
	for _, info := range resp.GetExecutions() {
		_ = tc.TerminateWorkflow(ctx, info.GetExecution().GetWorkflowId(), info.GetExecution().GetRunId(), "test finished")
	}
}

// result is what one starter invocation did.
type result struct {
	stdout, stderr string
	err            error
	code           int // the exit code main would return
	line           string
	rowsReported   bool // an import that reported its rows on stdout
}

// run runs the starter in-process with the stack's variables plus extra
// ones given as "NAME=value" before the arguments.
func (s *stack) run(args ...string) result {
	s.t.Helper()
	return s.runEnv(nil, args...)
}

func (s *stack) runEnv(extra map[string]string, args ...string) result {
	s.t.Helper()
	vars := map[string]string{}
	for k, v := range s.vars {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	return runStarter(s.t, vars, args...)
}

func runStarter(t *testing.T, vars map[string]string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	err := run(ctx, args, testenv.Getenv(vars), &stdout, &stderr)
	var line bytes.Buffer
	code := report(err, &line)
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err, code: code, line: line.String(),
		rowsReported: len(args) > 0 && args[0] == "import" && (strings.Contains(stdout.String(), "Import of ") || strings.Contains(stdout.String(), `"summary"`))}
}

// ok fails the test unless the command succeeded.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.err != nil {
		t.Fatalf("command failed: %v\nstdout:\n%s\nstderr:\n%s", r.err, r.stdout, r.stderr)
	}
	return r
}

// fails checks a failure: the exit code, one line on stderr starting with
// "starter:", containing every wanted fragment.
func (r result) fails(t *testing.T, code int, want ...string) {
	t.Helper()
	if r.err == nil {
		t.Fatalf("command succeeded, want a failure containing %q\nstdout:\n%s", want, r.stdout)
	}
	if r.code != code {
		t.Errorf("exit code = %d, want %d (%v)", r.code, code, r.err)
	}
	// A failure leaves stdout empty, so that `ID=$(starter add ...)` holds an
	// id or nothing; only import reports its rows there before failing.
	if r.stdout != "" && !r.rowsReported {
		t.Errorf("stdout of a failure = %q, want nothing", r.stdout)
	}
	if !strings.HasPrefix(r.line, "starter: ") || strings.Count(r.line, "\n") != 1 || !strings.HasSuffix(r.line, "\n") {
		t.Errorf("failure report %q is not one line starting with \"starter: \"", r.line)
	}
	for _, w := range want {
		if !strings.Contains(r.line, w) {
			t.Errorf("failure report %q does not contain %q", r.line, w)
		}
	}
}

// decode parses the command's JSON output.
func (r result) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.stdout), v); err != nil {
		t.Fatalf("output is not JSON (%v):\n%s", err, r.stdout)
	}
}

// partner registers a fresh partner and returns its id.
func (s *stack) partner() string {
	s.t.Helper()
	id := "p-" + testenv.Suffix()
	s.run("partner", "add", "--id", id, "--name", "Partner "+id).ok(s.t)
	return id
}

// email returns an address unique to this test.
func email(tag string) string {
	return tag + "-" + testenv.Suffix() + "@customer.example"
}

// add launches one onboarding and returns its id.
func (s *stack) add(partner, name string, extra ...string) string {
	s.t.Helper()
	address := email("c")
	args := append([]string{"add", "--json", "--partner", partner, "--name", name, "--email", address, "--cloud", "main-cloud"}, extra...)
	var res launchedJSON
	s.run(args...).ok(s.t).decode(s.t, &res)
	if !res.Launched {
		s.t.Fatalf("add %q: not launched: %+v", name, res)
	}
	s.emails[res.OnboardingID] = address
	return res.OnboardingID
}

// status returns the starter's --json status of an onboarding.
func (s *stack) status(id string) viewJSON {
	s.t.Helper()
	var v viewJSON
	s.run("status", "--json", id).ok(s.t).decode(s.t, &v)
	return v
}

// waitStage waits until the onboarding reaches a stage.
func (s *stack) waitStage(id, stage string) viewJSON {
	s.t.Helper()
	var v viewJSON
	testenv.Eventually(s.t, 30*time.Second, id+" at stage "+stage, func() bool {
		v = s.status(id)
		return v.Stage == stage
	})
	return v
}

// waitOutcome waits until the onboarding has ended with an outcome.
func (s *stack) waitOutcome(id, outcome string) viewJSON {
	s.t.Helper()
	var v viewJSON
	testenv.Eventually(s.t, 45*time.Second, id+" ended "+outcome, func() bool {
		v = s.status(id)
		if v.Workflow != "" && v.Workflow != "RUNNING" && v.Outcome != outcome {
			s.t.Fatalf("%s ended %+v, want %s", id, v, outcome)
		}
		return v.Workflow == "COMPLETED" && v.Outcome == outcome
	})
	return v
}

// confirm confirms an onboarding that add launched with the link of the
// email the customer received, through the action the webhook takes.
func (s *stack) confirm(id string) {
	s.t.Helper()
	token, err := stacklib.TokenOf(s.drv.Link(s.emails[id], 1))
	if err != nil {
		s.t.Fatal(err)
	}
	if _, _, err := s.drv.Onboarding.Confirm(context.Background(), token, domain.ViaLink); err != nil {
		s.t.Fatalf("confirm %s: %v", id, err)
	}
}

// subaccounts counts the subaccounts of a partner, live or not.
func (s *stack) subaccounts(partner string) []domain.Subaccount {
	s.t.Helper()
	page, err := s.store.ListSubaccounts(context.Background(), store.ListQuery{PartnerID: partner, Limit: 1000})
	if err != nil {
		s.t.Fatal(err)
	}
	return page.Items
}

// runID returns the id of the onboarding's latest run, "" if there is none.
func (s *stack) runID(id string) string {
	s.t.Helper()
	desc, err := s.tc.DescribeWorkflow(context.Background(), id, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return ""
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return desc.WorkflowExecution.RunID
}
