package postgres

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyset"
)

// Helpers shared by the CRM record tables (contacts, products, sales
// documents).

// listQuery builds the WHERE clause of a FindContacts/FindProducts/
// FindSalesDocuments query on alias r joined to its mapping m. args[0] is
// the tenant id, args[1] the entity type, args[2] the cursor id.
type listQuery struct {
	where []string
	args  []any
}

func newListQuery(tenantID string, et mksync.EntityType, f mksync.ListFilter, searchCols ...string) (*listQuery, error) {
	after, err := decodeIDCursor(f.After)
	if err != nil {
		return nil, err
	}
	q := &listQuery{
		where: []string{"r.tenant_id = $1", "r.id > $3"},
		args:  []any{tenantID, string(et), after},
	}
	switch {
	case f.State == "":
	case f.State == mksync.StateUnsynced:
		q.where = append(q.where, "m.entity_id IS NULL")
	case slices.Contains(mksync.SyncStates, f.State):
		q.where = append(q.where, "m.state = "+q.arg(string(f.State)))
	default:
		return nil, mksync.Errorf(mksync.EINVALID, "invalid filter: unknown state %q", f.State)
	}
	if f.Search != "" {
		p := q.arg(likePattern(f.Search))
		ors := make([]string, len(searchCols))
		for i, c := range searchCols {
			ors[i] = fmt.Sprintf(`r.%s ILIKE %s ESCAPE '\'`, c, p)
		}
		q.where = append(q.where, "("+strings.Join(ors, " OR ")+")")
	}
	return q, nil
}

// arg adds a parameter and returns its placeholder.
func (q *listQuery) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

// sql returns the query selecting cols from table for one page of limit+1.
func (q *listQuery) sql(table, cols string, limit int) string {
	return fmt.Sprintf(`SELECT %s FROM %s r
		LEFT JOIN mappings m ON m.tenant_id = r.tenant_id AND m.entity_type = $2 AND m.entity_id = r.id
		WHERE %s ORDER BY r.id LIMIT %s`, cols, table, strings.Join(q.where, " AND "), q.arg(limit+1))
}

