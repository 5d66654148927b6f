package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
)

// The phases of the load, by when a request was sent.
const (
	before int32 = iota
	during
	after
)

var phaseNames = []string{"before the roll", "during the roll", "after the roll"}

// load onboards customers as a partner's system and its customers do, all
// through the balancer: the partner's machine adds each one with the
// portal's API and reads its progress; the customer opens the link of the
// email and confirms on the webhook's page. No request is ever retried: a
// failure the balancer or a draining server let through is counted.
type load struct {
	hc      *http.Client
	portal  string // the balancer's URL for the portals
	key     string // the partner's API key
	mail    *stack.Mailpit
	sfx     string
	waitFor time.Duration // how long a customer waits for the email

	phase atomic.Int32
	wg    sync.WaitGroup

	mu        sync.Mutex
	samples   []sample
	customers []*customer
}

// sample is one HTTP request and what it got.
type sample struct {
	phase   int32
	kind    string
	took    time.Duration
	failure string // "" when it got its normal answer
}

// customer is one onboarding the load drives.
type customer struct {
	name, email string
	id          string // the onboarding id the portal answered; "" when the add failed
	confirmed   bool   // the webhook answered the confirm with its page
	err         error  // why the load could not carry its plan out
}

// run adds rate customers a second until stop is closed, each driven to
// its confirmation in its own goroutine; wait waits for them.
func (l *load) run(ctx context.Context, rate float64, stop <-chan struct{}) {
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	for i := 0; ; i++ {
		c := &customer{name: fmt.Sprintf("Scale %s %05d", l.sfx, i), email: fmt.Sprintf("scale-%s-%d@scale.example", l.sfx, i)}
		l.mu.Lock()
		l.customers = append(l.customers, c)
		l.mu.Unlock()
		l.wg.Go(func() { c.err = l.onboard(ctx, c) })
		select {
		case <-stop:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// onboard adds a customer, waits for its email, reads its progress, opens
// the link and confirms.
func (l *load) onboard(ctx context.Context, c *customer) error {
	body, _ := json.Marshal(map[string]string{"name": c.name, "email": c.email, "cloud": "main", "confirm_within": "1h"})
	a, err := l.do(ctx, "portal: add customer", http.MethodPost, l.portal+"/api/v1/customers", body, http.StatusCreated, `"launched":true`)
	if err != nil {
		return err
	}
	var added struct {
		ID           string `json:"onboarding_id"`
		SubaccountID string `json:"subaccount_id"`
	}
	if err := json.Unmarshal(a, &added); err != nil || added.ID == "" || added.SubaccountID == "" {
		return fmt.Errorf("add %s: no onboarding and subaccount id in %q", c.name, a)
	}
	c.id = added.ID
	wctx, cancel := context.WithTimeout(ctx, l.waitFor)
	link, err := l.mail.WaitLink(wctx, c.email, 1)
	cancel()
	if err != nil {
		return err
	}
	// The record is written by the onboarding's first activity, after the
	// add is answered: it is there once the email is.
	if _, err := l.do(ctx, "portal: progress", http.MethodGet, l.portal+"/api/v1/customers/"+added.SubaccountID+"/progress", nil, http.StatusOK, ""); err != nil {
		return err
	}
	if _, err := l.do(ctx, "webhook: confirm page", http.MethodGet, link, nil, http.StatusOK, "Confirm"); err != nil {
		return err
	}
	token, err := stack.TokenOf(link)
	if err != nil {
		return err
	}
	form := []byte(url.Values{"token": {token}, "action": {"confirm"}}.Encode())
	confirm := strings.SplitN(link, "?", 2)[0]
	if _, err := l.do(ctx, "webhook: confirm", http.MethodPost, confirm, form, http.StatusOK, "your confirmation is received"); err != nil {
		return err
	}
	c.confirmed = true
	return nil
}

// do sends one request and records it: a failure unless it got status and
// a body holding want.
func (l *load) do(ctx context.Context, kind, method, u string, body []byte, status int, want string) ([]byte, error) {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, r)
	if err != nil {
		return nil, err
	}
	switch {
	case strings.HasPrefix(u, l.portal):
		req.Header.Set("Authorization", "Bearer "+l.key)
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
	case body != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	s := sample{phase: l.phase.Load(), kind: kind}
	t0 := time.Now()
	resp, err := l.hc.Do(req)
	var got []byte
	if err == nil {
		got, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	s.took = time.Since(t0)
	switch {
	case err != nil:
		s.failure = err.Error()
	case resp.StatusCode != status || !bytes.Contains(got, []byte(want)):
		s.failure = fmt.Sprintf("%d %s", resp.StatusCode, strings.Join(strings.Fields(string(got[:min(len(got), 200)])), " "))
	}
	l.mu.Lock()
	l.samples = append(l.samples, s)
	l.mu.Unlock()
	if s.failure != "" {
		return got, fmt.Errorf("%s %s: %s", method, u, s.failure)
	}
	return got, nil
}

// figures are the load's totals and latencies.
type figures struct {
	sent, failed int
	byKind       map[string][2]int // sent, failed
	failures     []string          // the first few, for the report
	p50, p99     [3]time.Duration  // by phase
	n            [3]int
	kindP99      map[string][3]time.Duration // by kind and phase
}

func (l *load) figures() figures {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := figures{byKind: map[string][2]int{}, kindP99: map[string][3]time.Duration{}}
	var took [3][]time.Duration
	byKind := map[string]*[3][]time.Duration{}
	for _, s := range l.samples {
		f.sent++
		k := f.byKind[s.kind]
		k[0]++
		if s.failure != "" {
			f.failed++
			k[1]++
			if len(f.failures) < 20 {
				f.failures = append(f.failures, fmt.Sprintf("%s (%s): %s", s.kind, phaseNames[s.phase], s.failure))
			}
		}
		f.byKind[s.kind] = k
		took[s.phase] = append(took[s.phase], s.took)
		if byKind[s.kind] == nil {
			byKind[s.kind] = &[3][]time.Duration{}
		}
		byKind[s.kind][s.phase] = append(byKind[s.kind][s.phase], s.took)
	}
	for k, phases := range byKind {
		var q [3]time.Duration
		for p, d := range phases {
			sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
			q[p] = quantile(d, 0.99)
		}
		f.kindP99[k] = q
	}
	for p := range took {
		d := took[p]
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		f.n[p] = len(d)
		f.p50[p], f.p99[p] = quantile(d, 0.50), quantile(d, 0.99)
	}
	return f
}

// quantile is the q-quantile of sorted durations, by the nearest rank.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
