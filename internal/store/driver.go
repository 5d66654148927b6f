package store

import (
	"context"
	"database/sql/driver"
)

// driverConnector is what sql.OpenDB takes.
type driverConnector = driver.Connector

// counting wraps the Postgres driver so that every round trip its
// connections make is counted: each statement, BEGIN, COMMIT, ROLLBACK,
// prepare and ping. It passes everything else through unchanged, errors
// included.
type counting struct {
	driver.Connector
	on func()
}

// Connect opens a counted connection.
func (c *counting) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countedConn{conn: conn, on: c.on}, nil
}

// Driver is the wrapped connector's driver.
func (c *counting) Driver() driver.Driver { return c.Connector.Driver() }

// countedConn is lib/pq's connection, counted. It implements the same
// optional interfaces, so that database/sql takes the same paths.
type countedConn struct {
	conn driver.Conn
	on   func()
}

var (
	_ driver.ConnBeginTx        = (*countedConn)(nil)
	_ driver.ConnPrepareContext = (*countedConn)(nil)
	_ driver.ExecerContext      = (*countedConn)(nil)
	_ driver.QueryerContext     = (*countedConn)(nil)
	_ driver.Pinger             = (*countedConn)(nil)
	_ driver.SessionResetter    = (*countedConn)(nil)
	_ driver.Validator          = (*countedConn)(nil)
	_ driver.NamedValueChecker  = (*countedConn)(nil)
)

func (c *countedConn) Prepare(query string) (driver.Stmt, error) {
	c.on()
	return c.conn.Prepare(query)
}

func (c *countedConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	c.on()
	return c.conn.(driver.ConnPrepareContext).PrepareContext(ctx, query)
}

func (c *countedConn) Close() error { return c.conn.Close() }

func (c *countedConn) Begin() (driver.Tx, error) { //nolint:staticcheck // the interface's own method
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *countedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.on()
	tx, err := c.conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &countedTx{tx: tx, on: c.on}, nil
}

func (c *countedConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	c.on()
	return c.conn.(driver.ExecerContext).ExecContext(ctx, query, args)
}

func (c *countedConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	c.on()
	return c.conn.(driver.QueryerContext).QueryContext(ctx, query, args)
}

func (c *countedConn) Ping(ctx context.Context) error {
	c.on()
	return c.conn.(driver.Pinger).Ping(ctx)
}

func (c *countedConn) ResetSession(ctx context.Context) error {
	return c.conn.(driver.SessionResetter).ResetSession(ctx)
}

func (c *countedConn) IsValid() bool { return c.conn.(driver.Validator).IsValid() }

func (c *countedConn) CheckNamedValue(nv *driver.NamedValue) error {
	return c.conn.(driver.NamedValueChecker).CheckNamedValue(nv)
}

// countedTx counts COMMIT and ROLLBACK.
type countedTx struct {
	tx driver.Tx
	on func()
}

func (t *countedTx) Commit() error {
	t.on()
	return t.tx.Commit()
}

func (t *countedTx) Rollback() error {
	t.on()
	return t.tx.Rollback()
}
