package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/deps"
	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/telemetry"
	"github.com/cloudpartners/onboarding/internal/text"
)

// dialTimeout bounds connecting to Temporal and Postgres, so that a stack
// that is down gives a clear error rather than a hang.
const dialTimeout = 15 * time.Second

// env is what a subcommand runs with: the settings, the output streams and
// the actions, opened on first use and closed by close.
type env struct {
	set    settings
	vars   *config.Vars
	getenv config.Getenv
	stdout io.Writer
	stderr io.Writer
	json   bool // print JSON instead of text

	tracing *telemetry.Tracing
	deps    *deps.Deps
	actions *deps.Actions
	poolSz  int // the store's pool size; 0 means the default
}

// trace starts the command's span, under which its SQL and Temporal calls
// go, when tracing is on; a bad configuration is left for the command to
// report.
func (e *env) trace(ctx context.Context, command string) (context.Context, trace.Span) {
	if e.vars.Err() != nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	var err error
	e.tracing, err = telemetry.Start(ctx, e.set.tracing, programName, e.warnings())
	if err != nil || !e.tracing.On() {
		e.tracing = nil
		return ctx, trace.SpanFromContext(ctx)
	}
	return e.tracing.Provider().Tracer(programName).Start(ctx, programName+" "+command)
}

// warnings is a logger for what the libraries warn of: errors only, on
// stderr, so that stdout keeps the answer alone.
func (e *env) warnings() *slog.Logger {
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError}))
}

// operator is who the CLI acts as: an operator, for every partner.
func (e *env) operator() domain.Actor {
	name := e.getenv("USER")
	if name == "" {
		name = "cli"
	}
	return domain.Operator(name)
}

// service connects to the database and Temporal and returns the actions.
func (e *env) service(ctx context.Context) (*deps.Actions, error) {
	if e.actions != nil {
		return e.actions, nil
	}
	if err := e.vars.Err(); err != nil {
		return nil, fmt.Errorf("configuration: %w", err)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	pg := e.set.postgres
	if e.poolSz > 0 {
		pg.MaxConns = e.poolSz
	}
	traced := e.tracing
	if traced == nil {
		traced = &telemetry.Tracing{} // off
	}
	d, err := deps.Open(dctx, deps.Options{Service: programName, Logger: e.warnings(), Traced: traced, Postgres: pg, Temporal: e.set.temporal})
	if err != nil {
		return nil, err
	}
	e.deps = d
	a := d.Actions(e.set.launch, e.set.links)
	e.actions = &a
	return e.actions, nil
}

func (e *env) close() {
	if e.deps != nil {
		e.deps.Close()
	}
	if e.tracing != nil {
		e.tracing.Close(context.Background())
	}
}

// printJSON writes v as indented JSON on stdout.
func (e *env) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// printf writes human output on stdout.
func (e *env) printf(format string, args ...any) {
	fmt.Fprintf(e.stdout, format, args...)
}

// flagSet makes a subcommand's flag set with --json and a --help that
// prints usage, a description and the flags on stdout.
func (e *env) flagSet(name, usage, description string) *flag.FlagSet {
	fs := flag.NewFlagSet("starter "+name, flag.ContinueOnError)
	fs.BoolVar(&e.json, "json", false, "print JSON for scripts instead of text")
	fs.Usage = func() {
		fs.SetOutput(e.stdout)
		fmt.Fprintf(e.stdout, "Usage: starter %s\n\n%s\n\nFlags:\n", usage, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// errHelp means --help was asked for and printed; the command succeeds.
var errHelp = errors.New("help printed")

// parse parses a subcommand's flags and returns its positional arguments.
// Flags may come after positional arguments ("status ID --json"). Errors
// are one-line usage errors that point at --help; stdout stays empty, so
// that `ID=$(starter add ...)` holds an id or nothing.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard) // errors are reported once, by report
	// The flag package shows the usage on every error; only --help asks for it.
	help := fs.Usage
	fs.Usage = func() {}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				help()
				return nil, errHelp
			}
			return nil, usagef("%s: %v (see `%s --help`)", strings.TrimPrefix(fs.Name(), "starter "), err, fs.Name())
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseID parses a command's flags, returns the single onboarding id it
// takes and connects.
func (e *env) parseID(ctx context.Context, fs *flag.FlagSet, args []string) (string, *deps.Actions, error) {
	id, err := parseOneID(fs, args)
	if err != nil {
		return "", nil, err
	}
	svc, err := e.service(ctx)
	return id, svc, err
}

// parseOneID parses a command's flags and returns the single onboarding id
// it takes.
func parseOneID(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	return oneID(fs, pos)
}

// onID runs a command that takes one id: parse, connect, act on the id,
// then print the result — as JSON with --json (asJSON shapes it), else as
// text.
func onID[T any](ctx context.Context, e *env, fs *flag.FlagSet, args []string,
	act func(a *deps.Actions, id string) (T, error), asJSON func(T) any, text func(id string, r T) error) error {
	id, svc, err := e.parseID(ctx, fs, args)
	if err != nil {
		return err
	}
	r, err := act(svc, id)
	switch {
	case err != nil:
		return err
	case e.json:
		return e.printJSON(asJSON(r))
	}
	return text(id, r)
}

// parseNone parses the flags of a command that takes no arguments and
// checks the required ones are there.
func parseNone(fs *flag.FlagSet, args []string, required ...string) error {
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if err := noArgs(fs, pos); err != nil {
		return err
	}
	return requireFlags(fs, required...)
}

// serviceFor refuses the input when any check failed — before anything
// connects, so that bad input changes nothing — and connects otherwise.
func (e *env) serviceFor(ctx context.Context, checks ...error) (*deps.Actions, error) {
	if err := errors.Join(checks...); err != nil {
		return nil, err
	}
	return e.service(ctx)
}

// oneID returns the single onboarding id a command takes.
func oneID(fs *flag.FlagSet, pos []string) (string, error) {
	cmd := strings.TrimPrefix(fs.Name(), "starter ")
	switch {
	case len(pos) == 0:
		return "", usagef("%s: missing the onboarding id, as `starter add` or `starter list` print it (see `%s --help`)", cmd, fs.Name())
	case len(pos) > 1:
		return "", usagef("%s: want one onboarding id, got %d arguments; an id may contain spaces, so quote it: %s 'onboarding/PARTNER/customer name'", cmd, len(pos), fs.Name())
	}
	return pos[0], nil
}

// noArgs refuses positional arguments for commands that take none.
func noArgs(fs *flag.FlagSet, pos []string) error {
	if len(pos) > 0 {
		return usagef("%s: unexpected argument %q (see `%s --help`)", strings.TrimPrefix(fs.Name(), "starter "), text.Truncate(pos[0], 40), fs.Name())
	}
	return nil
}

// requireFlags refuses a missing required flag.
func requireFlags(fs *flag.FlagSet, names ...string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var missing []string
	for _, n := range names {
		if !set[n] {
			missing = append(missing, "--"+n)
		}
	}
	if len(missing) > 0 {
		return usagef("%s: missing %s (see `%s --help`)", strings.TrimPrefix(fs.Name(), "starter "), strings.Join(missing, ", "), fs.Name())
	}
	return nil
}

// asFlag names a flag in a field's invalid input: the one validation's
// reason, under the name the command line gives the field.
func asFlag(err error, flag string) error {
	var inv *domain.InvalidError
	if errors.As(err, &inv) {
		return domain.Invalidf(flag, "%s", inv.Reason)
	}
	return err
}
