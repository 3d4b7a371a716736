package sqlite

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"

	"modernc.org/sqlite"
)

// maxCachedStmts bounds the prepared statements one connection keeps. The
// store builds its SQL from constants, so the set is small; a query beyond
// the bound simply runs unprepared.
const maxCachedStmts = 256

// cachingConnector opens modernc connections that keep each statement they
// run prepared, keyed by its SQL text. database/sql prepares, runs and
// finalizes a statement for every call without arguments-free shortcuts;
// for SQLite the parse and plan of a short statement cost more than running
// it (a mapping upsert spent half its CPU in the parser), and every store
// call repeats the same few statements.
type cachingConnector struct {
	dsn string
	drv *sqlite.Driver
}

func (c cachingConnector) Connect(context.Context) (driver.Conn, error) {
	conn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	cc, ok := newCachingConn(conn)
	if !ok {
		_ = conn.Close()
		return nil, fmt.Errorf("sqlite: driver connection %T lacks the context interfaces", conn)
	}
	return cc, nil
}

func (c cachingConnector) Driver() driver.Driver { return c.drv }

// baseConn is what the modernc connection implements and the cache uses.
type baseConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// cachingConn is a connection with its statement cache. database/sql never
// uses one connection from two goroutines at once, so it needs no lock; it
// may interleave calls, though (a query's rows stay open while other
// statements run), which is why a statement whose rows are open is not
// reused until they close.
type cachingConn struct {
	baseConn
	stmts map[string]*cachedStmt
}

type cachedStmt struct {
	st   driver.Stmt
	exec driver.StmtExecContext
	qry  driver.StmtQueryContext
	busy bool // its rows are open
}

func newCachingConn(c driver.Conn) (*cachingConn, bool) {
	b, ok := c.(baseConn)
	if !ok {
		return nil, false
	}
	return &cachingConn{baseConn: b, stmts: map[string]*cachedStmt{}}, true
}

// stmt returns the cached statement of query, preparing it on first use;
// nil (and no error) when it cannot be used now: busy, or the cache is full.
func (c *cachingConn) stmt(ctx context.Context, query string) (*cachedStmt, error) {
	if cs, ok := c.stmts[query]; ok {
		if cs.busy {
			return nil, nil
		}
		return cs, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	ex, ok1 := st.(driver.StmtExecContext)
	qr, ok2 := st.(driver.StmtQueryContext)
	if !ok1 || !ok2 {
		_ = st.Close()
		return nil, nil
	}
	cs := &cachedStmt{st: st, exec: ex, qry: qr}
	c.stmts[query] = cs
	return cs, nil
}

// ExecContext runs query through its cached statement.
func (c *cachingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.baseConn.ExecContext(ctx, query, args)
	}
	return cs.exec.ExecContext(ctx, args)
}

// QueryContext runs query through its cached statement; the statement is
// reset for reuse when the rows close.
func (c *cachingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	cs, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	if cs == nil {
		return c.baseConn.QueryContext(ctx, query, args)
	}
	rows, err := cs.qry.QueryContext(ctx, args)
	if err != nil {
		return nil, err
	}
	cs.busy = true
	return &cachedRows{Rows: rows, cs: cs}, nil
}

// Close finalizes the cached statements, then closes the connection.
func (c *cachingConn) Close() error {
	for q, cs := range c.stmts {
		_ = cs.st.Close()
		delete(c.stmts, q)
	}
	return c.baseConn.Close()
}

// cachedRows frees its statement for reuse on Close and passes the column
// type interfaces of the driver's rows through.
type cachedRows struct {
	driver.Rows
	cs *cachedStmt
}

func (r *cachedRows) Close() error {
	err := r.Rows.Close()
	r.cs.busy = false
	return err
}

func (r *cachedRows) ColumnTypeDatabaseTypeName(i int) string {
	if x, ok := r.Rows.(driver.RowsColumnTypeDatabaseTypeName); ok {
		return x.ColumnTypeDatabaseTypeName(i)
	}
	return ""
}

func (r *cachedRows) ColumnTypeLength(i int) (int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeLength); ok {
		return x.ColumnTypeLength(i)
	}
	return 0, false
}

func (r *cachedRows) ColumnTypeNullable(i int) (bool, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypeNullable); ok {
		return x.ColumnTypeNullable(i)
	}
	return false, false
}

func (r *cachedRows) ColumnTypePrecisionScale(i int) (int64, int64, bool) {
	if x, ok := r.Rows.(driver.RowsColumnTypePrecisionScale); ok {
		return x.ColumnTypePrecisionScale(i)
	}
	return 0, 0, false
}

func (r *cachedRows) ColumnTypeScanType(i int) reflect.Type {
	if x, ok := r.Rows.(driver.RowsColumnTypeScanType); ok {
		return x.ColumnTypeScanType(i)
	}
	return reflect.TypeFor[any]()
}
