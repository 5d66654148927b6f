package testenv

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cloudpartners/onboarding/internal/config"
	"github.com/cloudpartners/onboarding/internal/daemon"
)

// DocumentedVars are the rows of the table in binary's section
// ("## binary") of docs/configuration.md, in their order.
func DocumentedVars(tb testing.TB, binary string) []config.Var {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(ModuleRoot(tb), "docs", "configuration.md"))
	if err != nil {
		tb.Fatal(err)
	}
	var vars []config.Var
	in := false
	for line := range strings.Lines(string(b)) {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "## ") {
			in = line == "## "+binary
			continue
		}
		if !in || !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) != 3 {
			tb.Fatalf("docs/configuration.md, %s: a row of %d cells, want 3: %s", binary, len(cells), line)
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		def := strings.Trim(cells[1], "`")
		if def == "—" {
			def = ""
		}
		vars = append(vars, config.Var{Name: strings.Trim(cells[0], "`"), Default: def, Doc: cells[2]})
	}
	if len(vars) == 0 {
		tb.Fatalf("docs/configuration.md has no table under ## %s", binary)
	}
	return vars
}

// DocRow is how docs/configuration.md writes one variable.
func DocRow(v config.Var) string {
	def := "—"
	switch {
	case strings.HasPrefix(v.Default, "a development"):
		def = v.Default
	case v.Default != "":
		def = "`" + v.Default + "`"
	}
	return fmt.Sprintf("| `%s` | %s | %s |", v.Name, def, v.Doc)
}

// RequireDocumented fails unless docs/configuration.md's table for binary
// is exactly the variables it declares, and its usage (help, what -h
// prints) lists each with its default and meaning. On a difference it
// prints the table as it should read.
func RequireDocumented(tb testing.TB, binary string, declared []config.Var, help string) {
	tb.Helper()
	if documented := DocumentedVars(tb, binary); !slices.Equal(documented, declared) {
		rows := make([]string, len(declared))
		for i, v := range declared {
			rows[i] = DocRow(v)
		}
		tb.Errorf("docs/configuration.md's table for %s is not what it reads; it should be:\n%s", binary, strings.Join(rows, "\n"))
	}
	for _, v := range declared {
		line := ""
		for l := range strings.Lines(help) {
			if f := strings.Fields(l); len(f) > 0 && f[0] == v.Name {
				line = l
			}
		}
		switch {
		case line == "":
			tb.Errorf("%s -h does not list %s", binary, v.Name)
		case !strings.Contains(line, v.Doc) || v.Default != "" && !strings.Contains(line, "["+v.Default+"]"):
			tb.Errorf("%s -h lists %s without its default [%s] and meaning %q: %s", binary, v.Name, v.Default, v.Doc, line)
		}
	}
}

// ProductionExample is the environment the README's production example
// (the sh block after <!-- production-example -->) sets: its export lines
// run by bash, as an operator would paste them, secrets generated.
func ProductionExample(tb testing.TB) map[string]string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(ModuleRoot(tb), "README.md"))
	if err != nil {
		tb.Fatal(err)
	}
	_, block, ok := strings.Cut(string(b), "<!-- production-example -->\n```sh\n")
	if !ok {
		tb.Fatal("README.md has no <!-- production-example --> sh block")
	}
	block, _, _ = strings.Cut(block, "```")
	var script strings.Builder
	script.WriteString("set -eu\n")
	for line := range strings.Lines(block) {
		if strings.HasPrefix(line, "export ") {
			script.WriteString(line)
		}
	}
	script.WriteString("env -0\n")
	cmd := exec.CommandContext(tb.Context(), "bash", "-c", script.String())
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("the production example does not run: %v\n%s", err, stderr.String())
	}
	env := map[string]string{}
	for kv := range strings.SplitSeq(strings.TrimSuffix(string(out), "\x00"), "\x00") {
		k, v, _ := strings.Cut(kv, "=")
		switch k {
		case "PATH", "PWD", "OLDPWD", "SHLVL", "_":
		default:
			env[k] = v
		}
	}
	if env["ONBOARDING_ENV"] != "production" {
		tb.Fatalf("the production example does not set ONBOARDING_ENV=production: %v", env)
	}
	return env
}

