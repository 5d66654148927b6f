package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy forwards TCP connections to a target until Break, after which
// every connection it holds is cut and new ones are closed at once: a
// server gone away, for the clients given its address, while the server
// itself runs on for the rest of the test.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener
	delay  time.Duration // before the target's first bytes on each connection
	// Accepted receives a value for each connection taken, when there is
	// room (it holds 16): a test knows the client is talking through it.
	Accepted chan struct{}

	mu     sync.Mutex
	broken bool
	conns  map[net.Conn]bool
}

// NewProxy listens on a free loopback port and forwards to target until
// the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}, Accepted: make(chan struct{}, 16)}
	go p.serve()
	tb.Cleanup(func() { ln.Close(); p.Break() })
	return p
}

// NewSlowProxy is a Proxy that holds the target's first answer on every
// connection for delay: a slow upstream (an SMTP relay slow to greet, say),
// so that the client's call is in flight that long.
func NewSlowProxy(tb testing.TB, target string, delay time.Duration) *Proxy {
	tb.Helper()
	p := NewProxy(tb, target)
	p.mu.Lock()
	p.delay = delay
	p.mu.Unlock()
	return p
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.hold(c) {
			c.Close()
			continue
		}
		select {
		case p.Accepted <- struct{}{}:
		default:
		}
		go p.forward(c)
	}
}

func (p *Proxy) forward(c net.Conn) {
	u, err := net.Dial("tcp", p.target)
	if err != nil || !p.hold(u) {
		c.Close()
		if u != nil {
			u.Close()
		}
		return
	}
	p.mu.Lock()
	delay := p.delay
	p.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(u, c); u.Close() })
	wg.Go(func() {
		if delay > 0 {
			buf := make([]byte, 32<<10)
			n, err := u.Read(buf)
			time.Sleep(delay)
			if _, werr := c.Write(buf[:n]); err != nil || werr != nil {
				c.Close()
				return
			}
		}
		_, _ = io.Copy(c, u)
		c.Close()
	})
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, u)
	p.mu.Unlock()
}

// hold keeps a connection to cut at Break; false once broken.
func (p *Proxy) hold(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken {
		return false
	}
	p.conns[c] = true
	return true
}

// Break cuts every connection and refuses the next ones.
func (p *Proxy) Break() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.broken = true
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}
