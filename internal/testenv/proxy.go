package testenv

import (
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards TCP connections to a target until Break, after which
// every connection it holds is cut and new ones are closed at once: a
// server gone away, for the clients given its address, while the server
// itself runs on for the rest of the test.
type Proxy struct {
	Addr   string
	target string
	ln     net.Listener

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
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, conns: map[net.Conn]bool{}}
	go p.serve()
	tb.Cleanup(func() { ln.Close(); p.Break() })
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
	var wg sync.WaitGroup
	wg.Go(func() { _, _ = io.Copy(u, c); u.Close() })
	wg.Go(func() { _, _ = io.Copy(c, u); c.Close() })
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
