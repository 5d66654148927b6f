// Package request delivers a partner's request to the workflow that
// carries it out — an onboarding (resend, cancel) or a customer (add a
// cloud, suspend, resume) — durably: as a signal, which is in the
// workflow's history once the server answers, so that an accepted request
// happens whatever fails next. The workflow settles it, done or refused,
// with its audit event. The sender then waits, while a worker polls, a
// bounded time for that answer; past it, or with no worker, the request is
// answered "accepted" and followed by its id.
package request

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/cloudpartners/onboarding/activities"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Bounded waits.
const (
	// pollerFresh is how recently a worker must have polled to count as
	// present: a worker's long poll lasts up to a minute.
	pollerFresh = 90 * time.Second
	// DefaultWait is how long a request waits for its workflow's answer,
	// while a worker polls, before it is answered "accepted".
	DefaultWait = 10 * time.Second
	// pollEvery is how often the wait looks at the request's row.
	pollEvery = 20 * time.Millisecond
)

// ErrReused refuses an id (an idempotency key) used before for another request.
var ErrReused = domain.New(domain.Invalid, "KeyReused", "this idempotency key was used for another request: use a new key for a new request")

// Sender sends requests over a Temporal client and follows them in the store.
type Sender struct {
	temporal client.Client
	store    *store.Store
	wait     time.Duration
	now      func() time.Time
}

// New returns a sender that waits at most wait (zero: DefaultWait) for a
// request's answer.
func New(tc client.Client, st *store.Store, wait time.Duration) *Sender {
	if wait <= 0 {
		wait = DefaultWait
	}
	return &Sender{temporal: tc, store: st, wait: wait, now: time.Now}
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

// Payload is a request as its workflow receives it.
type Payload = activities.Request

// Deliver puts the request in its workflow's history: a signal to a
// running workflow, or a signal-with-start.
type Deliver func(ctx context.Context, r activities.Request) error

// Send delivers a request and returns where it stands: done or refused by
// its workflow (a refusal is returned as a domain.ErrRefused conflict with
// the workflow's reason, nothing changed), or accepted — durable, to be
// carried out when a worker takes it. The same id again finds the request
// made first and delivers nothing new; the same id with other arguments is
// refused. A workflow that has gone is domain.ErrNotFound; a failure to
// deliver leaves nothing accepted but may not be sure of it: retried with
// the same id, the request is carried out once.
func (s *Sender) Send(ctx context.Context, r activities.Request, taskQueue string, deliver Deliver) (domain.Request, error) {
	if prior, ok, err := s.Prior(ctx, r, taskQueue); ok || err != nil {
		return prior, err
	}
	if err := deliver(ctx, r); err != nil {
		if IsNotFound(err) {
			return domain.Request{}, fmt.Errorf("%s: %w", r.Kind, domain.ErrNotFound)
		}
		return domain.Request{}, fmt.Errorf("deliver the %s request: %w", r.Kind, err)
	}
	accepted := r.Domain()
	if got, err := s.store.AcceptRequest(ctx, accepted); err == nil {
		accepted = got
	}
	// A failure to record it changes nothing: the request is in the
	// workflow's history, and the workflow records it when it settles it.
	return s.follow(ctx, accepted, taskQueue)
}

// Prior finds the request made before with r's id, if any, and says
// where it stands as Send would: a retry is answered as the first request
// was, whatever has changed since — checked before anything else, so
// that a retry after a timeout is not refused for what the first did. The
// same id with other arguments is refused as reused.
func (s *Sender) Prior(ctx context.Context, r activities.Request, taskQueue string) (domain.Request, bool, error) {
	prior, err := s.store.Request(ctx, "", r.ID)
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return domain.Request{}, false, nil
	case err != nil:
		return domain.Request{}, false, err
	case prior.Kind != r.Kind || prior.SubaccountID != r.SubaccountID || prior.Fingerprint != r.Fingerprint || prior.PartnerID != r.PartnerID:
		return domain.Request{}, true, ErrReused
	}
	got, err := s.follow(ctx, prior, taskQueue)
	return got, true, err
}

// follow waits, while a worker polls the task queue, a bounded time for
// the workflow to settle the request, and says where it stands.
func (s *Sender) follow(ctx context.Context, r domain.Request, taskQueue string) (domain.Request, error) {
	if r.Pending() {
		if ok, err := s.WorkerPolling(ctx, taskQueue); err == nil && ok {
			deadline := s.now().Add(s.wait)
			for r.Pending() && s.now().Before(deadline) {
				select {
				case <-ctx.Done():
					return r, nil // it is accepted: the caller went away
				case <-time.After(pollEvery):
				}
				if got, err := s.store.Request(ctx, "", r.ID); err == nil {
					r = got
				}
			}
		}
	}
	if r.Status == domain.RequestRefused {
		return r, domain.Errorf(domain.Conflict, domain.ErrRefused.Code, "%s", text.OneLine(r.Reason))
	}
	return r, nil
}

// IsNotFound reports whether Temporal says the workflow does not exist.
func IsNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// For is a request of kind, by an actor, to the workflow workflowID of a
// customer. id is the caller's idempotency key as a UUID; empty: a new one.
func For(by domain.Actor, kind, id, workflowID string, sa domain.Subaccount, at time.Time) (activities.Request, error) {
	switch {
	case id == "":
		id = uuid.NewString()
	case uuid.Validate(id) != nil:
		return activities.Request{}, domain.Invalidf("request_id", "%q is not a request id: want a UUID, or none for a new request", text.Truncate(id, 60))
	}
	return activities.Request{ID: id, Kind: kind, PartnerID: sa.PartnerID, SubaccountID: sa.ID, OnboardingID: sa.OnboardingID,
		WorkflowID: workflowID, Fingerprint: kind, By: activities.Actor{Kind: by.Kind, ID: by.ID, Addr: by.Addr}, At: at.UTC()}, nil
}

// keySpace is the UUID namespace of request ids made from idempotency keys.
var keySpace = uuid.MustParse("3f7c2b8e-5d41-4a6e-9c0f-2e8b7d1a6c53")

// KeyID is the request id of an idempotency key a client sent (the API's
// Idempotency-Key header): the same key from the same partner is the same
// request. An empty key is a new request ("").
func KeyID(scope, key string) (string, error) {
	if key == "" {
		return "", nil
	}
	if len(key) > 255 {
		return "", domain.Invalidf("Idempotency-Key", "want at most 255 characters, such as a UUID")
	}
	return uuid.NewSHA1(keySpace, []byte(scope+"\x00"+key)).String(), nil
}
