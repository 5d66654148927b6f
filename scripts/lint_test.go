// Package scripts_test tests the shell scripts behind make: what they
// check and the exit codes they give.
package scripts_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTreeHoldsNoBuildOutput runs lint's tree check on this checkout: no
// tracked file is an executable but a script, or over 1 MB.
func TestTreeHoldsNoBuildOutput(t *testing.T) {
	out, err := lintTree(t, "..")
	if err != nil {
		t.Fatalf("scripts/lint.sh tree: %v\n%s", err, out)
	}
}

// TestTreeCheckRefusesBinariesAndLargeFiles shows the check fails, naming
// the file, for a tracked binary and a tracked file over 1 MB, and passes
// scripts and ordinary files.
func TestTreeCheckRefusesBinariesAndLargeFiles(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.email=t@example.com", "-c", "user.name=t"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	write := func(name string, data []byte, mode os.FileMode) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), data, mode); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "-q")
	write("run.sh", []byte("#!/bin/sh\necho ok\n"), 0o755)
	write("main.go", []byte("package main\n"), 0o644)
	git("add", ".")
	if out, err := lintTree(t, dir); err != nil {
		t.Fatalf("a script and a source file were refused: %v\n%s", err, out)
	}

	write("starter", append([]byte("\x7fELF"), make([]byte, 64)...), 0o755)
	write("data.bin", bytes.Repeat([]byte("x"), 1<<20+1), 0o644)
	git("add", ".")
	out, err := lintTree(t, dir)
	if err == nil {
		t.Fatalf("a tracked binary and a 1 MB file passed:\n%s", out)
	}
	for _, want := range []string{"starter is an executable that is not a script", "data.bin is 1024 KiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("the check's output does not say %q:\n%s", want, out)
		}
	}
}

func lintTree(t *testing.T, dir string) (string, error) {
	t.Helper()
	script, err := filepath.Abs("lint.sh")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("bash", script, "tree")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
