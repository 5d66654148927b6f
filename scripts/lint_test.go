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

// TestEarlyReaderUnderPipefail shows why lint refuses a pipe into grep -q:
// when the reader stops at its first match the writer dies of SIGPIPE,
// and under pipefail the pipeline fails although the word was there.
// Reading the output whole first, as the scripts do, gives the right
// answer every time.
func TestEarlyReaderUnderPipefail(t *testing.T) {
	writer := `for i in $(seq 20000); do echo "ACTIVE line $i"; done`
	piped := exec.Command("bash", "-c", "set -o pipefail; ("+writer+") | grep -q ACTIVE")
	if err := piped.Run(); err == nil {
		t.Fatal("a pipe into grep -q under pipefail passed: the writer was expected to die of SIGPIPE")
	}
	whole := exec.Command("bash", "-c", "set -euo pipefail; out=$("+writer+"); [[ $out == *ACTIVE* ]]")
	if out, err := whole.CombinedOutput(); err != nil {
		t.Fatalf("reading the output whole failed: %v\n%s", err, out)
	}
}

// TestTreeCheckRefusesEarlyReaders: lint names each script line that pipes
// into grep -q, grep -m or head, and lets || and a comment pass.
func TestTreeCheckRefusesEarlyReaders(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q")
	ok := "#!/usr/bin/env bash\nout=$(cmd) || exit 1\n# never: cmd | grep -q x\n[[ $out == *x* ]]\ntrue || head -n1 f\n"
	if err := os.WriteFile(filepath.Join(dir, "ok.sh"), []byte(ok), 0o755); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	if out, err := lintTree(t, dir); err != nil {
		t.Fatalf("a script without early readers was refused: %v\n%s", err, out)
	}
	bad := "#!/usr/bin/env bash\nset -o pipefail\ncmd | grep -q x\ncmd |head -n1\ncmd | grep -qE x && y\n"
	if err := os.WriteFile(filepath.Join(dir, "bad.sh"), []byte(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	out, err := lintTree(t, dir)
	if err == nil {
		t.Fatalf("pipes into grep -q and head passed:\n%s", out)
	}
	for _, want := range []string{"bad.sh:3: a pipe into a reader", "bad.sh:4:", "bad.sh:5:"} {
		if !strings.Contains(out, want) {
			t.Errorf("the check's output does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "ok.sh") {
		t.Errorf("the check named ok.sh:\n%s", out)
	}
}
