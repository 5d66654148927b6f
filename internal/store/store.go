// Package store is the Postgres system of record: partners, subaccounts,
// organizations, role bindings, clouds, sent emails and login-hook calls,
// one file per entity. Every method runs in one transaction and is
// idempotent on the ids its caller decides.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/XSAM/otelsql"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
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
}

// Open connects to Postgres, applies the embedded migrations and returns the store.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	db, err := open(url, opts.Tracing)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if opts.MaxOpenConns == 0 {
		opts.MaxOpenConns = 20
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := Migrate(ctx, db); err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db}, nil
}

func open(url string, tp trace.TracerProvider) (*sqlx.DB, error) {
	if tp == nil {
		return sqlx.Open("postgres", url)
	}
	db, err := otelsql.Open("postgres", url, otelsql.WithTracerProvider(tp),
		otelsql.WithMeterProvider(metricnoop.NewMeterProvider()),
		otelsql.WithAttributes(semconv.DBSystemNamePostgreSQL),
		otelsql.WithSpanOptions(otelsql.SpanOptions{DisableErrSkip: true, OmitConnResetSession: true, OmitRows: true}))
	if err != nil {
		return nil, err
	}
	return sqlx.NewDb(db, "postgres"), nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.db.Close() }

// Ping checks that the database answers, for health checks.
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }

// DB exposes the pool to tests and to the programs that check the records
// (chaos); production code goes through the methods.
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
