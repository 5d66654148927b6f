// Package config reads a binary's settings from the environment: each
// binary declares the variables it reads — with their defaults and
// meaning — through Vars, from the sections here that several binaries
// share (Temporal, Postgres, SMTP, links, tracing, the defaults of a new
// onboarding) and its own. Every value is validated once, every error
// names its variable, and `<binary> -h` lists exactly what it reads.
package config

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cloudpartners/onboarding/internal/domain"
	"github.com/cloudpartners/onboarding/internal/text"
)

// Getenv looks up one environment variable: os.Getenv in production, a map in tests.
type Getenv func(string) string

// Var is one variable a binary reads.
type Var struct {
	Name    string
	Default string // as documented; "" when there is none
	Doc     string
}

// Vars reads variables, remembering each for the usage and collecting
// every error. Production (ONBOARDING_ENV=production) refuses the
// development defaults of secrets.
type Vars struct {
	getenv     Getenv
	vars       []Var
	seen       map[string]bool
	errs       []error
	Production bool
}

// New starts reading a binary's settings; ONBOARDING_ENV is read first,
// since it decides which defaults are allowed.
func New(getenv Getenv) *Vars {
	v := &Vars{getenv: getenv, seen: map[string]bool{}}
	switch env := v.String("ONBOARDING_ENV", "development", "production refuses every development secret and default credential"); env {
	case "production":
		v.Production = true
	case "development":
	default:
		v.Bad("ONBOARDING_ENV", "want development or production, got %q", env)
	}
	return v
}

// declare records a variable for the usage, once.
func (v *Vars) declare(name, def, doc string) {
	if !v.seen[name] {
		v.seen[name] = true
		v.vars = append(v.vars, Var{Name: name, Default: def, Doc: doc})
	}
}

// Lookup is the raw value of a variable, trimmed, "" when unset.
func (v *Vars) Lookup(name string) string { return strings.TrimSpace(v.getenv(name)) }

// Bad records an error in a variable: invalid input, named by the variable.
func (v *Vars) Bad(name, format string, args ...any) {
	v.errs = append(v.errs, domain.Invalidf(name, format, args...))
}

// Err is every error found, joined, or nil.
func (v *Vars) Err() error { return errors.Join(v.errs...) }

// Declared lists the variables read, in the order they were declared.
func (v *Vars) Declared() []Var { return append([]Var(nil), v.vars...) }

// Usage writes a daemon's usage: what it is and the variables it reads,
// with their defaults and meaning.
func (v *Vars) Usage(w io.Writer, binary, summary string) {
	fmt.Fprintf(w, "Usage: %s\n\n%s\n\nIt reads these environment variables (default in brackets):\n\n", binary, summary)
	v.List(w)
}

// List writes the variables read, one a line, with their defaults and
// meaning.
func (v *Vars) List(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, x := range v.vars {
		def := x.Default
		if def != "" {
			def = "[" + def + "]"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", x.Name, def, x.Doc)
	}
	_ = tw.Flush()
}

// String reads a variable, def when unset.
func (v *Vars) String(name, def, doc string) string {
	v.declare(name, def, doc)
	if s := v.Lookup(name); s != "" {
		return s
	}
	return def
}

// Secret reads a secret of at least minLen characters; dev, when given,
// is its development default, refused in production (where the variable
// is then required). Its value never appears in the usage.
func (v *Vars) Secret(name, dev string, minLen int, doc, generate string) string {
	def := ""
	if dev != "" {
		def = "a development value"
	}
	v.declare(name, def, doc)
	s := v.getenv(name)
	switch {
	case s == "" && dev != "" && !v.Production:
		return dev
	case s == "":
		v.Bad(name, "required in production: %s", generate)
	case dev != "" && s == dev && v.Production:
		v.Bad(name, "the development value is refused in production: %s", generate)
	case len(s) < minLen:
		v.Bad(name, "want at least %d characters: %s", minLen, generate)
	}
	return s
}

// Bool reads true or false (1 or 0).
func (v *Vars) Bool(name string, def bool, doc string) bool {
	v.declare(name, strconv.FormatBool(def), doc)
	switch s := v.Lookup(name); s {
	case "":
		return def
	case "true", "1":
		return true
	case "false", "0":
		return false
	default:
		v.Bad(name, "want true or false, got %q", s)
		return def
	}
}

// Int reads a whole number in [lo, hi].
func (v *Vars) Int(name string, def, lo, hi int, doc string) int {
	v.declare(name, strconv.Itoa(def), doc)
	s := v.Lookup(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		v.Bad(name, "want a whole number from %d to %d such as %d, got %q", lo, hi, def, s)
		return def
	}
	return n
}

// Rate reads a number above 0, such as 200 or 0.5.
func (v *Vars) Rate(name string, def float64, doc string) float64 {
	v.declare(name, strconv.FormatFloat(def, 'g', -1, 64), doc)
	s := v.Lookup(name)
	if s == "" {
		return def
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || !(f > 0) || math.IsInf(f, 0) {
		v.Bad(name, "want a number above 0 such as %g or 0.5, got %q", def, s)
		return def
	}
	return f
}

// Duration reads a duration in [lo, hi].
func (v *Vars) Duration(name string, def, lo, hi time.Duration, doc string) time.Duration {
	v.declare(name, text.Duration(def), doc)
	s := v.Lookup(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < lo || d > hi {
		v.Bad(name, "want a duration from %s to %s such as %s, got %q", text.Duration(lo), text.Duration(hi), text.Duration(def), s)
		return def
	}
	return d
}

// Addr reads a host:port listen or dial address.
func (v *Vars) Addr(name, def, doc string) string {
	s := v.String(name, def, doc)
	if _, port, err := net.SplitHostPort(s); err != nil || port == "" {
		v.Bad(name, "not a host:port address such as %s, got %q", def, s)
	}
	return s
}

// URL reads an http(s) URL without a trailing slash; bare means it may
// have no path. In production, an http URL is refused where https is
// wanted.
func (v *Vars) URL(name, def, doc, example string, bare, httpsInProduction bool) string {
	s := strings.TrimRight(v.String(name, def, doc), "/")
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		v.Bad(name, "not an http(s) URL (want %s), got %q", example, s)
	case bare && u.Path != "":
		v.Bad(name, "want a URL without a path (want %s), got %q", example, s)
	case httpsInProduction && v.Production && u.Scheme != "https":
		v.Bad(name, "want https in production, got %q", s)
	}
	return s
}

// OneOf reads one of the allowed values.
func (v *Vars) OneOf(name, def, doc string, allowed ...string) string {
	s := v.String(name, def, doc)
	for _, a := range allowed {
		if s == a {
			return s
		}
	}
	v.Bad(name, "want %s, got %q", strings.Join(allowed, " or "), s)
	return def
}

// Help reads a daemon's command line: it takes no argument but -h (or
// -help, --help), which writes the usage to w. Its settings come from the
// environment alone. done says the daemon has nothing more to do: it
// printed its usage, or err says what is wrong with the command line.
func (v *Vars) Help(args []string, w io.Writer, binary, summary string) (done bool, err error) {
	switch {
	case len(args) == 0:
		return false, nil
	case len(args) == 1 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help"):
		v.Usage(w, binary, summary)
		return true, nil
	}
	return true, fmt.Errorf("unexpected argument %q: the settings come from the environment (see %s -h)", text.Truncate(args[0], 40), binary)
}
