package harness

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Ready is what a driver needs to confirm an onboarding: its customer
// record exists and the first email has gone out.
type Ready struct {
	SubaccountID string
	Deadline     time.Time
}

// ReadySource reports which of the given onboardings are ready.
type ReadySource func(ctx context.Context, onboardingIDs []string) (map[string]Ready, error)

// Poller finds out when onboardings become ready with one query per tick
// for all waiters, so that many drivers cost the database one poll.
type Poller struct {
	src     ReadySource
	mu      sync.Mutex
	waiting map[string][]chan Ready
}

// NewPoller polls src every interval until ctx ends.
func NewPoller(ctx context.Context, src ReadySource, every time.Duration) *Poller {
	p := &Poller{src: src, waiting: map[string][]chan Ready{}}
	go p.loop(ctx, every)
	return p
}

// Wait blocks until the onboarding is ready.
func (p *Poller) Wait(ctx context.Context, onboardingID string) (Ready, error) {
	ch := make(chan Ready, 1)
	p.mu.Lock()
	p.waiting[onboardingID] = append(p.waiting[onboardingID], ch)
	p.mu.Unlock()
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		return Ready{}, fmt.Errorf("wait for the first email of %s: %w", onboardingID, ctx.Err())
	}
}

func (p *Poller) loop(ctx context.Context, every time.Duration) {
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

// DBReady reads readiness from Postgres: the subaccount row of the
// onboarding and its first recorded email.
func DBReady(db *sqlx.DB) ReadySource {
	return func(ctx context.Context, ids []string) (map[string]Ready, error) {
		rows, err := db.QueryContext(ctx, `
			SELECT s.onboarding_id, s.id, s.confirm_deadline
			FROM subaccounts s JOIN emails e ON e.subaccount_id = s.id AND e.seq = 1
			WHERE s.onboarding_id = ANY($1)`, pq.Array(ids))
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out := map[string]Ready{}
		for rows.Next() {
			var id string
			var r Ready
			if err := rows.Scan(&id, &r.SubaccountID, &r.Deadline); err != nil {
				return nil, err
			}
			out[id] = r
		}
		return out, rows.Err()
	}
}

// MemReady is a ReadySource fed in process, for the ceiling workflow.
type MemReady struct {
	mu    sync.Mutex
	ready map[string]bool
}

// Mark records that an onboarding is ready.
func (m *MemReady) Mark(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ready == nil {
		m.ready = map[string]bool{}
	}
	m.ready[id] = true
}

// Source is the ReadySource over what Mark recorded.
func (m *MemReady) Source(_ context.Context, ids []string) (map[string]Ready, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]Ready{}
	for _, id := range ids {
		if m.ready[id] {
			out[id] = Ready{}
		}
	}
	return out, nil
}
