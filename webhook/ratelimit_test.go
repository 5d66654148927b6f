package main

import (
	"fmt"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestLimiterPerAddress(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	l := newLimiter(rate.Limit(1), 2, 100, func() time.Time { return now })
	for i, want := range []bool{true, true, false, false} {
		if got := l.allow("10.0.0.1"); got != want {
			t.Fatalf("request %d from 10.0.0.1: allow = %v, want %v", i+1, got, want)
		}
	}
	if !l.allow("10.0.0.2") {
		t.Fatal("another address is limited by the first one's requests")
	}
	now = now.Add(time.Second)
	if !l.allow("10.0.0.1") || l.allow("10.0.0.1") {
		t.Fatal("after a second at 1/s, want exactly one more request")
	}
}

func TestLimiterStaysBounded(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	const max = 64
	l := newLimiter(rate.Limit(1), 5, max, func() time.Time { return now })
	// A busy client exhausts its bucket.
	for range 5 {
		l.allow("busy")
	}
	if l.allow("busy") {
		t.Fatal("the busy client was not limited")
	}
	// A flood from many addresses, all within the same instant.
	for i := range 10 * max {
		l.allow(fmt.Sprintf("10.1.%d.%d", i/256, i%256))
		if n := l.size(); n > max {
			t.Fatalf("the limiter remembers %d addresses, more than its bound %d", n, max)
		}
	}
	// Idle clients are dropped first: after their buckets refill, new
	// addresses replace them and the map keeps its bound.
	now = now.Add(10 * time.Second)
	for i := range max {
		if !l.allow(fmt.Sprintf("10.2.0.%d", i)) {
			t.Fatalf("a new address was refused")
		}
	}
	if n := l.size(); n > max {
		t.Fatalf("the limiter remembers %d addresses, more than its bound %d", n, max)
	}
}
