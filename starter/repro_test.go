package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	stacklib "github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestLongNonASCIINames: every name the validation accepts launches, under
// an id the server takes, and the printed id finds the onboarding again.
func TestLongNonASCIINames(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	for _, name := range []string{strings.Repeat("東", 109) + " repro", strings.Repeat("é", 170)} {
		var l launchedJSON
		s.run("add", "--json", "--partner", partner, "--name", name, "--email", email("long"), "--cloud", "main-cloud").ok(t).decode(t, &l)
		if !l.Launched || len(l.OnboardingID) > workflows.MaxIDLength || l.OnboardingID != workflows.WorkflowID(partner, name) {
			t.Fatalf("launch of a %d-character name = %+v", len([]rune(name)), l)
		}
		v := s.waitStage(l.OnboardingID, workflows.StageAwaiting)
		if v.Customer != name {
			t.Errorf("status of %s names customer %q", l.OnboardingID, v.Customer)
		}
		// The same customer again finds the same onboarding.
		var again launchedJSON
		s.run("add", "--json", "--partner", partner, "--name", strings.ToUpper(name), "--email", email("long"), "--cloud", "main-cloud").ok(t).decode(t, &again)
		if again.Launched || again.OnboardingID != l.OnboardingID {
			t.Errorf("relaunch = %+v, want the onboarding %s", again, l.OnboardingID)
		}
	}
}

// TestNoWorker: without a worker, a cancel is accepted at once — exit 0,
// saying it will be carried out when a worker takes it — and is in the
// workflow's history; a resend, with no email sent yet, is refused and
// sends nothing. Once a worker runs, the cancel is carried out.
func TestNoWorker(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	// A task queue no worker has ever polled.
	lonely := map[string]string{"TASK_QUEUE": "lonely-" + testenv.Suffix()}
	r := s.runEnv(lonely, "add", "--partner", partner, "--name", "Lonely Co", "--email", email("lonely"), "--cloud", "main-cloud").ok(t)
	if !strings.Contains(r.stderr, "no worker is polling task queue") {
		t.Errorf("add without a worker: stderr %q, want a note that no worker polls", r.stderr)
	}
	id := workflows.WorkflowID(partner, "Lonely Co")
	s.runEnv(lonely, "resend", id).fails(t, exitRefused, "has no customer record yet")
	start := time.Now()
	r = s.runEnv(lonely, "cancel", id).ok(t)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("cancel took %s to be accepted without a worker", d)
	}
	if !strings.HasPrefix(r.stdout, "Accepted: delete the unconfirmed customer for "+id+" will be carried out when a worker takes it") {
		t.Errorf("cancel without a worker printed %q", r.stdout)
	}
	// The request is in the workflow's history: a signal, durable.
	signals := 0
	it := s.tc.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if e.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() == workflows.SignalRequest {
			signals++
		}
	}
	if signals != 1 {
		t.Errorf("%d request signals in the history, want 1", signals)
	}
	if n := len(s.subaccounts(partner)); n != 0 {
		t.Errorf("%d subaccounts, want none: no worker ran the onboarding", n)
	}

	worker := testenv.Vars(s.vars, lonely, map[string]string{"WORKER_ADDR": testenv.FreePort(t)})
	testenv.Start(t, "worker", worker)
	var v viewJSON
	testenv.Eventually(t, time.Minute, "the accepted cancel to be carried out", func() bool {
		r := s.runEnv(lonely, "status", "--json", id)
		v = viewJSON{}
		return r.err == nil && json.Unmarshal([]byte(r.stdout), &v) == nil && v.Outcome == workflows.OutcomeCancelled && len(v.Pending) == 0
	})
}

// TestConfirmedViaAfterTheEnd: a finished onboarding still says how it was confirmed.
func TestConfirmedViaAfterTheEnd(t *testing.T) {
	t.Parallel()
	s := newStack(t, nil)
	partner := s.partner()
	for _, via := range []string{workflows.ViaLink, workflows.ViaLogin} {
		id := s.add(partner, "Via "+via)
		s.waitStage(id, workflows.StageAwaiting)
		token, err := stacklib.TokenOf(s.drv.Link(s.emails[id], 1))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.drv.Onboarding.Confirm(context.Background(), token, via); err != nil {
			t.Fatal(err)
		}
		v := s.waitOutcome(id, workflows.OutcomeActive)
		testenv.Eventually(t, 20*time.Second, "the workflow to close", func() bool { v = s.status(id); return !(v.Workflow == "RUNNING") })
		if v.ConfirmedVia != via {
			t.Errorf("status --json of %s: confirmed_via %q, want %q", id, v.ConfirmedVia, via)
		}
	}
}
