package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/links"
	"github.com/cloudpartners/onboarding/internal/loginhook"
	"github.com/cloudpartners/onboarding/internal/stack"
	"github.com/cloudpartners/onboarding/internal/testenv"
	"github.com/cloudpartners/onboarding/workflows"
)

const (
	bulkSecret      = "bulk-test-secret-0123456789abcdef0123456789"
	bulkLoginSecret = "bulk-test-login-secret-0123456789abcdef0123"
)

// customerA and customerB are two real onboardings whose links the bad
// tokens are made from.
type bulkCustomer struct {
	id, email, token string
	sa               domain.Subaccount
}

// TestBadTokensInBulk posts 10,000 forged, truncated, bit-flipped,
// cross-customer and wrongly signed tokens to the real webhook in front of
// the real worker: every one is refused with a 4xx and nothing is confirmed.
// Signed login-hook calls carrying bad tokens, stale and replayed calls are
// refused too; GET and HEAD of a valid link never confirm. A valid login
// call at the end proves the webhook was able to confirm all along.
func TestBadTokensInBulk(t *testing.T) {
	testenv.RequireStack(t)
	ctx := context.Background()
	st, dsn := testenv.NewStore(t)
	sfx := testenv.Suffix()
	tq := "bulk-" + sfx
	addr := testenv.FreePort(t)
	base := "http://" + addr
	shared := map[string]string{"DATABASE_URL": dsn, "TASK_QUEUE": tq, "ONBOARDING_SECRET": bulkSecret,
		"LOGIN_HOOK_SECRET": bulkLoginSecret, "PUBLIC_BASE_URL": base}
	workerVars := map[string]string{"WORKER_ADDR": testenv.FreePort(t)}
	// The per-address rate limit is lifted so that every token is looked at, not refused with 429.
	webhookVars := map[string]string{"WEBHOOK_ADDR": addr, "WEBHOOK_RATE": "1000000", "WEBHOOK_BURST": "1000000"}
	for k, v := range shared {
		workerVars[k], webhookVars[k] = v, v
	}
	testenv.Start(t, "worker", workerVars)
	testenv.Start(t, "webhook", webhookVars)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	testenv.Eventually(t, 30*time.Second, "the webhook's /healthz", func() bool {
		resp, err := hc.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	drv := testenv.NewDriver(t, shared)
	tc := drv.Temporal
	partner := "bulk-" + sfx
	drv.Partner(partner, "Bulk partner")
	var err error
	start := func(key string) *bulkCustomer {
		c := &bulkCustomer{email: fmt.Sprintf("bulk-%s-%s@example.com", key, sfx)}
		c.id, err = launch(ctx, drv.Driver, partner, newCustomer{name: "Bulk " + key + " " + sfx, email: c.email, cloud: "cloud-" + key, confirmWithin: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := start("a"), start("b")
	for _, c := range []*bulkCustomer{a, b} {
		if c.token, err = stack.TokenOf(drv.Link(c.email, 1)); err != nil {
			t.Fatal(err)
		}
		if c.sa, err = st.SubaccountByOnboarding(ctx, "", c.id); err != nil {
			t.Fatal(err)
		}
	}

	signer := links.NewSigner([]byte(bulkSecret))
	bad := badTokens(t, signer, a, b, 10_000)

	// Every bad token, posted as the confirmation form.
	answers := postAll(t, hc, len(bad), 8, func(i int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/confirm", strings.NewReader("token="+url.QueryEscape(bad[i].token)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	})
	byKind := map[string]map[int]int{}
	for i, code := range answers {
		k := bad[i].kind
		if byKind[k] == nil {
			byKind[k] = map[int]int{}
		}
		byKind[k][code]++
		if code < 400 || code > 499 || code == http.StatusTooManyRequests {
			t.Errorf("%s token %q: POST /confirm answered %d, want a 4xx refusal", k, bad[i].token, code)
		}
	}
	for k, codes := range byKind {
		t.Logf("POST /confirm, %-28s %v", k, codes)
	}

	// The same tokens in properly signed login-hook calls (a sample), stale
	// calls with a valid token, and a replay of one accepted signature.
	now := time.Now()
	hook := func(body string, at time.Time) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/hooks/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(loginhook.HeaderName, loginhook.Sign([]byte(bulkLoginSecret), at, []byte(body)))
		return req
	}
	sample := 1000
	hookAnswers := postAll(t, hc, sample, 8, func(i int) *http.Request {
		j := i * len(bad) / sample
		return hook(fmt.Sprintf(`{"token":%q}`, bad[j].token), now)
	})
	for i, code := range hookAnswers {
		if code < 400 || code > 499 || code == http.StatusTooManyRequests {
			t.Errorf("login hook with %s token: %d, want a 4xx refusal", bad[i*len(bad)/sample].kind, code)
		}
	}
	staleBody := fmt.Sprintf(`{"token":%q}`, a.token)
	stale := postAll(t, hc, 200, 8, func(i int) *http.Request {
		skew := loginhook.Tolerance + time.Duration(i+1)*7*time.Second
		if i%2 == 1 {
			skew = -skew // from the future
		}
		return hook(staleBody, now.Add(-skew))
	})
	for i, code := range stale {
		if code != http.StatusUnauthorized {
			t.Errorf("stale login call #%d: %d, want 401", i, code)
		}
	}
	// Scanners follow links with GET and HEAD: neither confirms.
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		codes := postAll(t, hc, 100, 4, func(int) *http.Request {
			req, _ := http.NewRequest(method, base+"/confirm?token="+url.QueryEscape(a.token), nil)
			return req
		})
		for _, code := range codes {
			if code != http.StatusOK {
				t.Errorf("%s /confirm with a valid token: %d, want the 200 page", method, code)
			}
		}
	}

	// Nothing changed: A and B still await confirmation, and no signal reached them.
	time.Sleep(time.Second)
	for _, c := range []*bulkCustomer{a, b} {
		sa, err := st.Subaccount(ctx, "", c.sa.ID)
		if err != nil {
			t.Fatal(err)
		}
		if sa.Status != domain.StatusAcceptanceRequired {
			t.Errorf("subaccount %s is %s after bad input, want %s", c.id, sa.Status, domain.StatusAcceptanceRequired)
		}
		cost, err := stack.History(ctx, tc, c.id, "")
		if err != nil {
			t.Fatal(err)
		}
		if cost.Signals != 0 {
			t.Errorf("%s received %d signals from bad input", c.id, cost.Signals)
		}
	}
	var rows int
	if err := st.DB().GetContext(ctx, &rows, `SELECT count(*) FROM subaccounts WHERE status <> 'ACCEPTANCE_REQUIRED'`); err != nil {
		t.Fatal(err)
	}
	if rows != 0 {
		t.Errorf("%d subaccounts changed status", rows)
	}

	// The control: one valid login call for B confirms it; its replays are refused and reach nothing.
	body := fmt.Sprintf(`{"token":%q}`, b.token)
	first := hook(body, time.Now())
	sig := first.Header.Get(loginhook.HeaderName)
	if code := postAll(t, hc, 1, 1, func(int) *http.Request { return first })[0]; code != http.StatusAccepted {
		t.Fatalf("a valid login call for B: %d, want 202", code)
	}
	replays := postAll(t, hc, 100, 4, func(int) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, base+"/hooks/login", strings.NewReader(body))
		req.Header.Set(loginhook.HeaderName, sig)
		return req
	})
	for _, code := range replays {
		if code != http.StatusConflict {
			t.Errorf("a replayed login call: %d, want 409", code)
		}
	}
	var res workflows.Result
	if err := tc.GetWorkflow(ctx, b.id, "").Get(ctx, &res); err != nil {
		t.Fatal(err)
	}
	if res.Outcome != workflows.OutcomeActive || res.CloudID == "" {
		t.Errorf("B ended %s with cloud %q, want ACTIVE with a cloud", res.Outcome, res.CloudID)
	}
	if cost, err := stack.History(ctx, tc, b.id, ""); err != nil || cost.Signals != 1 {
		t.Errorf("B received %d confirm signals (%v), want exactly 1", cost.Signals, err)
	}
	if sa, err := st.Subaccount(ctx, "", a.sa.ID); err != nil || sa.Status != domain.StatusAcceptanceRequired {
		t.Errorf("A is %s (%v) after B's confirmation, want %s", sa.Status, err, domain.StatusAcceptanceRequired)
	}
}

type badToken struct{ kind, token string }

// badTokens makes n tokens none of which may confirm anything.
func badTokens(t *testing.T, signer *links.Signer, a, b *bulkCustomer, n int) []badToken {
	t.Helper()
	enc := base64.RawURLEncoding
	rawA, err := enc.DecodeString(a.token)
	if err != nil {
		t.Fatal(err)
	}
	rawB, err := enc.DecodeString(b.token)
	if err != nil {
		t.Fatal(err)
	}
	rnd := mrand.New(mrand.NewPCG(1, 2))
	seen := map[string]bool{a.token: true, b.token: true}
	var out []badToken
	add := func(kind, tok string) {
		if seen[tok] || len(out) >= n {
			return
		}
		// A mutation that happens to be a valid token of ours is not bad input.
		if c, err := signer.Parse(tok); err == nil && (c.SubaccountID == a.sa.ID || c.SubaccountID == b.sa.ID) && c.Deadline.After(time.Now()) {
			return
		}
		seen[tok] = true
		out = append(out, badToken{kind, tok})
	}
	// Truncated, from either end.
	for i := range len(a.token) {
		add("truncated", a.token[:i])
		add("truncated", a.token[i+1:])
	}
	// Every bit of the decoded token flipped.
	for i := range len(rawA) * 8 {
		r := append([]byte(nil), rawA...)
		r[i/8] ^= 1 << (i % 8)
		add("bit-flipped", enc.EncodeToString(r))
	}
	// Every character replaced, including by characters outside the alphabet.
	const chars = "AZaz09-_+/=.~ %"
	for i := range len(a.token) {
		for _, ch := range chars {
			if byte(ch) != a.token[i] {
				add("char-replaced", a.token[:i]+string(ch)+a.token[i+1:])
			}
		}
	}
	// Cross-customer: A's bytes with B's at every split, either way round,
	// and one's claims under the other's signature.
	const payload = 1 + 16 + 8
	for k := 1; k < len(rawA); k++ {
		add("cross-customer splice", enc.EncodeToString(append(append([]byte(nil), rawA[:k]...), rawB[k:]...)))
		add("cross-customer splice", enc.EncodeToString(append(append([]byte(nil), rawB[:k]...), rawA[k:]...)))
	}
	add("cross-customer mac", enc.EncodeToString(append(append([]byte(nil), rawA[:payload]...), rawB[payload:]...)))
	add("cross-customer mac", enc.EncodeToString(append(append([]byte(nil), rawB[:payload]...), rawA[payload:]...)))
	idB := append(append(append([]byte(nil), rawA[:1]...), rawB[1:17]...), rawA[17:]...)
	add("cross-customer id", enc.EncodeToString(idB))
	// Signed with other secrets.
	for range 500 {
		other := make([]byte, 32)
		_, _ = rand.Read(other)
		tok, err := links.NewSigner(other).Token(a.sa.ID, a.sa.ConfirmDeadline)
		if err != nil {
			t.Fatal(err)
		}
		add("other secret", tok)
	}
	// Signed by us, for subaccounts that do not exist, or long expired.
	for i := range 300 {
		tok, _ := signer.Token(uuid.NewString(), time.Now().Add(time.Hour))
		add("unknown subaccount", tok)
		tok, _ = signer.Token(a.sa.ID, time.Now().Add(-time.Duration(i+1)*time.Hour))
		add("expired", tok)
	}
	// Forged: A's claims with random MACs, then random strings of every length.
	for len(out) < n*3/4 {
		r := append([]byte(nil), rawA[:payload]...)
		mac := make([]byte, len(rawA)-payload)
		_, _ = rand.Read(mac)
		add("forged mac", enc.EncodeToString(append(r, mac...)))
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	for len(out) < n {
		size := rnd.IntN(2 * links.MaxTokenLen)
		var sb strings.Builder
		for range size {
			if rnd.IntN(20) == 0 {
				sb.WriteRune(rune(rnd.IntN(0x2FF) + 1)) // now and then outside the alphabet
			} else {
				sb.WriteByte(alphabet[rnd.IntN(len(alphabet))])
			}
		}
		add("random", sb.String())
	}
	if len(out) != n {
		t.Fatalf("made %d bad tokens, want %d", len(out), n)
	}
	return out
}

// postAll sends n requests, conc at a time, and returns the status codes.
func postAll(t *testing.T, hc *http.Client, n, conc int, req func(i int) *http.Request) []int {
	t.Helper()
	codes := make([]int, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			for i := range next {
				resp, err := hc.Do(req(i))
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[i] = resp.StatusCode
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return codes
}
