package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/cloudpartners/onboarding/internal/stack"
)

var (
	buildMu  sync.Mutex
	builtDir string
	built    = map[string]string{}
)

// ModuleRoot is the repository's root folder.
func ModuleRoot(tb testing.TB) string {
	tb.Helper()
	root, err := stack.ModuleRoot()
	if err != nil {
		tb.Fatal(err)
	}
	return root
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
		// Shared by every test of the process, so not a tb.TempDir.
		d, err := os.MkdirTemp("", "onboarding-bin-")
		if err != nil {
			tb.Fatal(err)
		}
		builtDir = d
	}
	paths, err := stack.Build(tb.Context(), ModuleRoot(tb), builtDir, name)
	if err != nil {
		tb.Fatal(err)
	}
	built[name] = paths[0]
	return paths[0]
}

// Process is a binary of the repository running as a child process; Stop
// ends it gracefully, Kill at once as a crash would.
type Process struct {
	*stack.Proc
	Log string // path of its combined output
}

// Start runs a built binary with the given environment on top of the
// stack's; it is stopped at cleanup. Its output goes to a file, shown when
// the test fails.
func Start(tb testing.TB, name string, vars map[string]string) *Process {
	tb.Helper()
	return StartBinary(tb, Build(tb, name), name, vars)
}

// StartBinary runs a binary as Start does; name labels its log.
func StartBinary(tb testing.TB, bin, name string, vars map[string]string) *Process {
	tb.Helper()
	logPath := filepath.Join(tb.TempDir(), name+".log")
	env := addrs().Env()
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	proc, err := stack.StartProc(bin, env, logPath)
	if err != nil {
		tb.Fatal(err)
	}
	p := &Process{Proc: proc, Log: logPath}
	tb.Cleanup(func() {
		p.Stop()
		if tb.Failed() {
			b, _ := os.ReadFile(logPath)
			tb.Logf("--- %s log ---\n%s", name, stack.Tail(string(b), 4000))
		}
	})
	return p
}

// BuildAt builds one of the repository's binaries as it was at a past
// commit — say the released worker, for the deploy test — and returns its
// path. It needs the commit in the clone's history.
func BuildAt(tb testing.TB, commit, name string) string {
	tb.Helper()
	root := ModuleRoot(tb)
	src := tb.TempDir()
	archive := exec.CommandContext(tb.Context(), "git", "-C", root, "archive", "--format=tar", commit)
	untar := exec.CommandContext(tb.Context(), "tar", "-x", "-C", src)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	untar.Stdin = pipe
	var stderr strings.Builder
	archive.Stderr = &stderr
	if err := untar.Start(); err != nil {
		tb.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		tb.Fatalf("git archive %s: %v: %s (the deploy test needs the git history: clone without --depth)", commit, err, stderr.String())
	}
	if err := untar.Wait(); err != nil {
		tb.Fatalf("unpack commit %s: %v", commit, err)
	}
	paths, err := stack.Build(tb.Context(), src, tb.TempDir(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return paths[0]
}

// FreePort returns a free loopback address.
func FreePort(tb testing.TB) string {
	tb.Helper()
	addr, err := stack.FreeAddr()
	if err != nil {
		tb.Fatal(err)
	}
	return addr
}

// PrivateState is the state folder of a private stack that a program's
// test starts (chaos, scale): a new temporary folder, the stack in it
// wiped through the script when the test ends — Postgres's data may live
// outside the folder.
func PrivateState(tb testing.TB, prefix string) string {
	tb.Helper()
	state, err := os.MkdirTemp("", prefix)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if tb.Failed() {
			// What scripts/stack.sh said is the only trace of a part that
			// would not start, once the state is wiped.
			logs, _ := filepath.Glob(filepath.Join(state, "*.log"))
			for _, f := range append([]string{state + "-stack.log"}, logs...) {
				if b, err := os.ReadFile(f); err == nil {
					tb.Logf("%s:\n%s", f, stack.Tail(string(b), 3000))
				}
			}
		}
		if err := (&stack.Stack{Root: ModuleRoot(tb), State: state}).Wipe(context.Background()); err != nil {
			tb.Errorf("wipe the private stack in %s: %v", state, err)
		}
		os.Remove(state + "-stack.log")
	})
	return state
}
