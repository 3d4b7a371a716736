package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/mksync/mksync"
)

// Helpers for the steps every record table repeats (find one, list a page,
// delete, batch upsert), so that each entity file holds only its columns
// and its own rules.

// findOne scans the row of a lookup by key: ENOTFOUND naming what and key
// when there is none.
func findOne[T any](row *sql.Row, scan func(scanner) (T, error), what, key string) (T, error) {
	v, err := scan(row)
	if errors.Is(err, sql.ErrNoRows) {
		return v, notFound(what, key)
	}
	if err != nil {
		return v, translate("find "+what, err, "", "", "")
	}
	return v, nil
}

// queryRows runs query and scans every row with scan; op names the query
// in errors.
func queryRows[T any](ctx context.Context, q querier, op, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, internal(op, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, translate(op, err, "", "", "")
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, internal(op, err)
	}
	return out, nil
}

// findPage reads the page of a keyset list that cursor names: list fetches
// up to limit rows after a decoded key, key gives a row's key.
func findPage[T any](cursor string, limit int, list func(after string, limit int) ([]T, error), key func(T) string) ([]T, string, error) {
	after, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	items, err := list(after, limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := pageOf(items, limit, key)
	return items, next, nil
}

// newestFirst lists up to limit rows of table (no alias) matching w, after
// the key after in descending id order (error records, runs, alerts).
func newestFirst[T any](ctx context.Context, q querier, table, cols string, w *where, after string, limit int, scan func(scanner) (T, error)) ([]T, error) {
	if after != "" {
		w.add("id < ?", after)
	}
	return queryRows(ctx, q, "list "+table, "SELECT "+cols+" FROM "+table+" WHERE "+w.String()+" ORDER BY id DESC LIMIT ?",
		append(w.args, limit), scan)
}

// deleteRecord deletes the tenant's record id of table (a CRM record of
// entity et, named what in errors) and its mapping. inUse, when set, is the
// ECONFLICT message of a record that a sales document still references.
func (s *store) deleteRecord(ctx context.Context, table, what string, et mksync.EntityType, tenantID, id, inUse string) error {
	fkCode := ""
	if inUse != "" {
		fkCode = mksync.ECONFLICT
	}
	return s.write(ctx, func(q querier) error {
		// The tombstone first: it reads the record (a document's kind). A
		// failed delete rolls it back.
		if err := s.deleteMappingOf(ctx, q, tenantID, et, id); err != nil {
			return err
		}
		res, err := q.ExecContext(ctx, "DELETE FROM "+table+" WHERE tenant_id = ? AND id = ?", tenantID, id)
		if err != nil {
			return translate("delete "+what, err, "", fkCode, inUse)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound(what, id)
		}
		return nil
	})
}

// validator is a pointer to a record that validates itself.
type validator[T any] interface {
	*T
	Validate() error
}

// upsertAll validates every item (naming the first invalid one by index)
// and fills its id, then writes the items in batches of upsertBatch, one
// transaction each.
func upsertAll[T any, P validator[T]](ctx context.Context, s *store, what string, items []T, id func(*T) *string, write func(q querier, batch []T) error) error {
	for i := range items {
		if err := P(&items[i]).Validate(); err != nil {
			return mksync.WrapError(mksync.EINVALID, fmt.Sprintf("%s %d: %s", what, i, mksync.ErrorMessage(err)), err)
		}
	}
	for i := range items {
		if err := ensureID(id(&items[i])); err != nil {
			return err
		}
	}
	for lo, hi := range batches(len(items)) {
		if err := s.write(ctx, func(q querier) error { return write(q, items[lo:hi]) }); err != nil {
			return err
		}
	}
	return nil
}

// upsertMiss explains an upserted row that returned nothing: the id
// belongs to another tenant's record (the upsert's WHERE refused it).
func upsertMiss(what, id string) error {
	return mksync.Errorf(mksync.ECONFLICT, "%s id %s belongs to another record", what, id)
}

// written finishes a row written by an upsert or a versioned update that
// returned its version and created_at: it parses created_at and, when the
// row existed before (version > 1), turns a synced mapping pending.
func (s *store) written(ctx context.Context, q querier, tenantID string, et mksync.EntityType, id string, version int64, created, now string) (time.Time, error) {
	t, err := parseTime(created)
	if err != nil {
		return t, err
	}
	if version > 1 {
		return t, s.markPending(ctx, q, tenantID, et, id, now)
	}
	return t, nil
}

// stamps points at the fields a store sets on every CRM record it writes.
type stamps struct {
	id, tenantID         *string
	createdAt, updatedAt *time.Time
	version              *int64
}

// crmRecord describes a CRM record table (contacts, products, sales
// documents) for the list, delete, create and update code they share.
type crmRecord[T any] struct {
	table, what string // "contacts", "contact"
	et          mksync.EntityType
	cols        string // selected columns, table alias r
	scan        func(scanner) (T, error)
	id          func(T) string
	stamps      func(*T) stamps
	// inUse is the ECONFLICT message of deleting a record that a sales
	// document references; "" when none can.
	inUse string
	// prepare, when set, completes a copy before it is written (documents
	// copy their lines and compute their totals).
	prepare func(*T)
	// complete, when set, finishes listed rows (documents load their lines).
	complete func(ctx context.Context, q querier, tenantID string, rows []T) error
}

// list reads up to limit of the tenant's records after the id after that
// match f, in id order.
func (r crmRecord[T]) list(ctx context.Context, q querier, tenantID, after string, f mksync.ListFilter, limit int) ([]T, error) {
	w, err := crmWhere(r.et, tenantID, after, f)
	if err != nil {
		return nil, err
	}
	rows, err := listCRM(ctx, q, r.table, r.cols, w, limit, r.scan)
	if err != nil || r.complete == nil {
		return rows, err
	}
	return rows, r.complete(ctx, q, tenantID, rows)
}

// find reads the page of the tenant's records that f names.
func (r crmRecord[T]) find(ctx context.Context, s *store, tenantID string, f mksync.ListFilter) ([]T, string, error) {
	return findPage(f.After, f.EffectiveLimit(), func(after string, limit int) ([]T, error) {
		return r.list(ctx, s.reader(), tenantID, after, f, limit)
	}, r.id)
}

// all streams every record of the tenant in id order.
func (r crmRecord[T]) all(ctx context.Context, s *store, tenantID string) iter.Seq2[T, error] {
	return stream(func(after string, limit int) ([]T, error) {
		return r.list(ctx, s.reader(), tenantID, after, mksync.ListFilter{}, limit)
	}, r.id)
}

// delete deletes the tenant's record id and its mapping.
func (r crmRecord[T]) delete(ctx context.Context, s *store, tenantID, id string) error {
	return s.deleteRecord(ctx, r.table, r.what, r.et, tenantID, id, r.inUse)
}

// copyOf validates rec and returns a copy of it prepared for writing.
func copyOf[T any, P validator[T]](r crmRecord[T], rec *T) (T, error) {
	if err := P(rec).Validate(); err != nil {
		var zero T
		return zero, err
	}
	n := *rec
	if r.prepare != nil {
		r.prepare(&n)
	}
	return n, nil
}

// create validates rec and inserts a copy of it, with a new id (unless
// set), the tenant, the time now and version 1, with insert after checking
// the tenant, in one write transaction. rec gets the copy only when that
// transaction committed.
func create[T any, P validator[T]](ctx context.Context, s *store, r crmRecord[T], tenantID string, rec *T,
	insert func(q querier, n *T, now string) error) error {
	n, err := copyOf[T, P](r, rec)
	if err != nil {
		return err
	}
	st := r.stamps(&n)
	if err := ensureID(st.id); err != nil {
		return err
	}
	now := s.truncNow()
	*st.tenantID, *st.createdAt, *st.updatedAt, *st.version = tenantID, now, now, 1
	err = s.write(ctx, func(q querier) error {
		if err := requireTenant(ctx, q, tenantID); err != nil {
			return err
		}
		return insert(q, &n, fmtTime(now))
	})
	if err != nil {
		return err
	}
	*rec = n
	return nil
}

// update validates rec and writes a copy of it with update: a versioned
// UPDATE … RETURNING version, created_at, whose driver error (sql.ErrNoRows
// when the version did not match) update returns as it is, with the
// created_at text. Then the copy's mapping turns pending, and rec gets the
// copy, with the tenant and the time now, when the transaction committed.
// tr translates the UPDATE's other errors.
func update[T any, P validator[T]](ctx context.Context, s *store, r crmRecord[T], tenantID string, rec *T,
	update func(q querier, n *T, now string) (created string, err error), tr func(error) error) error {
	n, err := copyOf[T, P](r, rec)
	if err != nil {
		return err
	}
	st := r.stamps(&n)
	version := *st.version
	now := s.truncNow()
	err = s.write(ctx, func(q querier) error {
		created, err := update(q, &n, fmtTime(now))
		if errors.Is(err, sql.ErrNoRows) {
			return versionMiss(ctx, q, r.table, r.what, tenantID, *st.id, version)
		}
		if err != nil {
			return tr(err)
		}
		*st.createdAt, err = s.written(ctx, q, tenantID, r.et, *st.id, *st.version, created, fmtTime(now))
		return err
	})
	if err != nil {
		return err
	}
	*st.tenantID, *st.updatedAt = tenantID, now
	*rec = n
	return nil
}
