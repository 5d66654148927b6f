package stack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"strconv"
)

// FreePorts picks ports that are free now. The full server's frontend also
// needs its port + 10 (its HTTP API, scripts/stack.sh's default), and its
// internal ports are a run of InternalPorts, so those are checked too.
func FreePorts() (Ports, error) {
	var p Ports
	seen := map[int]bool{}
	// pick returns a free port whose companions (port+offset) are free too.
	pick := func(offsets ...int) (int, error) {
	next:
		for range 50 {
			port, err := freePort()
			if err != nil {
				return 0, err
			}
			if seen[port] {
				continue
			}
			for _, o := range offsets {
				if port+o > 65535 || seen[port+o] || !portFree(port+o) {
					continue next
				}
			}
			seen[port] = true
			for _, o := range offsets {
				seen[port+o] = true
			}
			return port, nil
		}
		return 0, errors.New("free port: none found in 50 tries")
	}
	var err error
	for _, f := range []struct {
		dst     *int
		offsets []int
	}{{&p.Temporal, []int{10}}, {&p.TemporalUI, nil}, {&p.TemporalMetrics, nil}, {&p.Postgres, nil}, {&p.SMTP, nil},
		{&p.Mailpit, nil}} {
		if *f.dst, err = pick(f.offsets...); err != nil {
			return Ports{}, err
		}
	}
	if p.TemporalInternal, err = internalRun(seen); err != nil {
		return Ports{}, err
	}
	return p, nil
}

// internalRun finds InternalPorts free ports in a row for the full
// server's services or the cluster's hosts. The server stores its membership ports in a SMALLINT
// column, so they lie below 32768 — under the kernel's ephemeral range, so
// they are chosen at random there and checked.
func internalRun(seen map[int]bool) (int, error) {
	const lo, hi = 20000, 32768 - InternalPorts
next:
	for range 100 {
		base := lo + mrand.IntN(hi-lo)
		for port := base; port < base+InternalPorts; port++ {
			if seen[port] || !portFree(port) {
				continue next
			}
		}
		for port := base; port < base+InternalPorts; port++ {
			seen[port] = true
		}
		return base, nil
	}
	return 0, errors.New("free port: no run of free ports for the full server or the cluster in 100 tries")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func portFree(port int) bool {
	l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// FreeAddr returns a loopback address with a port free right now.
func FreeAddr() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// Suffix returns a short random string to keep one run's data apart.
func Suffix() string { return randomHex(5) }

// Secret returns a random 256-bit secret, hex-encoded: the
// ONBOARDING_SECRET of a private run.
func Secret() string { return randomHex(32) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	return hex.EncodeToString(b)
}
