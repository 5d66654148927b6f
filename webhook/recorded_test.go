package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/loginhook"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// pageRecorded is the page of an answer recorded whose signal did not go out.
const pageRecorded = "Thank you, your answer is received"

// TestAnswerRecordedWhileTemporalIsAway: the webhook loses Temporal (its
// connection cut, the server running on for the worker) after showing the
// page. A confirm and a decline are each recorded in Postgres and answered
// 202 with a page that says so — not a failure — and each is carried out
// by the worker when the deadline passes, where the answer in the record
// wins: one ACTIVE with its cloud, one DECLINED, neither EXPIRED.
func TestAnswerRecordedWhileTemporalIsAway(t *testing.T) {
	t.Parallel()
	proxy := testenv.NewProxy(t, testenv.TemporalAddress())
	e := newEnv(t, map[string]string{"TEMPORAL_ADDRESS": proxy.Addr})
	yes := e.launch(t, "away-yes", 30*time.Second)
	no := e.launch(t, "away-no", 30*time.Second)
	login := e.launch(t, "away-login", 30*time.Second)
	e.awaiting(t, yes)
	e.awaiting(t, no)
	e.awaiting(t, login)
	proxy.Break()

	// At once, each a parallel subtest: each waits its bound for Temporal,
	// and the deadline is near.
	body := `{"token":"` + login.token + `"}`
	loginID := e.row(t, login).ID
	t.Run("answers", func(t *testing.T) {
		t.Run("confirm", func(t *testing.T) {
			t.Parallel()
			expect(t, e.post(t, yes.token), http.StatusAccepted, pageRecorded, escaped(e.partnerName))
		})
		t.Run("decline", func(t *testing.T) {
			t.Parallel()
			expect(t, e.decline(t, no.token), http.StatusAccepted, pageRecorded)
		})
		t.Run("login hook", func(t *testing.T) {
			t.Parallel()
			expect(t, e.hook(t, body, loginhook.Sign([]byte(testLoginSecret), time.Now(), []byte(body))), http.StatusAccepted,
				`"status":"recorded"`, loginID)
		})
	})
	if got := e.row(t, yes); got.Answer != domain.AnswerConfirm || got.Status != domain.StatusAcceptanceRequired {
		t.Fatalf("the confirmation is recorded and waits: answer %q, status %s", got.Answer, got.Status)
	}

	testenv.Eventually(t, 60*time.Second, "both carried out at the deadline", func() bool {
		return e.row(t, yes).Status == domain.StatusActive && e.row(t, no).Status == domain.StatusInactive &&
			e.row(t, login).Status == domain.StatusActive
	})
	if r := e.result(t, yes); r.Outcome != workflows.OutcomeActive || r.CloudID == "" {
		t.Errorf("the confirmation of record: outcome %s, cloud %q", r.Outcome, r.CloudID)
	}
	if got := e.row(t, login); got.AnswerVia != domain.ViaLogin {
		t.Errorf("the login hook's confirmation of record came via %q", got.AnswerVia)
	}
	if r := e.result(t, no); r.Outcome != workflows.OutcomeDeclined {
		t.Errorf("the decline of record: outcome %s", r.Outcome)
	}
	if got := e.row(t, no); got.DeletedReason != domain.ReasonDeclined {
		t.Errorf("the decline of record deleted as %q", got.DeletedReason)
	}
}
