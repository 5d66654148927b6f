package main

import (
	"bytes"
	"net/http"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

// TestDrainFinishesTheDecodeInFlight: the real binary, sent SIGTERM while
// an operator's /decode is still uploading its payloads, fails /readyz at
// once, decodes a request that arrives during DRAIN_DELAY, then stops
// taking connections, answers the upload in flight in full and exits 0.
func TestDrainFinishesTheDecodeInFlight(t *testing.T) {
	addr := testenv.FreePort(t)
	const delay = 2 * time.Second
	p := testenv.Start(t, "codecserver", map[string]string{"CODEC_ADDR": addr, "CODEC_TOKEN": token, "DRAIN_DELAY": delay.String()})
	emails := []string{"in-flight@acme.example", "during-delay@acme.example"}
	testenv.Drain{Proc: p, Base: "http://" + addr, Delay: delay, Grace: delay + 5*time.Second,
		Request: func(i int) *http.Request {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/decode", bytes.NewReader(encrypted(t, map[string]string{"email": emails[i]})))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Namespace", "default")
			req.Header.Set("Authorization", "Bearer "+token)
			return req
		},
		Check: func(tb testing.TB, i int, a testenv.Answer) {
			var out commonpb.Payloads
			if a.Status != http.StatusOK || protojson.Unmarshal([]byte(a.Body), &out) != nil || len(out.Payloads) != 1 ||
				!bytes.Contains(out.Payloads[0].Data, []byte(emails[i])) {
				tb.Fatalf("decode #%d answered %d %q, want 200 with %s decoded", i, a.Status, a.Body, emails[i])
			}
		},
	}.Run(t)
}
