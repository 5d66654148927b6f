package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu  sync.Mutex
	builtDir string
	built    = map[string]string{}
)

// ModuleRoot is the repository's root folder.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		tb.Fatalf("go env GOMOD: %v", err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// Build builds one of the repository's binaries ("worker", "webhook",
// "starter") once per test process and returns its path.
func Build(tb testing.TB, name string) string {
	tb.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}
	if builtDir == "" {
		d, err := os.MkdirTemp("", "onboarding-bin-")
		if err != nil {
			tb.Fatal(err)
		}
		builtDir = d
	}
	out := filepath.Join(builtDir, name)
	cmd := exec.Command("go", "build", "-o", out, "./"+name)
	cmd.Dir = ModuleRoot(tb)
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build ./%s: %v\n%s", name, err, b)
	}
	built[name] = out
	return out
}

// Process is a binary of the repository running as a child process.
type Process struct {
	Cmd *exec.Cmd
	Log string // path of its combined output
}

// Start runs a built binary with the given environment on top of the
// stack's; it is stopped at cleanup. Its output goes to a file, shown when
// the test fails.
func Start(tb testing.TB, name string, vars map[string]string) *Process {
	tb.Helper()
	bin := Build(tb, name)
	logPath := filepath.Join(tb.TempDir(), name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "TEMPORAL_ADDRESS="+TemporalAddress(), "SMTP_ADDR="+SMTPAddr(), "DATABASE_URL="+DatabaseURL())
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	p := &Process{Cmd: cmd, Log: logPath}
	tb.Cleanup(func() {
		p.Stop()
		f.Close()
		if tb.Failed() {
			b, _ := os.ReadFile(logPath)
			tb.Logf("--- %s log ---\n%s", name, tail(string(b), 4000))
		}
	})
	return p
}

// Stop ends the process gracefully (SIGTERM), then for good.
func (p *Process) Stop() {
	if p.Cmd.ProcessState != nil {
		return
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
		<-done
	}
}

// Kill ends the process at once with SIGKILL, as a crash would.
func (p *Process) Kill() {
	_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
	_ = p.Cmd.Wait()
}

// FreePort returns a free loopback address.
func FreePort(tb testing.TB) string {
	tb.Helper()
	l, err := netListen()
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func tail(s string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("...%s", s[len(s)-n:])
	}
	return s
}
