package main

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/loginhook"
	"github.com/cloudpartners/onboarding/workflows"
)

// Words of the decline pages.
const (
	pageDeclined      = "You declined the invitation"
	pageWasDeclined   = "You declined this invitation"
	pageNotUnderstood = "This request is not understood"
)

func TestDecline(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)

	t.Run("the page offers Decline beside Confirm; a GET never declines", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "offer", time.Hour)
		page := e.get(t, http.MethodGet, o.link)
		expect(t, page, http.StatusOK, `name="action" value="confirm"`, `name="action" value="decline"`, ">Decline</button>")
		for _, u := range []string{o.link + "&action=decline", e.base + "/confirm?action=decline&token=" + url.QueryEscape(o.token)} {
			expect(t, e.get(t, http.MethodGet, u), http.StatusOK, pageConfirm)
		}
		time.Sleep(time.Second)
		e.awaiting(t, o)
	})

	t.Run("declining ends the onboarding DECLINED; the link is dead afterwards", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "no", time.Hour)
		expect(t, e.decline(t, o.token), http.StatusOK, pageDeclined, escaped(e.partnerName), escaped(o.name))
		r := e.result(t, o)
		if r.Outcome != workflows.OutcomeDeclined || r.CloudID != "" {
			t.Fatalf("outcome %s with cloud %q, want DECLINED without a cloud", r.Outcome, r.CloudID)
		}
		sa := e.row(t, o)
		if sa.Status != domain.StatusInactive || sa.DeletedReason != domain.ReasonDeclined || sa.Answer != domain.AnswerDecline {
			t.Errorf("subaccount %s (%s, answer %q), want INACTIVE (DECLINED)", sa.Status, sa.DeletedReason, sa.Answer)
		}
		// A later confirm — page, button or login hook — says so and changes nothing.
		expect(t, e.get(t, http.MethodGet, o.link), http.StatusGone, pageWasDeclined)
		expect(t, e.post(t, o.token), http.StatusGone, pageWasDeclined, "nothing was changed")
		body := `{"token":"` + o.token + `"}`
		expect(t, e.hook(t, body, loginhook.Sign([]byte(testLoginSecret), time.Now(), []byte(body))), http.StatusGone, `"error":"declined"`)
		expect(t, e.decline(t, o.token), http.StatusGone, pageWasDeclined)
		if after := e.row(t, o); !after.UpdatedAt.Equal(sa.UpdatedAt) {
			t.Errorf("the subaccount changed after the decline: %+v", after)
		}
		if s := e.status(t, o); s.IgnoredCount != 0 {
			t.Errorf("the workflow ignored %d late answers; the webhook should have sent none", s.IgnoredCount)
		}
	})

	t.Run("a decline after a confirmation is refused and tells the truth", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "yes", time.Hour)
		expect(t, e.post(t, o.token), http.StatusOK, pageConfirmed)
		expect(t, e.decline(t, o.token), http.StatusConflict, pageAlready)
		e.activeWithCloud(t, o, workflows.ViaLink)
		expect(t, e.decline(t, o.token), http.StatusConflict, pageAlready)
	})

	t.Run("confirm and decline at once: exactly one wins, and each page says which", func(t *testing.T) {
		t.Parallel()
		for round := range 3 {
			o := e.launch(t, "race"+string(rune('a'+round)), time.Hour)
			var wg sync.WaitGroup
			var confirmed, declined answer
			wg.Go(func() { confirmed = e.post(t, o.token) })
			wg.Go(func() { declined = e.decline(t, o.token) })
			wg.Wait()
			r := e.result(t, o)
			switch r.Outcome {
			case workflows.OutcomeActive:
				expect(t, confirmed, http.StatusOK, pageConfirmed)
				expect(t, declined, http.StatusConflict, pageAlready)
			case workflows.OutcomeDeclined:
				expect(t, declined, http.StatusOK, pageDeclined)
				expect(t, confirmed, http.StatusGone, pageWasDeclined)
			default:
				t.Fatalf("outcome %s, want ACTIVE or DECLINED", r.Outcome)
			}
			if s := e.status(t, o); s.IgnoredCount != 0 {
				t.Errorf("both answers reached the workflow (%d ignored)", s.IgnoredCount)
			}
		}
	})

	t.Run("bad declines change nothing", func(t *testing.T) {
		t.Parallel()
		o := e.launch(t, "baddecline", time.Hour)
		expect(t, e.decline(t, ""), http.StatusBadRequest, pageMalformed)
		expect(t, e.decline(t, flip(o.token)), http.StatusNotFound, pageUnknown)
		req, err := http.NewRequest(http.MethodPost, e.base+"/confirm", strings.NewReader(url.Values{"token": {o.token}, "action": {"delete"}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		expect(t, e.do(t, req), http.StatusBadRequest, pageNotUnderstood)
		time.Sleep(500 * time.Millisecond)
		e.awaiting(t, o)
		if sa := e.row(t, o); sa.Answer != "" {
			t.Errorf("a refused request recorded the answer %q", sa.Answer)
		}
	})
}
