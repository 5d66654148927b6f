// Package request sends a partner's request to a workflow that a worker
// carries out — an update to an onboarding or a customer — and waits a
// bounded time for its answer: done, refused by the workflow with its
// reason, or not taken by any worker in time. It refuses at once, sending
// nothing, when no worker polls the task queue.
package request

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// Bounded waits for requests that need a worker.
const (
	// pollerFresh is how recently a worker must have polled to count as
	// present: a worker's long poll lasts up to a minute.
	pollerFresh = 90 * time.Second
	// DefaultWait is how long a request waits for a worker to take it
	// before it is reported as queued.
	DefaultWait = 20 * time.Second
)

// ErrQueued means a request was sent but no worker answered in time:
// Temporal holds it and a worker carries it out when it takes it.
var ErrQueued = domain.New(domain.Unavailable, "Queued", "no worker answered in time: the request waits in Temporal and is carried out when a worker takes it")

// Sender sends requests over a Temporal client.
type Sender struct {
	temporal client.Client
	wait     time.Duration
	now      func() time.Time
}

// New returns a sender over a Temporal client that waits at most wait
// (zero: DefaultWait) for an answer.
func New(tc client.Client, wait time.Duration) *Sender {
	if wait <= 0 {
		wait = DefaultWait
	}
	return &Sender{temporal: tc, wait: wait, now: time.Now}
}

// WorkerPolling reports whether a worker has polled the task queue lately.
func (s *Sender) WorkerPolling(ctx context.Context, taskQueue string) (bool, error) {
	resp, err := s.temporal.DescribeTaskQueue(ctx, taskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return false, fmt.Errorf("look up the workers of task queue %q: %w", taskQueue, err)
	}
	for _, p := range resp.GetPollers() {
		if s.now().Sub(p.GetLastAccessTime().AsTime()) < pollerFresh {
			return true, nil
		}
	}
	return false, nil
}

// NeedWorker refuses, before anything is sent, when no worker polls the
// task queue.
func (s *Sender) NeedWorker(ctx context.Context, what, taskQueue string) error {
	if ok, err := s.WorkerPolling(ctx, taskQueue); err != nil {
		return err
	} else if !ok {
		return fmt.Errorf("%s: %w", what, domain.ErrNoWorker)
	}
	return nil
}

// Update sends a request and waits, a bounded time, for its result: a
// refusal by the workflow comes back as domain.ErrRefused with its reason,
// a workflow that has gone as domain.ErrNotFound, and a request no worker
// took in time as ErrQueued.
func (s *Sender) Update(ctx context.Context, what string, send func(context.Context) (client.WorkflowUpdateHandle, error), result any) error {
	deadline := s.now().Add(s.wait)
	uctx, cancel := context.WithTimeout(ctx, s.wait)
	defer cancel()
	h, err := send(uctx)
	if err == nil {
		err = h.Get(uctx, result)
	}
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return nil
	case IsNotFound(err):
		return fmt.Errorf("%s: %w", what, domain.ErrNotFound)
	case errors.As(err, &appErr):
		return domain.Errorf(domain.Conflict, domain.ErrRefused.Code, "%s", appErr.Message())
	// The wait ran out: by our timer, or by the server's, which cuts the
	// call at the deadline we sent it and may do so before our timer fires
	// on a busy machine.
	case ctx.Err() == nil && (uctx.Err() != nil || !s.now().Before(deadline)):
		return fmt.Errorf("%s: %w", what, ErrQueued)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// IsNotFound reports whether Temporal says the workflow does not exist.
func IsNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}
