package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestDrainFinishesTheActivityInFlight: the real worker binary, sent
// SIGTERM while it sends a confirmation email through a mail relay slow
// to greet, fails /readyz at once, stops polling, finishes the send and
// exits 0 well within WORKER_STOP_TIMEOUT. The email arrives once, and the
// history shows the send done in one attempt: no other worker retried it.
// A new worker carries the onboarding on.
func TestDrainFinishesTheActivityInFlight(t *testing.T) {
	testenv.RequireStack(t)
	_, dsn := testenv.NewStore(t)
	const greet, stopTimeout = 4 * time.Second, 20 * time.Second
	relay := testenv.NewSlowProxy(t, testenv.SMTPAddr(), greet)
	addr := testenv.FreePort(t)
	env := map[string]string{"DATABASE_URL": dsn, "TASK_QUEUE": "tq-" + testenv.Suffix(), "ONBOARDING_SECRET": secret}
	workerEnv := testenv.Vars(env, map[string]string{"WORKER_ADDR": addr, "SMTP_ADDR": relay.Addr,
		"WORKER_STOP_TIMEOUT": stopTimeout.String()})
	p := testenv.Start(t, "worker", workerEnv)
	testenv.Eventually(t, 30*time.Second, "the worker ready", func() bool { return readyz(addr) == "200 ok" })

	drv := testenv.NewDriver(t, env)
	partner := "p-" + testenv.Suffix()
	drv.Partner(partner, "Drain partner")
	email := "drain-" + testenv.Suffix() + "@example.com"
	l := drv.Launch(partner, onboarding.NewCustomer{Name: "Drain " + email, Email: email, Cloud: "main", ConfirmWithin: time.Hour})
	select {
	case <-relay.Accepted: // the send is under way, held by the relay's greeting
	case <-time.After(30 * time.Second):
		t.Fatal("the worker never connected to the mail relay")
	}
	signalled := time.Now()
	p.Terminate()
	testenv.Eventually(t, greet/2, "the worker's /readyz to answer 503 draining", func() bool { return readyz(addr) == "503 draining" })
	select {
	case <-p.Done():
	case <-time.After(stopTimeout + 5*time.Second):
		t.Fatalf("the worker did not exit within WORKER_STOP_TIMEOUT %s", stopTimeout)
	}
	took := time.Since(signalled)
	if code := p.ExitCode(); code != 0 {
		t.Fatalf("the worker exited with code %d, want 0", code)
	}
	// It waited for the send (the relay's greeting), not for its timeout,
	// after which the SDK would have cancelled the activity.
	if took < greet/2 || took >= stopTimeout {
		t.Fatalf("the worker exited %s after SIGTERM; want after the send (about %s) and before WORKER_STOP_TIMEOUT %s", took, greet, stopTimeout)
	}
	testenv.WaitMail(t, email, 1, 10*time.Second)

	// Another worker, on a relay that answers at once, takes the onboarding on.
	testenv.Start(t, "worker", testenv.Vars(env, map[string]string{"WORKER_ADDR": testenv.FreePort(t)}))
	if _, err := drv.Driver.WaitStage(t.Context(), l.OnboardingID, workflows.StageAwaiting); err != nil {
		t.Fatal(err)
	}
	if n := len(testenv.MailTo(t, email)); n != 1 {
		t.Errorf("%d emails to %s, want 1", n, email)
	}
	sends, attempts := sendsIn(t, drv, l.OnboardingID)
	if sends != 1 || len(attempts) != 1 || attempts[0] != 1 {
		t.Errorf("the history holds %d sends, started in attempts %v; want one send done in attempt 1", sends, attempts)
	}
	t.Logf("the worker finished the send and exited 0 %s after SIGTERM", took.Round(time.Millisecond))
}

// sendsIn counts the SendConfirmation activities scheduled in a workflow's
// history, and the attempt of each one's start.
func sendsIn(t *testing.T, drv *testenv.Driver, id string) (int, []int32) {
	t.Helper()
	scheduled := map[int64]bool{}
	var attempts []int32
	it := drv.Temporal.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		switch e.GetEventType() {
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			if e.GetActivityTaskScheduledEventAttributes().GetActivityType().GetName() == "SendConfirmation" {
				scheduled[e.GetEventId()] = true
			}
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED:
			if a := e.GetActivityTaskStartedEventAttributes(); scheduled[a.GetScheduledEventId()] {
				attempts = append(attempts, a.GetAttempt())
			}
		}
	}
	return len(scheduled), attempts
}

// readyz is "<status> <body>" of the worker's /readyz, or the error.
func readyz(addr string) string {
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return strings.TrimSpace(resp.Status[:3] + " " + strings.TrimSpace(string(b)))
}
