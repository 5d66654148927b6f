package main

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter keeps one token bucket per client address, in a bounded map.
type limiter struct {
	rate  rate.Limit
	burst int
	max   int // most addresses remembered
	now   func() time.Time

	mu      sync.Mutex
	clients map[string]*visitor
}

type visitor struct {
	bucket *rate.Limiter
	seen   time.Time
}

func newLimiter(r rate.Limit, burst, max int, now func() time.Time) *limiter {
	return &limiter{rate: r, burst: burst, max: max, now: now, clients: make(map[string]*visitor)}
}

// allow reports whether the client at addr may make one more request now.
func (l *limiter) allow(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	v, ok := l.clients[addr]
	if !ok {
		if len(l.clients) >= l.max {
			l.evict(now)
		}
		v = &visitor{bucket: rate.NewLimiter(l.rate, l.burst)}
		l.clients[addr] = v
	}
	v.seen = now
	return v.bucket.AllowN(now, 1)
}

// evict makes room. A client idle long enough for its bucket to refill is
// forgotten at no loss; if all are busy (a flood from many addresses), an
// eighth of them, chosen at random by map order, is forgotten so that one
// insertion does not pay for a full scan every time.
func (l *limiter) evict(now time.Time) {
	refill := time.Duration(float64(l.burst) / float64(l.rate) * float64(time.Second))
	for k, v := range l.clients {
		if now.Sub(v.seen) >= refill {
			delete(l.clients, k)
		}
	}
	for k := range l.clients {
		if len(l.clients) < l.max-l.max/8 {
			break
		}
		delete(l.clients, k)
	}
}

// size is the number of addresses remembered.
func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.clients)
}
