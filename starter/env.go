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
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/onboarding"
	"github.com/cloudpartners/onboarding/internal/store"
	"github.com/cloudpartners/onboarding/internal/telemetry"
)

// dialTimeout bounds connecting to Temporal and Postgres, so that a stack
// that is down gives a clear error rather than a hang.
const dialTimeout = 15 * time.Second

// env is what a subcommand runs with: the output streams and the
// connections, each opened on first use and closed by close.
type env struct {
	getenv config.Getenv
	stdout io.Writer
	stderr io.Writer
	json   bool // print JSON instead of text

	cfg     *config.Config
	tracing *telemetry.Tracing
	st      *store.Store
	tc      client.Client
	svc     *onboarding.Service
	poolSz  int // the store's pool size; 0 means the default
}

// trace starts the command's span, under which its SQL and Temporal calls
// go, when tracing is on; a bad configuration is left for the command to
// report.
func (e *env) trace(ctx context.Context, command string) (context.Context, trace.Span) {
	cfg, err := e.config()
	if err != nil {
		return ctx, trace.SpanFromContext(ctx)
	}
	e.tracing, err = telemetry.Start(ctx, cfg, programName, slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil || !e.tracing.On() {
		e.tracing = nil
		return ctx, trace.SpanFromContext(ctx)
	}
	return e.tracing.Provider().Tracer(programName).Start(ctx, programName+" "+command)
}

// traced is the tracer provider for the connections: nil when tracing is off.
func (e *env) traced() trace.TracerProvider {
	if e.tracing == nil {
		return nil
	}
	return e.tracing.Provider()
}

// operator is who the CLI acts as: an operator, for every partner.
func (e *env) operator() onboarding.Actor {
	name := e.getenv("USER")
	if name == "" {
		name = "cli"
	}
	return onboarding.Operator(name)
}

// service connects to the database and Temporal and returns the actions.
func (e *env) service(ctx context.Context) (*onboarding.Service, error) {
	if e.svc != nil {
		return e.svc, nil
	}
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	st, err := e.store(ctx)
	if err != nil {
		return nil, err
	}
	tc, err := e.temporal(ctx)
	if err != nil {
		return nil, err
	}
	if e.svc, err = onboarding.New(cfg, st, tc); err != nil {
		return nil, err
	}
	return e.svc, nil
}

func (e *env) config() (config.Config, error) {
	if e.cfg == nil {
		cfg, err := config.Load(e.getenv)
		if err != nil {
			return config.Config{}, fmt.Errorf("configuration: %w", err)
		}
		e.cfg = &cfg
	}
	return *e.cfg, nil
}

func (e *env) store(ctx context.Context) (*store.Store, error) {
	if e.st != nil {
		return e.st, nil
	}
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	st, err := store.Open(dctx, cfg.DatabaseURL, store.Options{MaxOpenConns: e.poolSz, Tracing: e.traced()})
	if err != nil {
		return nil, fmt.Errorf("cannot use the database (%w): check DATABASE_URL; for the local stack run `make up`, and if it runs on other ports, eval \"$(scripts/stack.sh env)\" with the same PG_PORT", err)
	}
	e.st = st
	return st, nil
}

func (e *env) temporal(ctx context.Context) (client.Client, error) {
	if e.tc != nil {
		return e.tc, nil
	}
	cfg, err := e.config()
	if err != nil {
		return nil, err
	}
	opts := cfg.Temporal
	// The SDK logs to stdout by default; a CLI keeps stdout for its answer
	// and stderr for one line of failure, so only SDK errors are shown.
	opts.Logger = tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if e.tracing != nil {
		opts.Interceptors = append(opts.Interceptors, e.tracing.Interceptors()...)
	}
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	tc, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s namespace %s (%w): check TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE; for the local stack run `make up`, and if it runs on other ports, eval \"$(scripts/stack.sh env)\" with the same TEMPORAL_PORT",
			opts.HostPort, opts.Namespace, err)
	}
	e.tc = tc
	return tc, nil
}

func (e *env) close() {
	if e.tc != nil {
		e.tc.Close()
	}
	if e.st != nil {
		e.st.Close()
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
func (e *env) parseID(ctx context.Context, fs *flag.FlagSet, args []string) (string, *onboarding.Service, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", nil, err
	}
	id, err := oneID(fs, pos)
	if err != nil {
		return "", nil, err
	}
	svc, err := e.service(ctx)
	return id, svc, err
}

// onID runs a command that takes one id: parse, connect, act on the id,
// then print the result — as JSON with --json (asJSON shapes it, when
// given), else as text.
func onID[T any](ctx context.Context, e *env, fs *flag.FlagSet, args []string,
	act func(svc *onboarding.Service, id string) (T, error), asJSON func(T) any, text func(id string, r T) error) error {
	id, svc, err := e.parseID(ctx, fs, args)
	if err != nil {
		return err
	}
	r, err := act(svc, id)
	switch {
	case err != nil:
		return err
	case e.json && asJSON != nil:
		return e.printJSON(asJSON(r))
	case e.json:
		return e.printJSON(r)
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
func (e *env) serviceFor(ctx context.Context, checks ...error) (*onboarding.Service, error) {
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
		return usagef("%s: unexpected argument %q (see `%s --help`)", strings.TrimPrefix(fs.Name(), "starter "), truncate(pos[0], 40), fs.Name())
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