// OnlyVars keeps the variables of env that vars declares: the part of a
// shared environment a binary reads.
func OnlyVars(env map[string]string, vars []config.Var) map[string]string {
	out := map[string]string{}
	for _, v := range vars {
		if s, ok := env[v.Name]; ok {
			out[v.Name] = s
		}
	}
	return out
}

// Settings is a binary's loadSettings as a test sees it: the variables it
// declared from an environment, with their errors.
type Settings func(config.Getenv) *config.Vars

// RequireSettings checks a daemon's settings the same way for every
// binary: help (what -h printed) and docs/configuration.md list exactly
// what it reads; the README's production example loads, and so does what
// the binary reads of it alone — nothing of another binary's — while
// leaving out required (a secret the binary needs in production) is
// refused by name.
func RequireSettings(tb testing.TB, binary, help string, load Settings, required string) {
	tb.Helper()
	declared := load(func(string) string { return "" }).Declared()
	RequireDocumented(tb, binary, declared, help)
	env := ProductionExample(tb)
	if err := load(func(k string) string { return env[k] }).Err(); err != nil {
		tb.Fatalf("%s does not load the README's production example: %v", binary, err)
	}
	own := OnlyVars(env, declared)
	if err := load(func(k string) string { return own[k] }).Err(); err != nil {
		tb.Fatalf("%s does not load its own part of the README's production example: %v", binary, err)
	}
	delete(own, required)
	if err := load(func(k string) string { return own[k] }).Err(); err == nil || !strings.Contains(err.Error(), required+": required in production") {
		tb.Fatalf("%s without %s in production: %v, want it refused by name", binary, required, err)
	}
}

// RequireRefusedAtStart runs a daemon's run, as main does, with vars (nil
// for the rest) and wants it refused before it starts anything: an error
// of one line holding want, and nothing on stdout.
func RequireRefusedAtStart(tb testing.TB, run daemon.Run, vars map[string]string, want string) {
	tb.Helper()
	refusedAtStart(tb, run, vars, func(k string) string { return vars[k] }, want)
}

// refusedAtStart is RequireRefusedAtStart over any lookup; vars says, in a
// failure, what it was given.
func refusedAtStart(tb testing.TB, run daemon.Run, vars map[string]string, getenv config.Getenv, want string) {
	tb.Helper()
	var stdout, stderr strings.Builder
	err := run(tb.Context(), nil, getenv, &stdout, &stderr)
	switch {
	case err == nil:
		tb.Fatalf("with %v the daemon started, want it refused with %q", vars, want)
	case !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n"):
		tb.Errorf("with %v: %q, want one line holding %q", vars, err, want)
	}
	if stdout.Len() > 0 {
		tb.Errorf("with %v the daemon wrote on stdout: %q", vars, stdout.String())
	}
}

// BadTrustedProxies are values of TRUSTED_PROXIES that every daemon reading
// it refuses, with what the refusal says.
var BadTrustedProxies = map[string]string{
	"10.0.0.0/8,proxy.internal": `TRUSTED_PROXIES: "proxy.internal" is neither a network`,
	"10.0.0.0/8,":               `TRUSTED_PROXIES: "" is neither a network`,
	"0.0.0.0/0":                 "TRUSTED_PROXIES: 0.0.0.0/0 trusts every address",
}

// RequireMigrateSetting checks a daemon's DB_MIGRATE the same way for
// every binary that opens the database: a bad value is refused at start
// with one line naming it; check, against a fresh database of the stack,
// refuses at start with one line naming what is missing and `starter
// migrate`, and leaves that database as it was: empty.
func RequireMigrateSetting(tb testing.TB, run daemon.Run) {
	tb.Helper()
	RequireRefusedAtStart(tb, run, map[string]string{"DB_MIGRATE": "sometimes"}, `DB_MIGRATE: want auto or check or off, got "sometimes"`)
	dsn := NewDatabase(tb)
	vars := map[string]string{"DATABASE_URL": dsn, "DB_MIGRATE": "check"}
	refusedAtStart(tb, run, vars, Getenv(vars), "the database lacks migrations this binary needs")
	refusedAtStart(tb, run, vars, Getenv(vars), "run `starter migrate` first")
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRowContext(tb.Context(), `SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'`).Scan(&tables); err != nil {
		tb.Fatal(err)
	}
	if tables != 0 {
		tb.Errorf("DB_MIGRATE=check created %d tables in the database it refused, want none", tables)
	}
}
