package postgres

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
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
		SELECT tenant_id, entity_type, mk_id, entity_id, count_code, $4 FROM mappings
		WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3 AND mk_id <> ''
		ON CONFLICT (tenant_id, entity_type, mk_id) DO UPDATE SET
			entity_id = excluded.entity_id, count_code = excluded.count_code, deleted_at = excluded.deleted_at`,
		tenantID, string(et), id, d.nowUTC()); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `DELETE FROM mappings WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3`,
		tenantID, string(et), id)
	return err
}

// stream yields every row of a keyset-ordered table in chunks of chunkSize:
// each chunk is read in its own short tenant transaction, and no transaction
// or connection is held while the caller handles the rows. fetch reads the
// rows after the given key; key returns a row's key.
func stream[T any](ctx context.Context, d *DB, tenantID, op string,
	fetch func(ctx context.Context, tx pgx.Tx, after string, limit int) ([]T, error), key func(T) string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		after := ""
		for {
			var chunk []T
			err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
				var err error
				chunk, err = fetch(ctx, tx, after, chunkSize)
				return err
			})
			if err != nil {
				var zero T
				yield(zero, dbErr(op, err))
				return
			}
			for _, v := range chunk {
				if !yield(v, nil) {
					return
				}
			}
			if len(chunk) < chunkSize {
				return
			}
			after = key(chunk[len(chunk)-1])
		}
	}
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
