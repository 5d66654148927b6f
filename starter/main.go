// Command starter is the CLI partners and operators use to launch, import,
// inspect, resend, link, cancel and edit customer onboardings, to create
// clouds for, suspend and resume customers afterwards, and to export the
// audit log.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"go.opentelemetry.io/otel/codes"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/request"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Exit codes, by the kind of failure: what a script may do next.
const (
	exitOK          = 0
	exitRefused     = 1 // refused: nothing changed (bad input, unknown id, not allowed, not possible in this state)
	exitUsage       = 2 // the command line is wrong
	exitUnavailable = 3 // a part of the system is not there (Temporal, Postgres): nothing changed; try again later
	exitFailed      = 4 // something went wrong on our side: it may or may not have happened; look before retrying
	programName     = "starter"
)

// exitCode is the exit code of a failure, by its kind.
func exitCode(err error) int {
	if errors.As(err, new(*usageError)) {
		return exitUsage
	}
	switch k := domain.KindOf(err); {
	case k == domain.Unavailable:
		return exitUnavailable
	case k.Refusal():
		return exitRefused
	case k == domain.Accepted:
		return exitOK
	}
	return exitFailed
}

// hints are what the CLI adds to a failure, by its code: the command to
// run next. The actions' messages name no command; this edge does.
var hints = map[string]string{
	domain.ErrUnknownPartner.Code:  "register it with `starter partner add --id ID --name NAME`",
	domain.ErrNoPartnerStatus.Code: "grant it with `starter partner add --id ID --name NAME --partner-status=true`",
	domain.ErrNotFound.Code:        "check the id with `starter list` (ids look like onboarding/PARTNER/customer name, or a subaccount id)",
	request.ErrReused.Code:         "leave out --request-id for a new request",
	domain.ErrEnded.Code:           "to onboard the customer anew, launch it again with `starter add`",
	domain.ErrDeleted.Code:         "to onboard the customer anew, launch it again with `starter add`",
	deps.ErrDatabase.Code: "check DATABASE_URL; for the local stack run `make up`, and if it runs on other ports, " +
		"eval \"$(scripts/stack.sh env)\" with the same PG_PORT",
	deps.ErrTemporal.Code: "check TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE; for the local stack run `make up`, and if it runs on other ports, " +
		"eval \"$(scripts/stack.sh env)\" with the same TEMPORAL_PORT",
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	code := report(run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr), os.Stderr)
	stop()
	os.Exit(code)
}

// report writes a failure as one line on stderr, with the hint of its
// code, and returns the exit code of its kind.
func report(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	line := text.OneLine(err.Error())
	if h, ok := hints[domain.CodeOf(err)]; ok && !errors.As(err, new(*usageError)) {
		line += "; " + h
	}
	fmt.Fprintf(stderr, "%s: %s\n", programName, line)
	return exitCode(err)
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
		{"audit", "audit export: the audit log as CSV or JSON, streamed", runAudit},
		{"migrate", "apply the database migrations of this release (once per release)", runMigrate},
	}
}

// run parses the command line and runs one subcommand. Every connection it
// opens is closed before it returns.
func run(ctx context.Context, args []string, getenv config.Getenv, stdout, stderr io.Writer) error {
	set, vars := loadSettings(getenv)
	if len(args) == 0 {
		printUsage(stderr, vars)
		return usagef("no command given: run `starter --help` for the list")
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		printUsage(stdout, vars)
		return nil
	}
	for _, c := range commands() {
		if c.name == name {
			e := &env{set: set, vars: vars, stdout: stdout, stderr: stderr, getenv: getenv}
			defer e.close()
			ctx, span := e.trace(ctx, name)
			err := c.run(ctx, e, args[1:])
			if err != nil && !errors.Is(err, errHelp) {
				span.RecordError(err) // by its kind only: see internal/telemetry
				span.SetStatus(codes.Error, "")
			}
			span.End() // before close flushes it
			switch {
			case err == nil, errors.Is(err, errHelp):
				return nil
			case errors.As(err, new(*usageError)):
				return err // it names its command already
			}
			// Every failure names its command: "starter: status: no onboarding ...".
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return usagef("unknown command %q: run `starter --help` for the list", text.Truncate(name, 40))
}

func printUsage(w io.Writer, vars *config.Vars) {
	fmt.Fprintf(w, "Usage: starter COMMAND [flags] [args]\n\nLaunch and steer partner-customer onboardings.\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "starter COMMAND --help" for a command's flags. Every command takes --json
to print JSON for scripts. A failure is one line on stderr, stdout empty.
Exit status: 0 done, or accepted (recorded, carried out when a worker takes
it: the output says so); 1 refused, nothing changed; 2 wrong command line;
3 not available now (Temporal or Postgres), nothing changed: try again later;
4 failed on our side: it may or may not have happened.

`)
	fmt.Fprint(w, "Settings come from the environment (default in brackets):\n\n")
	vars.List(w)
}
