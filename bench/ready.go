package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ready is what a driver needs to confirm an onboarding: its customer
// record exists and the first email has gone out.
type ready struct {
	SubaccountID string
	Deadline     time.Time
}

// readySource reports which of the given onboardings are ready.
type readySource func(ctx context.Context, onboardingIDs []string) (map[string]ready, error)

// readyPoller finds out when onboardings become ready with one query per tick
// for all waiters, so that many drivers cost the database one poll.
type readyPoller struct {
	src     readySource
	mu      sync.Mutex
	waiting map[string][]chan ready
}

// newPoller polls src every interval until ctx ends.
func newPoller(ctx context.Context, src readySource, every time.Duration) *readyPoller {
	p := &readyPoller{src: src, waiting: map[string][]chan ready{}}
	go p.loop(ctx, every)
	return p
}

// Wait blocks until the onboarding is ready.
func (p *readyPoller) Wait(ctx context.Context, onboardingID string) (ready, error) {
	ch := make(chan ready, 1)
	p.mu.Lock()
	p.waiting[onboardingID] = append(p.waiting[onboardingID], ch)
	p.mu.Unlock()
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return ready{}, fmt.Errorf("wait for the first email of %s: %w", onboardingID, ctx.Err())
	}
}

func (p *readyPoller) loop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		ids := make([]string, 0, len(p.waiting))
		for id := range p.waiting {
			ids = append(ids, id)
		}
		p.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		got, err := p.src(ctx, ids)
		if err != nil {
			continue // the database may be restarting; the next tick tries again
		}
		p.mu.Lock()
		for id, r := range got {
			for _, ch := range p.waiting[id] {
				ch <- r
			}
			delete(p.waiting, id)
		}
		p.mu.Unlock()
	}
}

// dbReady reads readiness from Postgres: the subaccount row of the
// onboarding and its first recorded email.
func dbReady(db *sqlx.DB) readySource {
	return func(ctx context.Context, ids []string) (map[string]ready, error) {
		rows, err := db.QueryContext(ctx, `
			SELECT s.onboarding_id, s.id, s.confirm_deadline
			FROM subaccounts s JOIN emails e ON e.subaccount_id = s.id AND e.seq = 1
			WHERE s.onboarding_id = ANY($1)`, pq.Array(ids))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]ready{}
		for rows.Next() {
			var id string
			var r ready
			if err := rows.Scan(&id, &r.SubaccountID, &r.Deadline); err != nil {
				return nil, err
			}
			out[id] = r
		}
		return out, rows.Err()
	}
}

// memReady is a readySource fed in process, for the ceiling workflow.
type memReady struct {
	mu    sync.Mutex
	ready map[string]bool
}

// Mark records that an onboarding is ready.
func (m *memReady) Mark(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ready == nil {
		m.ready = map[string]bool{}
	}
	m.ready[id] = true
}

// Source is the readySource over what Mark recorded.
func (m *memReady) Source(_ context.Context, ids []string) (map[string]ready, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]ready{}
	for _, id := range ids {
		if m.ready[id] {
			out[id] = ready{}
		}
	}
	return out, nil
}
