package stack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
)

// FreePorts picks ports that are free now. The Temporal frontend also needs
// its port + 1000 (the dev server's HTTP API), so that one is checked too.
func FreePorts() (Ports, error) {
	var p Ports
	seen := map[int]bool{}
	pick := func(withHTTP bool) (int, error) {
		for range 50 {
			port, err := freePort()
			if err != nil {
				return 0, err
			}
			if seen[port] || (withHTTP && (port+1000 > 65535 || !portFree(port+1000))) {
				continue
			}
			seen[port] = true
			return port, nil
		}
		return 0, errors.New("free port: none found in 50 tries")
	}
	var err error
	for _, f := range []struct {
		dst  *int
		http bool
	}{{&p.Temporal, true}, {&p.TemporalUI, false}, {&p.TemporalMetrics, false}, {&p.Postgres, false}, {&p.SMTP, false}, {&p.Mailpit, false}} {
		if *f.dst, err = pick(f.http); err != nil {
			return Ports{}, err
		}
	}
	return p, nil
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
