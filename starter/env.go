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

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/store"
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

	cfg    *config.Config
	st     *store.Store
	tc     client.Client
	poolSz int // the store's pool size; 0 means the default
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
	st, err := store.Open(dctx, cfg.DatabaseURL, store.Options{MaxOpenConns: e.poolSz})
	if err != nil {
		return nil, fmt.Errorf("cannot use the database (%w): check DATABASE_URL, or run `make up` locally", err)
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
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	tc, err := client.DialContext(dctx, opts)
	if err != nil {
		return nil, fmt.Errorf("cannot reach Temporal at %s namespace %s (%w): check TEMPORAL_ADDRESS and TEMPORAL_NAMESPACE, or run `make up` locally",
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
// are one-line usage errors that point at --help.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard) // errors are reported once, by report
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.Usage()
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

// parseID parses a command's flags and returns the single onboarding id it takes.
func parseID(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parse(fs, args)
	if err != nil {
		return "", err
	}
	return oneID(fs, pos)
}

// oneID returns the single onboarding id a command takes.
func oneID(fs *flag.FlagSet, pos []string) (string, error) {
	cmd := strings.TrimPrefix(fs.Name(), "starter ")
	switch {
	case len(pos) == 0:
		return "", usagef("%s: missing the onboarding id, as `starter add` or `starter list` print it (see `%s --help`)", cmd, fs.Name())
	case len(pos) > 1:
		return "", usagef("%s: want one onboarding id, got %d arguments; an id may contain spaces, so quote it: %s 'onboarding/PARTNER/customer name'", cmd, len(pos), fs.Name())
	case !carriable(pos[0]):
		// No onboarding can have such an id, and the Temporal client
		// would refuse to send it.
		return "", fmt.Errorf("%s: %w", cmd, errNoOnboarding(pos[0]))
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

// required refuses a missing required flag.
func required(fs *flag.FlagSet, names ...string) error {
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

// isNotFound reports whether Temporal says the workflow does not exist.
func isNotFound(err error) bool {
	var nf *serviceerror.NotFound
	return errors.As(err, &nf)
}

// errNoOnboarding is the message for an id that exists nowhere.
func errNoOnboarding(id string) error {
	return fmt.Errorf("no onboarding with id %q: check the id with `starter list` (ids look like onboarding/PARTNER/customer name)", id)
}
