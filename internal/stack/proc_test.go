package stack

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSupervisorHoldAndRelease: Crash brings a binary back after the
// pause; Hold keeps it down, whatever time passes, until Release starts
// it at once; Stop ends it for good, held or not.
func TestSupervisorHoldAndRelease(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "sleeper")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755))
	s, err := Supervise(bin, nil, filepath.Join(dir, "log"))
	require.NoError(t, err)
	started := func(n int) func() bool { return func() bool { return s.Starts() == n } }

	s.Crash(50 * time.Millisecond)
	require.Eventually(t, started(2), 5*time.Second, 10*time.Millisecond, "back after a crash's pause")

	s.Hold()
	time.Sleep(700 * time.Millisecond) // longer than any pause a crash takes by default
	require.Equal(t, 2, s.Starts(), "held down")
	s.Release()
	require.Eventually(t, started(3), 5*time.Second, 10*time.Millisecond, "started at once when released")

	s.Hold()
	stopped := make(chan struct{})
	go func() { s.Stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Stop hung on a binary held down")
	}
	require.Equal(t, 3, s.Starts(), "not started again after Stop")
}
