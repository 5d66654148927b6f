// Package store is the Postgres system of record: partners, subaccounts
// with their organizations, role bindings, clouds, suspensions and sent
// emails, staff, sessions, API keys, login-hook calls and the audit log,
// one file per entity. Its row structs are its own: every method returns
// the domain's types, so renaming a column changes no public output. A
// public method runs in one transaction and is idempotent on the ids its
// caller decides; every read by id carries the partner scope in its WHERE.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/cloudpartners/onboarding/internal/domain"
)

// Store is the Postgres system of record.
type Store struct {
	db *sqlx.DB
}

// Options tune the connection pool.
type Options struct {
	MaxOpenConns int // default 20
	// Tracing, when set, gives every statement, transaction and connection
	// a span, as a child of the caller's: the statement's text (values are
	// always $n parameters, never in the text), no arguments, no rows.
	Tracing trace.TracerProvider
	// OnStatement, when set, is called once for every round trip the pool
	// makes to Postgres: each statement, BEGIN, COMMIT, ROLLBACK and ping —
	// what a page or a confirm costs (the binaries' db_statements_total).
	OnStatement func()
	// Migrate is what Open does about the embedded migrations:
	// MigrateAuto ("" too) applies the missing ones, MigrateCheck
	// refuses a database that lacks one, MigrateOff does neither.
	Migrate string
}

// Open connects to Postgres, applies the embedded migrations (or checks
// them, as opts.Migrate says) and returns the store.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	connector, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	var c driverConnector = connector
	if opts.OnStatement != nil {
		c = &counting{Connector: connector, on: opts.OnStatement}
	}
	var db *sql.DB
	if opts.Tracing == nil {
		db = sql.OpenDB(c)
	} else {
		db = otelsql.OpenDB(c, otelsql.WithTracerProvider(opts.Tracing),
			otelsql.WithMeterProvider(metricnoop.NewMeterProvider()),
			otelsql.WithAttributes(semconv.DBSystemNamePostgreSQL),
			otelsql.WithSpanOptions(otelsql.SpanOptions{DisableErrSkip: true, OmitConnResetSession: true, OmitRows: true}))
	}
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 20
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	x := sqlx.NewDb(db, "postgres")
	if err := x.PingContext(ctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	switch opts.Migrate {
	case "", MigrateAuto:
		_, err = Migrate(ctx, x)
	case MigrateCheck:
		err = checkMigrated(ctx, x)
	case MigrateOff:
	default:
		err = fmt.Errorf("migrate: want %s, got %q", strings.Join(MigrateModes, " or "), opts.Migrate)
	}
	if err != nil {
		x.Close()
		return nil, err
	}
	return &Store{db: x}, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// DB exposes the pool to tests and to the programs that check the records
// (chaos, bench); production code goes through the methods.
func (s *Store) DB() *sqlx.DB { return s.db }

// inTx runs fn in a transaction and commits it when fn succeeds.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// SQLSTATE codes the store tells apart.
const (
	codeUniqueViolation = "23505"
	codeCheckViolation  = "23514"
)

func isCode(err error, code string) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && string(pe.Code) == code
}

func isConstraint(err error, name string) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Constraint == name
}

// notFound is the error of a read that found nothing: what names it, and
// domain.ErrNotFound.
func notFound(format string, args ...any) error {
	return domain.NotFoundf("no %s", fmt.Sprintf(format, args...))
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if r != '-' {
				return false
			}
		case !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'):
			return false
		}
	}
	return true
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}
