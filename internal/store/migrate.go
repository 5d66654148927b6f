package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/cloudpartners/onboarding/internal/domain"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory lock key that serializes migrations when
// several binaries start at once.
const migrationLock = 7_233_8088

// What Open does about the embedded migrations (Options.Migrate, the
// binaries' DB_MIGRATE).
const (
	// MigrateAuto applies the missing migrations, serialized by an
	// advisory lock: one box, `make up`, the tests.
	MigrateAuto = "auto"
	// MigrateCheck applies nothing and refuses a database that lacks a
	// migration this binary has: a deployment where a job runs
	// `starter migrate` once per release, before the binaries roll.
	MigrateCheck = "check"
	// MigrateOff neither applies nor checks.
	MigrateOff = "off"
)

// MigrateModes are the values of Options.Migrate, the default first.
var MigrateModes = []string{MigrateAuto, MigrateCheck, MigrateOff}

// ErrMigrationsMissing is the refusal of MigrateCheck: the database is
// older than the binary.
var ErrMigrationsMissing = domain.New(domain.Unavailable, "MigrationsMissing", "the database lacks migrations")

// Migrations are the names of the embedded migrations, in the order they
// apply, as schema_migrations records them ("migrations/0001_schema.sql":
// the databases of every release so far hold these very names).
func Migrations() []string {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		panic(err) // a constant pattern
	}
	sort.Strings(names)
	return names
}

// Migrate applies, in name order, each embedded migration not yet
// recorded, each in its own transaction, and returns the names of those
// it applied (none when the database was up to date).
func Migrate(ctx context.Context, db *sqlx.DB) ([]string, error) {
	conn, err := db.Connx(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrationLock); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrationLock) //nolint:errcheck
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	var applied []string
	for _, name := range Migrations() {
		done, err := migrateOne(ctx, conn, name)
		if err != nil {
			return applied, fmt.Errorf("migrate %s: %w", name, err)
		}
		if done {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// migrateOne applies one migration unless it is recorded; applied says it did.
func migrateOne(ctx context.Context, conn *sqlx.Conn, name string) (applied bool, err error) {
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback() //nolint:errcheck
	var done bool
	if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE name = $1)`, name); err != nil {
		return false, err
	}
	if done {
		return false, nil
	}
	body, err := migrations.ReadFile(name)
	if err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name) VALUES ($1)`, name); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// Pending are the embedded migrations the database has not recorded, in
// order; it reads only, creating nothing (not even the record table).
func Pending(ctx context.Context, db *sqlx.DB) ([]string, error) {
	var table bool
	if err := db.GetContext(ctx, &table, `SELECT to_regclass('schema_migrations') IS NOT NULL`); err != nil {
		return nil, fmt.Errorf("check migrations: %w", err)
	}
	recorded := map[string]bool{}
	if table {
		var names []string
		if err := db.SelectContext(ctx, &names, `SELECT name FROM schema_migrations`); err != nil {
			return nil, fmt.Errorf("check migrations: %w", err)
		}
		for _, n := range names {
			recorded[n] = true
		}
	}
	var pending []string
	for _, n := range Migrations() {
		if !recorded[n] {
			pending = append(pending, n)
		}
	}
	return pending, nil
}

// checkMigrated refuses a database that lacks an embedded migration.
func checkMigrated(ctx context.Context, db *sqlx.DB) error {
	pending, err := Pending(ctx, db)
	if err != nil {
		return err
	}
	if len(pending) > 0 {
		return fmt.Errorf("%w this binary needs (%d: %s), and DB_MIGRATE=check applies none: run `starter migrate` first",
			ErrMigrationsMissing, len(pending), strings.Join(pending, ", "))
	}
	return nil
}