// prefixed returns a comma-separated column list with each column prefixed.
func prefixed(prefix, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = prefix + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// markPending turns synced mappings of ids pending: the records changed
// locally and need a push.
func markPending(ctx context.Context, tx pgx.Tx, tenantID string, et mksync.EntityType, now any, ids ...string) error {
	_, err := tx.Exec(ctx, `UPDATE mappings SET state = 'pending', updated_at = $4
		WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = ANY($3) AND state = 'synced'`,
		tenantID, string(et), ids, now)
	return err
}

// deleteMapping removes the mapping of a deleted record, keeping a
// tombstone when it named a Metakocka record.
func (d *DB) deleteMapping(ctx context.Context, tx pgx.Tx, tenantID string, et mksync.EntityType, id string) error {
	if _, err := tx.Exec(ctx, `INSERT INTO tombstones (tenant_id, `+tombstoneColumns+`)
		SELECT m.tenant_id, m.entity_type, m.mk_id, m.entity_id, m.count_code, $4,
			coalesce((SELECT sd.kind FROM sales_documents sd WHERE m.entity_type = $5 AND sd.tenant_id = m.tenant_id AND sd.id = m.entity_id), '')
		FROM mappings m
		WHERE m.tenant_id = $1 AND m.entity_type = $2 AND m.entity_id = $3 AND m.mk_id <> ''
		ON CONFLICT (tenant_id, entity_type, mk_id) DO UPDATE SET
			entity_id = excluded.entity_id, count_code = excluded.count_code, deleted_at = excluded.deleted_at,
			kind = excluded.kind`,
		tenantID, string(et), id, d.nowUTC(), string(mksync.EntitySalesDocument)); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM mappings WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3`,
		tenantID, string(et), id)
	return err
}

// stream yields every row of a keyset-ordered table in chunks of chunkSize:
// each chunk is read in its own short tenant transaction, and no transaction
// or connection is held while the caller handles the rows (but for the read
// of the next chunk, on the pool). fetch reads the
// rows after the given key; key returns a row's key.
func stream[T any](ctx context.Context, d *DB, tenantID, op string,
	fetch func(ctx context.Context, tx pgx.Tx, after string, limit int) ([]T, error), key func(T) string) iter.Seq2[T, error] {
	read := func(after string, limit int) ([]T, error) {
		var chunk []T
		err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
			var err error
			chunk, err = fetch(ctx, tx, after, limit)
			return err
		})
		return chunk, dbErr(op, err)
	}
	if d.tx != nil {
		return keyset.Stream(chunkSize, read, key) // one connection: no read beside the caller's statements
	}
	// On the pool the next chunk is read on another connection while the
	// caller works through this one: a pass over 100,000 documents (a no-op
	// resync) otherwise waits for each read in turn.
	return keyset.StreamAhead(chunkSize, read, key)
}

// checkVersionMiss explains an UPDATE … WHERE version = $v that changed
// nothing: ENOTFOUND when the record does not exist for the tenant,
// ECONFLICT when its version moved on.
func checkVersionMiss(ctx context.Context, tx pgx.Tx, table, what, tenantID, id string, version int64) error {
	var current int64
	err := tx.QueryRow(ctx, `SELECT version FROM `+table+` WHERE tenant_id = $1 AND id = $2`, tenantID, id).Scan(&current)
	if err == pgx.ErrNoRows {
		return notFound(what, id)
	}
	if err != nil {
		return err
	}
	return mksync.Errorf(mksync.ECONFLICT, "%s %s was changed by someone else (version %d, not %d): reload and retry", what, id, current, version)
}

// checkBatchIDs rejects a batch that names an id twice.
func checkBatchIDs(what string, ids []string) error {
	seen := make(map[string]struct{}, len(ids))
	for _, id := range ids {
		if _, dup := seen[id]; dup {
			return mksync.Errorf(mksync.EINVALID, "invalid %s batch: id %s appears twice", what, id)
		}
		seen[id] = struct{}{}
	}
	return nil
}

// inUse translates the foreign key violation of deleting a record that a
// sales document uses.
func inUse(what, id string, err error) error {
	if code, _ := pgCode(err); code == pgForeignKeyViolation {
		return mksync.WrapError(mksync.ECONFLICT, fmt.Sprintf("%s %s is used by a sales document", what, id), err)
	}
	return dbErr("delete "+what, err)
}

// crmTable describes a CRM record table (contacts, products, sales
// documents) for the list, stream and delete code they share.
type crmTable[T any] struct {
	table, what string // "contacts", "contact"
	et          mksync.EntityType
	cols        string
	scan        func(pgx.Rows) (T, error)
	id          func(T) string
	// searchCols are the columns ListFilter.Search matches.
	searchCols []string
	// usedByDocuments: deleting a record that a sales document references
	// is ECONFLICT.
	usedByDocuments bool
	// complete, when set, finishes rows read in tx (documents load their
	// lines).
	complete func(ctx context.Context, tx pgx.Tx, tenantID string, rows []T) error
	// stamps points at a record's id, tenant, times and version.
	stamps func(*T) stamps
}

// read runs query in tx and completes the rows.
func (t crmTable[T]) read(ctx context.Context, tx pgx.Tx, tenantID, query string, args ...any) ([]T, error) {
	out, err := collectRows(ctx, tx, t.scan, query, args...)
	if err != nil || t.complete == nil {
		return out, err
	}
	return out, t.complete(ctx, tx, tenantID, out)
}

// find lists one page of the tenant's records in id order.
func (t crmTable[T]) find(ctx context.Context, d *DB, tenantID string, f mksync.ListFilter) ([]T, string, error) {
	q, err := newListQuery(tenantID, t.et, f, t.searchCols...)
	if err != nil {
		return nil, "", err
	}
	limit := f.EffectiveLimit()
	var out []T
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		out, err = t.read(ctx, tx, tenantID, q.sql(t.table, prefixed("r.", t.cols), limit), q.args...)
		return err
	})
	if err != nil {
		return nil, "", dbErr("find "+strings.ReplaceAll(t.table, "_", " "), err)
	}
	return pageOf(out, limit, func(v T) string { return encodeIDCursor(t.id(v)) })
}

// all streams the tenant's records in id order, chunkSize rows per query.
func (t crmTable[T]) all(ctx context.Context, d *DB, tenantID string) iter.Seq2[T, error] {
	return stream(ctx, d, tenantID, "stream "+strings.ReplaceAll(t.table, "_", " "),
		func(ctx context.Context, tx pgx.Tx, after string, limit int) ([]T, error) {
			return t.read(ctx, tx, tenantID,
				`SELECT `+t.cols+` FROM `+t.table+` WHERE tenant_id = $1 AND id > $2 ORDER BY id LIMIT $3`,
				tenantID, after, limit)
		}, t.id)
}

// delete deletes the tenant's record id and its mapping.
func (t crmTable[T]) delete(ctx context.Context, d *DB, tenantID, id string) error {
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		// The tombstone first: it reads the record (a document's kind). A
		// failed delete rolls it back.
		if err := d.deleteMapping(ctx, tx, tenantID, t.et, id); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM `+t.table+` WHERE tenant_id = $1 AND id = $2`, tenantID, id)
		if err != nil {
			if t.usedByDocuments {
				return inUse(t.what, id, err)
			}
			return err
		}
		if tag.RowsAffected() == 0 {
			return notFound(t.what, id)
		}
		return nil
	})
	return dbErr("delete "+t.what, err)
}

