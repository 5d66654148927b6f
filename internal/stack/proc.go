package stack

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ModuleRoot is the repository's root folder, found with `go env GOMOD`.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("go env GOMOD: not inside the repository")
	}
	return filepath.Dir(mod), nil
}

// StateIn is the repository's root and a stack's state folder in it: state
// as given when absolute, else under the root.
func StateIn(state string) (root, abs string, err error) {
	if root, err = ModuleRoot(); err != nil {
		return "", "", err
	}
	if filepath.IsAbs(state) {
		return root, state, nil
	}
	return root, filepath.Join(root, state), nil
}

// Build compiles the repository's binaries named ("worker", "webhook",
// "starter") into dir with one `go build` and returns their paths, in order.
func Build(ctx context.Context, root, dir string, names ...string) ([]string, error) {
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	paths := make([]string, len(names))
	for i, n := range names {
		args = append(args, "./"+n)
		paths[i] = filepath.Join(dir, n)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go build ./%s: %w\n%s", strings.Join(names, " ./"), err, b)
	}
	return paths, nil
}

// Proc is a child process in its own process group, its output appended to a log file.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	exit int // the exit code, once done; -1 when a signal ended it
}

// StartProc starts bin with env added to the current environment.
func StartProc(bin string, env []string, logPath string) (*Proc, error) {
	return StartCommand(bin, nil, env, logPath)
}

// StartCommand starts bin with arguments, as StartProc does.
func StartCommand(bin string, args, env []string, logPath string) (*Proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group, so that Kill also ends whatever it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.exit = cmd.ProcessState.ExitCode()
		f.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// ExitCode is the process's exit code once Done is closed: -1 when a
// signal ended it (SIGKILL, or a SIGTERM it did not handle).
func (p *Proc) ExitCode() int {
	<-p.done
	return p.exit
}

// Terminate sends SIGTERM and returns at once: what a process manager
// does to begin a graceful stop (Stop also waits, and kills at last).
func (p *Proc) Terminate() { _ = p.cmd.Process.Signal(syscall.SIGTERM) }

// Kill ends the process group at once with SIGKILL, as a crash would.
func (p *Proc) Kill() {
	_ = syscall.Kill(-p.Pid(), syscall.SIGKILL)
	<-p.done
}

// Stop ends the process with SIGTERM, and with SIGKILL after 10 s.
func (p *Proc) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.Kill()
	}
}

// RSS is the resident memory of a process in bytes, from /proc/<pid>/status VmRSS.
func RSS(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, fmt.Errorf("rss: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("rss: %w", err)
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("rss: no VmRSS for pid %d", pid)
}

// Supervisor keeps one binary running: when it exits on its own (say it
// could not reach Postgres at start) it is started again after a short
// pause, and Crash kills it with SIGKILL so that it comes back after the
// pause given, as a process manager would.
type Supervisor struct {
	bin, log string
	env      []string

	mu       sync.Mutex
	cur      *Proc
	pause    time.Duration // the next restart waits this long
	stopped  bool
	starts   int
	finished chan struct{}
	release  chan struct{} // ends a pause at once (Release)
}

// Supervise starts bin and keeps it running until Stop.
func Supervise(bin string, env []string, logPath string) (*Supervisor, error) {
	s := &Supervisor{bin: bin, env: env, log: logPath, finished: make(chan struct{}), release: make(chan struct{}, 1)}
	p, err := StartProc(s.bin, s.env, s.log)
	if err != nil {
		return nil, err
	}
	s.cur, s.starts = p, 1
	go s.loop()
	return s, nil
}

func (s *Supervisor) loop() {
	defer close(s.finished)
	for {
		s.mu.Lock()
		p := s.cur
		s.mu.Unlock()
		<-p.Done()
		for {
			s.mu.Lock()
			stopped, pause := s.stopped, s.pause
			s.pause = 0
			s.mu.Unlock()
			if stopped {
				return
			}
			if pause == 0 {
				pause = 500 * time.Millisecond
			}
			select {
			case <-time.After(pause):
			case <-s.release:
			}
			// Checked and started under the lock, so that Stop never misses a new process.
			s.mu.Lock()
			if s.stopped {
				s.mu.Unlock()
				return
			}
			np, err := StartProc(s.bin, s.env, s.log)
			if err == nil {
				s.cur = np
				s.starts++
			}
			s.mu.Unlock()
			if err == nil {
				break
			}
		}
	}
}

// Crash kills the process with SIGKILL; it starts again after pause.
func (s *Supervisor) Crash(pause time.Duration) {
	s.mu.Lock()
	p := s.cur
	s.pause = pause
	select {
	case <-s.release: // an old Release does not cut this pause short
	default:
	}
	s.mu.Unlock()
	p.Kill()
}

// Hold kills the process with SIGKILL and keeps it down until Release.
func (s *Supervisor) Hold() { s.Crash(24 * time.Hour) }

// Release starts a process held down (or pausing after a crash) now.
func (s *Supervisor) Release() {
	select {
	case s.release <- struct{}{}:
	default:
	}
}

// Pid is the current process id.
func (s *Supervisor) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur.Pid()
}

// Starts is how many times the binary was started.
func (s *Supervisor) Starts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.starts
}

// Stop ends the process for good.
func (s *Supervisor) Stop() {
	s.mu.Lock()
	s.stopped = true
	p := s.cur
	s.mu.Unlock()
	p.Stop()
	s.Release() // a pause ends, and the loop sees it stopped
	<-s.finished
}

// Tail is the last n bytes of s, marked "..." when cut: the end of a log
// worth showing when something failed.
func Tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
