package onboarding

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
)

// TestQueuedWhenTheServerCutsTheWait: a request whose wait ran out is
// queued, also when the server cut the call at its deadline before our own
// timer fired; cut before the deadline, it is not.
func TestQueuedWhenTheServerCutsTheWait(t *testing.T) {
	clock := time.Now()
	s := &Service{updateWait: time.Minute, now: func() time.Time { return clock }}
	cut := client.NewWorkflowUpdateServiceTimeoutOrCanceledError(errors.New("stream terminated by RST_STREAM with error code: CANCEL"))
	send := func(wait time.Duration) func(context.Context) (client.WorkflowUpdateHandle, error) {
		return func(context.Context) (client.WorkflowUpdateHandle, error) {
			clock = clock.Add(wait)
			return nil, cut
		}
	}
	err := s.await(context.Background(), "cancel", "onboarding/p/x", send(time.Minute), nil)
	require.ErrorIs(t, err, ErrQueued)
	err = s.await(context.Background(), "cancel", "onboarding/p/x", send(time.Second), nil)
	require.Error(t, err)
	require.NotErrorIs(t, err, ErrQueued)
}
