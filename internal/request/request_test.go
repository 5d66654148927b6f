package request

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// TestQueuedWhenTheServerCutsTheWait: a request whose wait ran out is
// queued, also when the server cut the call at its deadline before our own
// timer fired; cut before the deadline, it is not.
func TestQueuedWhenTheServerCutsTheWait(t *testing.T) {
	clock := time.Now()
	s := &Sender{wait: time.Minute, now: func() time.Time { return clock }}
	cut := client.NewWorkflowUpdateServiceTimeoutOrCanceledError(errors.New("stream terminated by RST_STREAM with error code: CANCEL"))
	send := func(wait time.Duration) func(context.Context) (client.WorkflowUpdateHandle, error) {
		return func(context.Context) (client.WorkflowUpdateHandle, error) {
			clock = clock.Add(wait)
			return nil, cut
		}
	}
	err := s.Update(context.Background(), "cancel", send(time.Minute), nil)
	require.ErrorIs(t, err, ErrQueued)
	require.Equal(t, domain.Unavailable, domain.KindOf(err))
	err = s.Update(context.Background(), "cancel", send(time.Second), nil)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrQueued)
	require.Equal(t, domain.Internal, domain.KindOf(err), "an unexplained failure is internal")
}

// TestARefusalIsTheWorkflowsReason: the workflow's refusal comes back as a
// conflict worded by the workflow.
func TestARefusalIsTheWorkflowsReason(t *testing.T) {
	s := &Sender{wait: time.Minute, now: time.Now}
	err := s.Update(context.Background(), "resend", func(context.Context) (client.WorkflowUpdateHandle, error) {
		return nil, temporal.NewApplicationError("too soon: try again in 3s", "ResendRefused")
	}, nil)
	require.ErrorIs(t, err, domain.ErrRefused)
	require.Equal(t, domain.Conflict, domain.KindOf(err))
	require.Equal(t, "too soon: try again in 3s", err.Error())
}
