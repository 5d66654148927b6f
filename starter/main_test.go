package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/testenv"
)

// offline is a configuration under which nothing can connect: commands
// that must fail before connecting prove it by failing with their own
// message rather than a connection error.
var offline = map[string]string{
	"TEMPORAL_ADDRESS": "127.0.0.1:1",
	"DATABASE_URL":     "postgres://nobody@127.0.0.1:1/none?sslmode=disable",
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"help"}, {"-h"},
		{"partner", "--help"}, {"partner", "add", "--help"},
		{"add", "--help"}, {"import", "--help"}, {"status", "--help"}, {"list", "--help"},
		{"resend", "--help"}, {"link", "-h"}, {"cancel", "--help"}, {"edit", "--help"},
		{"cloud", "--help"}, {"cloud", "add", "--help"}, {"cloud", "list", "-h"},
		{"staff", "-help"}, {"staff", "add", "--help"}, {"staff", "list", "--help"},
		{"audit", "--help"}, {"audit", "export", "--help"}, {"migrate", "--help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runStarter(t, offline, args...)
			if r.err != nil || r.code != exitOK {
				t.Fatalf("exit %d: %v", r.code, r.err)
			}
			want := "Usage: starter "
			if len(args) > 1 || args[0] != "--help" && args[0] != "help" && args[0] != "-h" {
				want += strings.Join(args[:len(args)-1], " ")
			}
			if !strings.HasPrefix(r.stdout, want) {
				t.Errorf("help does not start with %q:\n%s", want, r.stdout)
			}
			if r.stderr != "" {
				t.Errorf("help wrote to stderr: %q", r.stderr)
			}
		})
	}
	// The subcommand help lists its flags, --json included.
	r := runStarter(t, offline, "add", "--help")
	for _, f := range []string{"-partner", "-name", "-email", "-cloud", "-contact", "-confirm-within", "-json"} {
		if !strings.Contains(r.stdout, f) {
			t.Errorf("add --help does not mention %s", f)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "no command given"},
		{[]string{"launch"}, `unknown command "launch"`},
		{[]string{"partner"}, "partner add --id ID --name NAME"},
		{[]string{"partner", "add", "--id", "p1"}, "missing --name"},
		{[]string{"add", "--partner", "p1"}, "missing --name, --email, --cloud"},
		{[]string{"add", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"add", "--frobnicate"}, "flag provided but not defined: -frobnicate"},
		{[]string{"status", "--bogus", "onboarding/p1/x"}, "flag provided but not defined: -bogus"},
		{[]string{"import", "--partner", "p1"}, "missing --file"},
		{[]string{"import", "--partner", "p1", "--file", "x.csv", "--concurrency", "0"}, "--concurrency 0 is out of range"},
		{[]string{"status"}, "missing the onboarding id"},
		{[]string{"status", "onboarding/p1/acme", "corp"}, "quote it"},
		{[]string{"list", "--status", "happy"}, `--status "HAPPY" is not a subaccount status`},
		{[]string{"list", "extra"}, `unexpected argument "extra"`},
		{[]string{"edit", "onboarding/p1/acme"}, "nothing to change"},
		{[]string{"resend"}, "missing the onboarding id"},
		{[]string{"cloud"}, "cloud: want `starter cloud add ID --name NAME` or `starter cloud list ID`"},
		{[]string{"cloud", "remove", "x"}, "cloud: want `starter cloud add ID --name NAME`"},
		{[]string{"staff"}, "staff: want `starter staff add ...` or `starter staff list --partner ID`"},
		{[]string{"staff", "delete"}, "staff: want"},
		{[]string{"audit"}, "audit: want `starter audit export"},
		{[]string{"audit", "import"}, "audit: want"},
		{[]string{"audit", "export", "extra"}, `unexpected argument "extra"`},
		{[]string{"audit", "export", "--since", "2026-01-01"}, "flag provided but not defined: -since"},
		{[]string{"audit", "export", "--json", "--format", "csv"}, "--json is --format json"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			runStarter(t, offline, tc.args...).fails(t, exitUsage, tc.want)
		})
	}
}

