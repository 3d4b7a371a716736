package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
)

// tenantBatch runs the statements queue adds in one round trip, atomically
// and in the tenant's scope: on the pool, BEGIN, the scope, the statements
// and COMMIT go as one pipelined batch; inside InTx, a savepoint around
// them (as tenantTx makes), so that a refused statement leaves the
// caller's transaction usable. A bulk sync writes mappings one record at a
// time, each through a group commit or its own transaction: this takes
// each from four round trips (savepoint, check, write, release) or three
// (begin, write, commit) to one.
//
// read must consume the result of every queued statement, in order. A
// statement that refuses (read returns an error after its result was read
// without a database error) must itself have written nothing: the batch
// commits whatever succeeded.
func (d *DB) tenantBatch(ctx context.Context, tenantID string, queue func(*pgx.Batch), read func(pgx.BatchResults) error) error {
	if d.tx != nil && d.txTenant != tenantID {
		return d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			queue(b)
			br := tx.SendBatch(ctx, b)
			err := read(br)
			return errors.Join(err, br.Close())
		})
	}
	b := &pgx.Batch{}
	var send func(*pgx.Batch) pgx.BatchResults
	var undo []string
	head := 1 // statements before queue's: SAVEPOINT, or BEGIN and the scope
	if d.tx != nil {
		b.Queue("SAVEPOINT mksync_batch")
		queue(b)
		b.Queue("RELEASE SAVEPOINT mksync_batch")
		send = func(b *pgx.Batch) pgx.BatchResults { return d.tx.SendBatch(ctx, b) }
		undo = []string{"ROLLBACK TO SAVEPOINT mksync_batch", "RELEASE SAVEPOINT mksync_batch"}
	} else {
		conn, err := d.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		defer conn.Release()
		head = 2
		b.Queue("BEGIN")
		b.Queue(`SELECT set_config('role', $1, true), set_config('app.tenant_id', $2, true)`, appRole, tenantID)
		queue(b)
		b.Queue("COMMIT")
		send = func(b *pgx.Batch) pgx.BatchResults { return conn.SendBatch(ctx, b) }
		undo = []string{"ROLLBACK"}
		defer func() {
			if conn.Conn().PgConn().TxStatus() != 'I' {
				_, _ = conn.Exec(context.WithoutCancel(ctx), "ROLLBACK")
			}
		}()
	}
	br := send(b)
	var headErr error
	for range head {
		if _, err := br.Exec(); err != nil && headErr == nil {
			headErr = err
		}
	}
	if headErr != nil {
		_ = br.Close()
		return headErr
	}
	rerr := read(br)
	_, ferr := br.Exec() // RELEASE or COMMIT
	cerr := br.Close()
	if ferr == nil && cerr == nil {
		return rerr
	}
	if d.tx != nil {
		for _, q := range undo {
			if _, err := d.tx.Exec(context.WithoutCancel(ctx), q); err != nil {
				return errors.Join(rerr, ferr, err)
			}
		}
	}
	if rerr != nil {
		return rerr
	}
	return errors.Join(ferr, cerr)
}
