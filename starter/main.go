// Command starter is the CLI partners and operators use to launch, import,
// inspect, resend, link, cancel and edit customer onboardings, and to
// create clouds for, suspend and resume customers afterwards.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"go.opentelemetry.io/otel/codes"

	"github.com/cloudpartners/onboarding/internal/config"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1 // the command ran and failed, or was refused
	exitUsage   = 2 // the command line is wrong
	programName = "starter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := report(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// report writes a failure as one line on stderr and returns the exit code.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "%s: %s\n", programName, oneLine(err.Error()))
	if errors.As(err, new(*usageError)) {
		return exitUsage
	}
	return exitFailed
}

// oneLine joins the lines of a message (errors.Join puts each error on its
// own line) so a failure is always reported on exactly one line.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// usageError is a wrong command line; it exits with exitUsage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// runFunc runs a subcommand with the arguments after its name.
type runFunc func(ctx context.Context, e *env, args []string) error

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     runFunc
}

// subcommand runs the second-level command args names (`cloud add`,
// `staff list`) from cmds; -h/--help prints help, and anything else is a
// usage error saying what is wanted.
func subcommand(ctx context.Context, e *env, args []string, cmds map[string]runFunc, help, wanted string) error {
	if len(args) > 0 {
		if run, ok := cmds[args[0]]; ok {
			return run(ctx, e, args[1:])
		}
		switch args[0] {
		case "-h", "--help", "-help":
			e.printf("%s", help)
			return nil
		}
	}
	return usagef("%s", wanted)
}

// commands lists the subcommands in the order the help shows them.
func commands() []command {
	return []command{
		{"partner", "partner add: register a partner with partner status", runPartner},
		{"add", "launch one onboarding and print its id", runAdd},
		{"import", "launch many onboardings from a CSV file", runImport},
		{"status", "show where one onboarding stands", runStatus},
		{"list", "list onboardings, by partner and subaccount status", runList},
		{"resend", "send the confirmation email again", runResend},
		{"link", "print the confirmation link, to send by other means", runLink},
		{"cancel", "delete the unconfirmed subaccount", runCancel},
		{"edit", "change the email, contact or cloud name (never the name)", runEdit},
		{"cloud", "cloud add / cloud list: more clouds for an active customer", runCloud},
		{"suspend", "stop a customer's services (deleted unless resumed in time)", runSuspend},
		{"resume", "resume a suspended customer's services", runResume},
		{"staff", "staff add / staff list: who of a partner may use the portal", runStaff},
	}
}

// run parses the command line and runs one subcommand. Every connection it
// opens is closed before it returns.
func run(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		printUsage(stderr)
		return usagef("no command given: run `starter --help` for the list")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		printUsage(stdout)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
			defer e.close()
			ctx, span := e.trace(ctx, name)
			err := c.run(ctx, e, args[1:])
			if err != nil && !errors.Is(err, errHelp) {
				span.RecordError(err) // by its kind only: see internal/telemetry
				span.SetStatus(codes.Error, "")
			}
			span.End() // before close flushes it
			var usage *usageError
			switch {
			case err == nil, errors.Is(err, errHelp):
				return nil
			case errors.As(err, &usage), strings.HasPrefix(err.Error(), name+":"), strings.HasPrefix(err.Error(), name+" "):
				return err
			}
			// Every failure names its command: "starter: status: no onboarding ...".
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return usagef("unknown command %q: run `starter --help` for the list", truncate(name, 40))
}

func printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: starter COMMAND [flags] [args]\n\nLaunch and steer partner-customer onboardings.\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "starter COMMAND --help" for a command's flags. Every command takes --json
to print JSON for scripts. Exit status: 0 success, 1 failure or refusal,
2 wrong command line; a failure is one line on stderr.

Configuration comes from the environment: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE
(and the Temporal SDK's TEMPORAL_API_KEY / TEMPORAL_TLS_* settings),
DATABASE_URL, PUBLIC_BASE_URL, ONBOARDING_SECRET, CONFIRM_WITHIN,
RESEND_MIN_INTERVAL, RESEND_MAX, TASK_QUEUE.
`)
}