// TestInvalidInputChangesNothing checks that bad values are refused before
// anything connects, with a line saying what to fix.
func TestInvalidInputChangesNothing(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"add", "--partner", "p1", "--name", "Acme", "--email", "not-an-email", "--cloud", "main-cloud"}, []string{"email:", "not a valid email address"}},
		{[]string{"add", "--partner", "p1", "--name", " ", "--email", "a@b.example", "--cloud", "Main Cloud"}, []string{"name: must not be empty", "cloud:"}},
		{[]string{"add", "--partner", "P 1", "--name", "Acme", "--email", "a@b.example", "--cloud", "main-cloud"}, []string{"partner:", "not a partner id"}},
		{[]string{"add", "--partner", "p1", "--name", "Acme", "--email", "a@b.example", "--cloud", "main-cloud", "--confirm-within", "1ms"}, []string{"--confirm-within", "out of range", "from 1s to 8760h"}},
		// Zero is out of range too: never taken silently as the default.
		{[]string{"add", "--partner", "p1", "--name", "Acme", "--email", "a@b.example", "--cloud", "main-cloud", "--confirm-within", "0s"}, []string{"--confirm-within", `"0s" is out of range`}},
		{[]string{"add", "--partner", "p1", "--name", "Acme", "--email", "a@b.example", "--cloud", "main-cloud", "--confirm-within", "abc"}, []string{"--confirm-within", `"abc"`}},
		{[]string{"suspend", "onboarding/p1/acme", "--retention", "0s"}, []string{"--retention", `"0s" is out of range`, "1440h"}},
		{[]string{"suspend", "onboarding/p1/acme", "--retention", "1441h"}, []string{"--retention", "out of range"}},
		{[]string{"edit", "onboarding/p1/acme", "--name", "Other"}, []string{"--name refused", "cannot be changed", "nothing was changed"}},
		{[]string{"edit", "onboarding/p1/acme", "--email", "nope"}, []string{"email:", "nothing was changed"}},
		{[]string{"partner", "add", "--id", "Bad Id", "--name", "X"}, []string{"not a partner id"}},
		{[]string{"audit", "export", "--from", "yesterday"}, []string{"--from:", `"yesterday" is not a date`}},
		{[]string{"audit", "export", "--from", "2026-02-01", "--to", "2026-01-31"}, []string{"--to:", "not after its start"}},
		{[]string{"audit", "export", "--format", "xml", "--to", "never"}, []string{"--format:", "want csv or json"}},
		{[]string{"audit", "export", "--partner", "Bad Id"}, []string{"partner:", "not a partner id"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			runStarter(t, offline, tc.args...).fails(t, exitRefused, tc.want...)
		})
	}
}

func TestUnreachableStack(t *testing.T) {
	runStarter(t, offline, "partner", "add", "--id", "p1", "--name", "P").fails(t, exitUnavailable, "cannot use the database", "DATABASE_URL")
	runStarter(t, map[string]string{"TEMPORAL_ADDRESS": "127.0.0.1:1", "DATABASE_URL": testenv.NewDatabase(t)},
		"status", "onboarding/p1/x").fails(t, exitUnavailable, "cannot reach Temporal", "TEMPORAL_ADDRESS")
	runStarter(t, map[string]string{"RESEND_MAX": "lots"}, "status", "x").fails(t, exitRefused, "configuration", "RESEND_MAX")
}

// TestBinary runs the built binary: exit codes and the one-line stderr.
func TestBinary(t *testing.T) {
	testenv.RequireStack(t)
	bin := testenv.Build(t, "starter")
	env := append(os.Environ(), "TEMPORAL_ADDRESS="+testenv.TemporalAddress(), "DATABASE_URL="+testenv.NewDatabase(t))
	for _, tc := range []struct {
		args       []string
		code       int
		stdout     string
		stderrLine string
	}{
		{[]string{"--help"}, 0, "Usage: starter COMMAND", ""},
		{[]string{"bogus"}, 2, "", `starter: unknown command "bogus"`},
		{[]string{"add", "--partner", "p1", "--name", "A", "--email", "a@b.example", "--cloud", "main-cloud", "--confirm-within", "0s"}, 1, "",
			`starter: add: --confirm-within: "0s" is out of range`},
		{[]string{"status", "onboarding/nobody/none"}, 1, "", `starter: status: no customer or onboarding "onboarding/nobody/none"; check the id with ` + "`starter list`"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			cmd := exec.Command(bin, tc.args...)
			cmd.Env = env
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q does not contain %q", stdout.String(), tc.stdout)
			}
			if tc.stderrLine == "" && stderr.Len() != 0 {
				t.Errorf("stderr = %q, want nothing", stderr.String())
			}
			if tc.stderrLine != "" && (!strings.HasPrefix(stderr.String(), tc.stderrLine) || strings.Count(stderr.String(), "\n") != 1) {
				t.Errorf("stderr = %q, want one line starting with %q", stderr.String(), tc.stderrLine)
			}
		})
	}
}