// validator is a pointer to a record that validates itself.
type validator[T any] interface {
	*T
	Validate() error
}

// prepareBatch validates every record of an upsert batch (naming the first
// bad one by index), fills missing ids and refuses an id named twice. It
// returns the ids.
func prepareBatch[T any, P validator[T]](what string, items []T, id func(*T) *string) ([]string, error) {
	for i := range items {
		if err := P(&items[i]).Validate(); err != nil {
			return nil, annotateIndex(err, i)
		}
	}
	ids := make([]string, len(items))
	for i := range items {
		if err := fillID(id(&items[i])); err != nil {
			return nil, err
		}
		ids[i] = *id(&items[i])
	}
	return ids, checkBatchIDs(what, ids)
}

// inChunks calls write with chunkSize items at a time (one transaction
// each).
func inChunks[T any](items []T, write func([]T) error) error {
	for start := 0; start < len(items); start += chunkSize {
		if err := write(items[start:min(start+chunkSize, len(items))]); err != nil {
			return err
		}
	}
	return nil
}

// findOne reads the one row of a lookup in a tenant transaction, in one
// round trip (tenantBatch); missing is the error when there is none, op
// names the lookup in other errors.
func findOne[T any](ctx context.Context, d *DB, tenantID string, scan func(pgx.Row) (T, error), missing error, op, query string, args ...any) (T, error) {
	var v T
	err := d.tenantBatch(ctx, tenantID, func(b *pgx.Batch) { b.Queue(query, args...) }, func(br pgx.BatchResults) error {
		var err error
		v, err = scan(br.QueryRow())
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		var zero T
		return zero, missing
	}
	return v, dbErr(op, err)
}

// findNewest reads one page of a newest-first list keyed by (time, id)
// (error records, runs, alerts). query takes $1 the tenant id, $2-$4 the
// cursor (whether there is one, its time, its id), then args, and last the
// row limit; key gives a row's (time, id).
func findNewest[T any](ctx context.Context, d *DB, tenantID, cursor string, limit int, op string,
	scan func(pgx.Rows) (T, error), key func(T) (time.Time, string), query string, args ...any) ([]T, string, error) {
	at, afterID, hasCursor, err := decodeTimeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	all := append([]any{tenantID, hasCursor, at, afterID}, args...)
	all = append(all, limit+1)
	var out []T
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		out, err = collectRows(ctx, tx, scan, query, all...)
		return err
	})
	if err != nil {
		return nil, "", dbErr(op, err)
	}
	return pageOf(out, limit, func(v T) string { return encodeTimeCursor(key(v)) })
}

// stamps points at the fields a store sets on every CRM record it writes.
type stamps struct {
	id, tenantID         *string
	createdAt, updatedAt *time.Time
	version              *int64
}

// create checks rec with validate, fills its id and inserts it with insert
// in a tenant transaction; fail translates a failed transaction. On success
// rec gets the tenant, the time now and version 1.
func (t crmTable[T]) create(ctx context.Context, d *DB, tenantID string, rec *T, validate func() error,
	insert func(tx pgx.Tx, now time.Time) error, fail func(op string, err error) error) error {
	if err := validate(); err != nil {
		return err
	}
	st := t.stamps(rec)
	if err := fillID(st.id); err != nil {
		return err
	}
	now := d.nowUTC()
	if err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error { return insert(tx, now) }); err != nil {
		return fail("create "+t.what, err)
	}
	d.analyze.wrote(t.table, 1)
	*st.tenantID, *st.createdAt, *st.updatedAt, *st.version = tenantID, now, now, 1
	return nil
}

// update checks rec with validate and writes it with update, a versioned
// UPDATE … RETURNING created_at (pgx.ErrNoRows when the version did not
// match), in a tenant transaction that also turns a synced mapping pending;
// fail translates a failed transaction. On success rec gets the tenant, the
// times and its next version.
func (t crmTable[T]) update(ctx context.Context, d *DB, tenantID string, rec *T, validate func() error,
	update func(tx pgx.Tx, now time.Time) (created time.Time, err error), fail func(op string, err error) error) error {
	if err := validate(); err != nil {
		return err
	}
	st := t.stamps(rec)
	now := d.nowUTC()
	var created time.Time
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		created, err = update(tx, now)
		if errors.Is(err, pgx.ErrNoRows) {
			return checkVersionMiss(ctx, tx, t.table, t.what, tenantID, *st.id, *st.version)
		}
		if err != nil {
			return err
		}
		return markPending(ctx, tx, tenantID, t.et, now, *st.id)
	})
	if err != nil {
		return fail("update "+t.what, err)
	}
	*st.tenantID, *st.createdAt, *st.updatedAt, *st.version = tenantID, utc(created), now, *st.version+1
	return nil
}
