package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/cloudpartners/onboarding/internal/codec"
	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

func keyOf(id string, b byte) string {
	return id + ":" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{b}, 32))
}

// history reads a run's events as stored.
func history(t *testing.T, c client.Client, id string) *historypb.History {
	t.Helper()
	var h historypb.History
	it := c.GetWorkflowHistory(context.Background(), id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	return &h
}

// TestPayloadsAreEncryptedAndKeysRotate: what Temporal stores is
// ciphertext under the primary key; after a new key becomes primary the
// onboardings started under the old one finish, and their histories
// decode and replay with the old key kept beside the new.
func TestPayloadsAreEncryptedAndKeysRotate(t *testing.T) {
	k1, k2 := keyOf("k1", 1), keyOf("k2", 2)
	s := startWorker(t, map[string]string{"PAYLOAD_KEYS": k1})
	ctx := context.Background()
	partner, email := newCustomer(t, s)
	drv1 := testenv.NewDriver(t, map[string]string{"PAYLOAD_KEYS": k1, "TASK_QUEUE": s.tq, "DATABASE_URL": s.dsn})
	c1 := dialWith(t, keysOf(t, k1))
	l, err := drv1.Onboarding.Launch(ctx, domain.Operator("test"), partner, onboarding.NewCustomer{Name: "Secret Co", Email: email, Contact: "Ann Secret", Cloud: "main"})
	require.NoError(t, err)
	testenv.Eventually(t, 20*time.Second, "the wait", func() bool {
		v, err := c1.QueryWorkflow(ctx, l.OnboardingID, "", workflows.QueryStatus)
		var st workflows.Status
		return err == nil && v.Get(&st) == nil && st.Stage == workflows.StageAwaiting
	})

	// At rest, the input is ciphertext under k1: no email, no contact.
	raw := history(t, c1, l.OnboardingID)
	in := raw.Events[0].GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()[0]
	require.Equal(t, codec.Encoding, string(in.Metadata[converter.MetadataEncoding]))
	require.Equal(t, "k1", string(in.Metadata[codec.MetadataKeyID]))
	for _, e := range raw.Events {
		b, _ := e.Marshal()
		require.NotContains(t, string(b), email)
		require.NotContains(t, string(b), "Ann Secret")
	}

	// Rotate: every worker gets k2 as primary with k1 kept (here the one
	// worker is replaced). The waiting onboarding finishes.
	s.stop()
	cfg2 := keysOf(t, k2+","+k1)
	c2 := dialWith(t, cfg2)
	startWorkerOn(t, s, map[string]string{"PAYLOAD_KEYS": k2 + "," + k1})
	require.NoError(t, c2.SignalWorkflow(ctx, l.OnboardingID, "", workflows.SignalConfirm, workflows.Confirm{Via: workflows.ViaLink}))
	var r workflows.Result
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	require.NoError(t, c2.GetWorkflow(wctx, l.OnboardingID, "").Get(wctx, &r))
	require.Equal(t, workflows.OutcomeActive, r.Outcome)

	// The history holds payloads under both keys; it replays with both.
	h := history(t, c2, l.OnboardingID)
	ids := map[string]bool{}
	for _, e := range h.Events {
		for _, p := range e.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads() {
			ids[string(p.Metadata[codec.MetadataKeyID])] = true
		}
	}
	require.True(t, ids["k1"] && ids["k2"], "results under both keys: %v", ids)
	// Dropping k1 too early would lose what it wrote: a codec with only k2
	// refuses those payloads, naming the key it lacks.
	keys2, err := codec.ParseKeys(k2)
	require.NoError(t, err)
	only2, err := codec.New(keys2)
	require.NoError(t, err)
	for _, e := range h.Events {
		for _, p := range e.GetActivityTaskCompletedEventAttributes().GetResult().GetPayloads() {
			_, err := only2.Decode([]*commonpb.Payload{p})
			if string(p.Metadata[codec.MetadataKeyID]) == "k1" {
				require.ErrorContains(t, err, "k1")
			} else {
				require.NoError(t, err)
			}
		}
	}
	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: cfg2.DataConverter(),
		FailureConverter: cfg2.FailureConverter()})
	require.NoError(t, err)
	replayer.RegisterWorkflowWithOptions(workflows.Onboarding, workflow.RegisterOptions{Name: workflows.WorkflowName})
	require.NoError(t, replayer.ReplayWorkflowHistory(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))), h))

	// A client without the keys sees only ciphertext: it cannot read the result.
	plain := testenv.ClientWith(t, converter.GetDefaultDataConverter())
	var res workflows.Result
	require.Error(t, plain.GetWorkflow(ctx, l.OnboardingID, "").Get(ctx, &res))
}

// keysOf is the payload codec of PAYLOAD_KEYS, as every binary reads it.
func keysOf(t *testing.T, keys string) *codec.Codec {
	t.Helper()
	v := config.New(testenv.Getenv(map[string]string{"PAYLOAD_KEYS": keys}))
	c := config.LoadCodec(v)
	require.NoError(t, v.Err())
	return c
}

// dialWith dials the stack's Temporal with a codec's converters.
func dialWith(t *testing.T, c *codec.Codec) client.Client {
	t.Helper()
	return testenv.ClientWith(t, c.DataConverter())
}
