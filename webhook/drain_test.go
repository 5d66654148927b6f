package main

import (
	"maps"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

// TestDrainFinishesTheConfirmInFlight: a second webhook, the real binary
// beside the test's, is sent SIGTERM while a customer's confirm form is
// still uploading. It fails /readyz at once, confirms another customer who
// presses during DRAIN_DELAY, then stops taking connections, answers the
// first confirm with its usual page and exits 0; both onboardings end
// ACTIVE with their cloud.
func TestDrainFinishesTheConfirmInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	customers := []*invited{e.launch(t, "drain-0", time.Hour), e.launch(t, "drain-1", time.Hour)}
	addr := testenv.FreePort(t)
	const delay = 2 * time.Second
	vars := map[string]string{"WEBHOOK_ADDR": addr, "DRAIN_DELAY": delay.String()}
	maps.Copy(vars, e.shared)
	p := testenv.Start(t, "webhook", vars)
	testenv.Drain{Proc: p, Base: "http://" + addr, Delay: delay, Grace: delay + 10*time.Second,
		Request: func(i int) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/confirm", strings.NewReader(url.Values{"token": {customers[i].token}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return req
		},
		Check: func(tb testing.TB, i int, a testenv.Answer) {
			if a.Status != http.StatusOK || !strings.Contains(a.Body, pageConfirmed) {
				tb.Fatalf("confirm #%d answered %d, want 200 %q:\n%s", i, a.Status, pageConfirmed, a.Body)
			}
		},
	}.Run(t)
	for _, o := range customers {
		e.activeWithCloud(t, o, workflows.ViaLink)
	}
}
