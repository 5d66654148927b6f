package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
)

// balancer is HAProxy in HTTP mode in front of the webhooks and the
// portals, as a cloud's load balancer or a Kubernetes Service would be: it
// sends each request to a server whose GET /readyz answered 200 at its last
// checks, and stops sending to one that failed `fall` checks in a row.
//
// Retries: a request is tried again, on another server (option
// redispatch), only when the connection to its server could not be opened
// (retry-on conn-failure): then nothing reached a server, so it is safe for
// every method. A request that reached a server is never sent again by the
// balancer, whatever its method: a server that drains does not cut what it
// took (daemon.Serve), so there is nothing to retry, and a POST repeated
// behind the client's back could be carried out twice — ours are safe to
// repeat by their business key, but that is the client's call
// (Idempotency-Key), not the balancer's. The roll must pass without a
// retry hiding a failure: the report counts every answer the clients got.
type balancer struct {
	proc *stack.Proc
	sock string // the runtime API's socket, for the servers' states
}

// backend is one tier behind the balancer.
type backend struct {
	name  string   // "webhook", "portal"
	front string   // the address clients use
	slots []string // the servers' addresses: the instances' and a spare one a new instance takes
}

// checks are the balancer's health checks of every server.
type checks struct {
	inter      time.Duration // between two checks
	fall, rise int           // checks failed (passed) in a row to take a server out (put it in)
}

var haproxyConfig = template.Must(template.New("haproxy.cfg").Parse(`# The scale test's balancer, written by scale/balancer.go.
global
    stats socket {{.Sock}} mode 600 level admin
    maxconn 4000

defaults
    mode http
    option forwardfor
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout check 1s
    # Only a connection that could not be opened is tried again, on
    # another server: nothing reached a server (see balancer in balancer.go).
    retries 3
    option redispatch 1
    retry-on conn-failure
    default-server inter {{.Inter}} fall {{.Fall}} rise {{.Rise}}
{{range .Backends}}
frontend {{.Name}}
    bind {{.Front}}
    default_backend {{.Name}}

backend {{.Name}}
    balance roundrobin
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
{{- range $i, $s := .Slots}}
    server s{{$i}} {{$s}} check
{{- end}}
{{end}}`))

// startBalancer writes the configuration into dir and starts HAProxy on it.
func startBalancer(ctx context.Context, dir string, c checks, backends []backend, out io.Writer) (*balancer, error) {
	bin, err := haproxyBinary(ctx, out)
	if err != nil {
		return nil, err
	}
	b := &balancer{sock: filepath.Join(dir, "haproxy.sock")}
	cfg := filepath.Join(dir, "haproxy.cfg")
	f, err := os.Create(cfg)
	if err != nil {
		return nil, fmt.Errorf("balancer: %w", err)
	}
	var bs []map[string]any // the template reads exported names only
	for _, be := range backends {
		bs = append(bs, map[string]any{"Name": be.name, "Front": be.front, "Slots": be.slots})
	}
	err = haproxyConfig.Execute(f, map[string]any{"Sock": b.sock, "Backends": bs,
		"Inter": c.inter.Milliseconds(), "Fall": c.fall, "Rise": c.rise})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("balancer: write %s: %w", cfg, err)
	}
	if msg, err := exec.CommandContext(ctx, bin, "-c", "-q", "-f", cfg).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("balancer: %s is refused by haproxy -c: %w\n%s", cfg, err, msg)
	}
	if b.proc, err = stack.StartCommand(bin, []string{"-db", "-f", cfg}, nil, filepath.Join(dir, "haproxy.log")); err != nil {
		return nil, err
	}
	return b, nil
}

// haproxyBinary finds HAProxy, installing the Debian package when it is
// missing and we are root, as the stack installs what it needs.
func haproxyBinary(ctx context.Context, out io.Writer) (string, error) {
	find := func() (string, error) {
		if p, err := exec.LookPath("haproxy"); err == nil {
			return p, nil
		}
		if _, err := os.Stat("/usr/sbin/haproxy"); err == nil { // not on a user's PATH
			return "/usr/sbin/haproxy", nil
		}
		return "", errors.New("the scale test needs HAProxy 2.6 or later: run 'sudo apt-get install haproxy'")
	}
	if p, err := find(); err == nil || os.Geteuid() != 0 {
		return p, err
	}
	fmt.Fprintln(out, "scale: installing haproxy (Debian package) for the balancer …")
	for _, args := range [][]string{{"update", "-qq"}, {"install", "-y", "-qq", "haproxy"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if b, err := cmd.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get %s: %w\n%s", strings.Join(args, " "), err, b)
		}
	}
	return find()
}

// states are the servers' states as the balancer sees them, by backend and
// server name ("s0"…): "UP", "DOWN", or a transition such as "UP 1/2".
func (b *balancer) states(ctx context.Context) (map[string]map[string]string, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", b.sock)
	if err != nil {
		return nil, fmt.Errorf("balancer: %w", err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, "show stat\n"); err != nil {
		return nil, fmt.Errorf("balancer: %w", err)
	}
	r := csv.NewReader(c)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("balancer: show stat: %w", err)
	}
	head := rows[0]
	head[0] = strings.TrimPrefix(head[0], "# ")
	px, sv, st := slices.Index(head, "pxname"), slices.Index(head, "svname"), slices.Index(head, "status")
	if px < 0 || sv < 0 || st < 0 {
		return nil, fmt.Errorf("balancer: show stat has no pxname, svname or status column: %v", head)
	}
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		if len(row) <= st || row[sv] == "FRONTEND" || row[sv] == "BACKEND" {
			continue
		}
		if out[row[px]] == nil {
			out[row[px]] = map[string]string{}
		}
		out[row[px]][row[sv]] = row[st]
	}
	return out, nil
}

// wait waits until the balancer sees the backend's server of slot i in
// state ("UP", "DOWN").
func (b *balancer) wait(ctx context.Context, backend string, slot int, state string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	server := fmt.Sprintf("s%d", slot)
	last := ""
	for {
		if s, err := b.states(ctx); err == nil {
			if last = s[backend][server]; last == state {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the balancer sees %s/%s %q, not %s, after %s", backend, server, last, state, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop ends HAProxy.
func (b *balancer) stop() {
	if b != nil && b.proc != nil {
		b.proc.Stop()
	}
}
