//go:build deploytest

package deploytest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudpartners/onboarding/internal/stack"
)

// Podman runs podman as this machine needs it (the runc runtime; the
// containers.conf without podman's default rlimits), from a folder of its
// own: kube play looks for a folder named after an image to build.
type Podman struct {
	tb   testing.TB
	conf string
	dir  string
	down map[string]bool // kube files taken down
}

// NewPodman returns a podman for one test; what it plays is taken down at
// cleanup, the containers' logs shown first when the test failed.
func NewPodman(tb testing.TB, root string) *Podman {
	return &Podman{tb: tb, conf: filepath.Join(root, "deploy", "podman", "containers.conf"), dir: tb.TempDir(), down: map[string]bool{}}
}

// Run runs podman and returns its output; a failure carries the tail of
// its error output.
func (p *Podman) Run(ctx context.Context, args ...string) (string, error) {
	cmd := p.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("podman %s: %w: %s", strings.Join(args[:min(2, len(args))], " "), err,
			stack.Tail(withoutSystemd(stderr.String()), 2000))
	}
	return stdout.String(), nil
}

func (p *Podman) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "podman", append([]string{"--runtime", "runc"}, args...)...)
	cmd.Dir = p.dir
	cmd.Env = append(os.Environ(), "CONTAINERS_CONF="+p.conf)
	return cmd
}

// withoutSystemd drops podman's complaints that it cannot reach systemd to
// schedule health checks: there are none (ForPodman takes the probes out)
// and no systemd here.
func withoutSystemd(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.Contains(l, "unable to get systemd connection") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

// Must runs podman and fails the test when it fails.
func (p *Podman) Must(args ...string) string {
	p.tb.Helper()
	out, err := p.Run(p.tb.Context(), args...)
	if err != nil {
		p.tb.Fatal(err)
	}
	return out
}

// File writes a file into podman's folder, readable by its owner only
// (it may hold credentials), and returns its path.
func (p *Podman) File(name string, data []byte) string {
	p.tb.Helper()
	path := filepath.Join(p.dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.tb.Fatal(err)
	}
	return path
}

// Secret creates a podman secret, removed at cleanup.
func (p *Podman) Secret(name string, data []byte) {
	p.tb.Helper()
	p.Must("secret", "create", name, p.File("secret-"+name+".json", data))
	p.tb.Cleanup(func() { _, _ = p.Run(context.Background(), "secret", "rm", name) })
}

// Play plays a kube file, written as name.yaml, and returns its path; its
// pods are taken down at cleanup, after their containers' logs are shown
// if the test failed (podman names a container POD-CONTAINER, and a
// Deployment's pod NAME-pod-0).
func (p *Podman) Play(name string, kube []byte) string {
	p.tb.Helper()
	file := p.File(name+".yaml", kube)
	p.tb.Cleanup(func() {
		if p.tb.Failed() {
			p.logs(name)
		}
		p.Down(file)
	})
	p.Must("kube", "play", "--build=false", file)
	return file
}

// Down stops a played file's pods, letting their containers drain as the
// grace period allows (podman 4.3's own kube down gives them 10 s
// whatever terminationGracePeriodSeconds says), and removes them.
func (p *Podman) Down(file string) {
	if p.down[file] {
		return
	}
	p.down[file] = true
	out, err := p.Run(context.Background(), "kube", "down", file)
	if err != nil {
		p.tb.Logf("take down %s: %v %s", filepath.Base(file), err, out)
	}
}

// logs shows the logs of the containers whose name starts with prefix.
func (p *Podman) logs(prefix string) {
	out, err := p.Run(context.Background(), "ps", "-a", "--filter", "name=^"+prefix, "--format", "{{.Names}}")
	if err != nil {
		return
	}
	for _, c := range strings.Fields(out) {
		l, _ := p.command(context.Background(), "logs", c).CombinedOutput()
		p.tb.Logf("--- %s log ---\n%s", c, stack.Tail(string(l), 4000))
	}
}

// Wait waits, at most timeout, until the container exits and returns its exit code.
func (p *Podman) Wait(container string, timeout time.Duration) (int, error) {
	ctx, cancel := context.WithTimeout(p.tb.Context(), timeout)
	defer cancel()
	out, err := p.Run(ctx, "wait", container)
	if err != nil {
		return -1, err
	}
	var code int
	if _, err := fmt.Sscan(out, &code); err != nil {
		return -1, fmt.Errorf("podman wait %s: %q: %w", container, out, err)
	}
	return code, nil
}

// Inspect returns a container's fields in podman's Go template.
func (p *Podman) Inspect(container, format string) string {
	p.tb.Helper()
	return strings.TrimSpace(p.Must("inspect", "--type", "container", "--format", format, container))
}
