package testenv

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Drain is the graceful drain of one HTTP binary under test: started with
// DRAIN_DELAY set to Delay, it must on SIGTERM fail /readyz with "draining"
// at once, answer requests that arrive during the delay as usual, then stop
// taking connections, finish the request in flight with its normal answer
// and exit 0 within Grace of the signal.
type Drain struct {
	Proc  *Process
	Base  string        // the binary's base URL, where /readyz is
	Delay time.Duration // its DRAIN_DELAY
	Grace time.Duration // the longest it may take to exit after SIGTERM
	// Request makes the i-th request: i = 0 is the one in flight at the
	// signal, its body sent slowly (half at once, the rest after the
	// server stopped taking connections); i = 1 arrives during the delay.
	Request func(i int) *http.Request
	// Check fails the test unless a is the i-th request's normal answer
	// (redirects are not followed: the server is going away).
	Check func(tb testing.TB, i int, a Answer)
}

// Answer is what a client got.
type Answer struct {
	Status int
	Header http.Header
	Body   string
	err    error
}

// Run sends SIGTERM to the binary while a request is in flight and checks
// every step of the drain.
func (d Drain) Run(tb testing.TB) {
	tb.Helper()
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	Eventually(tb, 30*time.Second, "ready before the signal", func() bool { return readyz(hc, d.Base) == http.StatusOK })

	// The request in flight: its headers and half its body reach the
	// server, which waits in its handler for the rest — a slow client.
	req := d.Request(0)
	body, err := io.ReadAll(req.Body)
	if err != nil {
		tb.Fatal(err)
	}
	pr, pw := io.Pipe()
	req.Body, req.ContentLength, req.GetBody = pr, int64(len(body)), nil
	got := make(chan Answer, 1)
	go func() { got <- do(hc, req) }()
	half := len(body) / 2
	if _, err := pw.Write(body[:half]); err != nil {
		tb.Fatalf("send the first half of the body: %v", err)
	}
	time.Sleep(200 * time.Millisecond) // the server has read the headers and is in the handler

	signalled := time.Now()
	d.Proc.Terminate()
	Eventually(tb, d.Delay/2, "/readyz to answer 503 draining", func() bool {
		return readyzBody(hc, d.Base) == "503 draining"
	})
	// A request that arrives during the delay is answered as usual: the
	// balancer may still send it before its next health check.
	a := do(hc, d.Request(1))
	if a.err != nil {
		tb.Fatalf("a request during the drain delay: %v", a.err)
	}
	d.Check(tb, 1, a)
	if time.Since(signalled) >= d.Delay {
		tb.Fatalf("the request during the delay took until %s after the signal, past the delay %s: make Delay longer", time.Since(signalled), d.Delay)
	}

	// After the delay the server takes no connection, but waits for the
	// request in flight.
	time.Sleep(time.Until(signalled.Add(d.Delay + 500*time.Millisecond)))
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(d.Base, "http://"), time.Second); err == nil {
		c.Close()
		tb.Errorf("%s still takes connections %s after SIGTERM, past DRAIN_DELAY %s", d.Base, time.Since(signalled), d.Delay)
	}
	select {
	case <-d.Proc.Done():
		tb.Fatalf("the process exited with code %d while a request was in flight", d.Proc.ExitCode())
	default:
	}
	if _, err := pw.Write(body[half:]); err != nil {
		tb.Fatalf("send the rest of the body: %v", err)
	}
	pw.Close()
	a = <-got
	if a.err != nil {
		tb.Fatalf("the request in flight at SIGTERM was cut off: %v", a.err)
	}
	d.Check(tb, 0, a)

	select {
	case <-d.Proc.Done():
	case <-time.After(time.Until(signalled.Add(d.Grace))):
		tb.Fatalf("the process did not exit within %s of SIGTERM", d.Grace)
	}
	if code := d.Proc.ExitCode(); code != 0 {
		tb.Fatalf("the process exited with code %d after SIGTERM, want 0", code)
	}
	tb.Logf("drained: exited 0 %s after SIGTERM (DRAIN_DELAY %s)", time.Since(signalled).Round(time.Millisecond), d.Delay)
}

func do(hc *http.Client, req *http.Request) Answer {
	resp, err := hc.Do(req)
	if err != nil {
		return Answer{err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return Answer{Status: resp.StatusCode, Header: resp.Header, Body: string(b), err: err}
}

func readyz(hc *http.Client, base string) int {
	a := do(hc, mustRequest(http.MethodGet, base+"/readyz", nil))
	if a.err != nil {
		return 0
	}
	return a.Status
}

// readyzBody is "<status> <body>" of /readyz, or the error.
func readyzBody(hc *http.Client, base string) string {
	a := do(hc, mustRequest(http.MethodGet, base+"/readyz", nil))
	if a.err != nil {
		return a.err.Error()
	}
	return fmt.Sprintf("%d %s", a.Status, strings.TrimSpace(a.Body))
}

// mustRequest is a request with a body of bytes, or none.
func mustRequest(method, u string, body []byte) *http.Request {
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		panic(err)
	}
	return req
}
