package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"reflect"

	moderncsqlite "modernc.org/sqlite"
)

// SQLite compiles each statement it is given, and database/sql gives the
// driver every query as text. At 20 conversations/s that compiling was a
// fifth of the app's CPU (issue 17). gorm's own cache of prepared
// statements does not help: a statement it prepares inside a transaction
// belongs to that transaction, and database/sql prepares it again in each
// later one, and most SQLite writes run in short transactions. So the
// connection itself keeps its compiled statements, by their text, whether
// a transaction is open or not: a SQLite statement belongs to its
// connection, and database/sql never uses one connection from two
// goroutines at once.

// maxCachedStatements bounds a connection's compiled statements: a
// conversation and the background work use a few dozen distinct texts,
// and texts that vary (IN lists of any length) must not pile up.
const maxCachedStatements = 256

// stmtConnector opens connections of the modernc SQLite driver that keep
// their compiled statements.
type stmtConnector struct{ dsn string }

func (c stmtConnector) Connect(context.Context) (driver.Conn, error) {
	dc, err := (&moderncsqlite.Driver{}).Open(c.dsn)
	if err != nil {
		return nil, err
	}
	inner, ok := dc.(sqliteConn)
	if !ok {
		_ = dc.Close()
		return nil, errors.New("open sqlite: the driver's connection lacks the context methods")
	}
	return &stmtConn{sqliteConn: inner, stmts: map[string]*cachedStmt{}}, nil
}

func (stmtConnector) Driver() driver.Driver { return &moderncsqlite.Driver{} }

// sqliteConn is what database/sql uses of the driver's connection.
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// stmtConn is a connection with its compiled statements.
type stmtConn struct {
	sqliteConn
	stmts map[string]*cachedStmt
}

// cachedStmt is a compiled statement; busy while rows read from it.
type cachedStmt struct {
	s interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	}
	busy bool
}

// statement returns the compiled statement of query, compiling it the
// first time; nil when it is reading rows (the caller then runs query
// once, uncached) or cannot be kept.
func (c *stmtConn) statement(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	ds, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	s, ok := ds.(interface {
		driver.Stmt
		driver.StmtExecContext
		driver.StmtQueryContext
	})
	if !ok {
		_ = ds.Close()
		return nil, nil
	}
	if len(c.stmts) >= maxCachedStatements {
		c.dropIdle()
	}
	cs := &cachedStmt{s: s}
	c.stmts[query] = cs
	return cs, nil
}

// dropIdle closes every statement not reading rows.
func (c *stmtConn) dropIdle() {
	for q, cs := range c.stmts {
		if !cs.busy {
			_ = cs.s.Close()
			delete(c.stmts, q)
		}
	}
}

// forget closes query's statement after an error, so that a statement in
// an unknown state is compiled again next time.
func (c *stmtConn) forget(query string, cs *cachedStmt) {
	if c.stmts[query] == cs {
		delete(c.stmts, query)
	}
	_ = cs.s.Close()
}

func (c *stmtConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.ExecContext(ctx, query, args)
	}
	res, err := cs.s.ExecContext(ctx, args)
	if err != nil {
		c.forget(query, cs)
	}
	return res, err
}

func (c *stmtConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.sqliteConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.s.QueryContext(ctx, args)
	if err != nil {
		c.forget(query, cs)
		return nil, err
	}
	typed, ok := rows.(sqliteRows)
	if !ok { // not the driver's rows: read them once, keep nothing
		delete(c.stmts, query)
		return &stmtRows{sqliteRows: untypedRows{rows}, done: func(error) { _ = cs.s.Close() }}, nil
	}
	cs.busy = true
	return &stmtRows{sqliteRows: typed, done: func(err error) {
		cs.busy = false
		if err != nil {
			c.forget(query, cs)
		}
	}}, nil
}

// Close closes the statements, then the connection (SQLite refuses to
// close a connection with statements left).
func (c *stmtConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.s.Close()
		delete(c.stmts, q)
	}
	return c.sqliteConn.Close()
}

// sqliteRows is what database/sql uses of the driver's rows: their column
// types too, which gorm reads.
type sqliteRows interface {
	driver.Rows
	driver.RowsColumnTypeDatabaseTypeName
	driver.RowsColumnTypeLength
	driver.RowsColumnTypeNullable
	driver.RowsColumnTypePrecisionScale
	driver.RowsColumnTypeScanType
}

// untypedRows are rows without column types (never the driver's).
type untypedRows struct{ driver.Rows }

func (untypedRows) ColumnTypeDatabaseTypeName(int) string             { return "" }
func (untypedRows) ColumnTypeLength(int) (int64, bool)                { return 0, false }
func (untypedRows) ColumnTypeNullable(int) (bool, bool)               { return false, false }
func (untypedRows) ColumnTypePrecisionScale(int) (int64, int64, bool) { return 0, 0, false }
func (untypedRows) ColumnTypeScanType(int) reflect.Type               { return reflect.TypeFor[any]() }

// stmtRows frees its statement for the next query when closed, or drops
// it when closing them failed.
type stmtRows struct {
	sqliteRows
	done func(error)
}

func (r *stmtRows) Close() error {
	err := r.sqliteRows.Close()
	if r.done != nil {
		r.done(err)
		r.done = nil
	}
	return err
}
