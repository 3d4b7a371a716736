package sqlite

import (
	"context"
	"iter"
	"slices"
	"strings"

	"github.com/mksync/mksync"
	"github.com/mksync/mksync/keyset"
)

// streamChunk is how many rows an All* iterator reads per query. Between
// chunks it holds no connection, so a slow consumer never blocks writers.
const streamChunk = 500

// stream yields every item that fetch returns, streamChunk rows per query.
func stream[T any](fetch func(after string, limit int) ([]T, error), key func(T) string) iter.Seq2[T, error] {
	return keyset.Stream(streamChunk, fetch, key)
}

// where collects the conditions and arguments of a query.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string { return strings.Join(w.conds, " AND ") }

// crmWhere is the WHERE of a CRM record list (contacts, products, sales
// documents; table alias r): tenant, keyset cursor (after, decoded), sync
// state through the mappings, and search.
func crmWhere(et mksync.EntityType, tenantID, after string, f mksync.ListFilter) (*where, error) {
	w := &where{}
	w.add("r.tenant_id = ?", tenantID)
	if after != "" {
		w.add("r.id > ?", after)
	}
	switch {
	case f.State == "":
	case f.State == mksync.StateUnsynced:
		w.add("NOT EXISTS (SELECT 1 FROM mappings m WHERE m.tenant_id = r.tenant_id AND m.entity_type = ? AND m.entity_id = r.id)", string(et))
	case slices.Contains(mksync.SyncStates, f.State):
		w.add("EXISTS (SELECT 1 FROM mappings m WHERE m.tenant_id = r.tenant_id AND m.entity_type = ? AND m.entity_id = r.id AND m.state = ?)", string(et), string(f.State))
	default:
		return nil, mksync.Errorf(mksync.EINVALID, "unknown sync state %q", f.State)
	}
	if f.Search != "" {
		w.add(`r.search_text LIKE ? ESCAPE '\'`, likePattern(f.Search))
	}
	return w, nil
}

// listCRM runs a CRM list query: SELECT cols FROM table r WHERE … ORDER BY
// r.id LIMIT limit, scanning each row with scan.
func listCRM[T any](ctx context.Context, q querier, table, cols string, w *where, limit int, scan func(scanner) (T, error)) ([]T, error) {
	return queryRows(ctx, q, "list "+table, "SELECT "+cols+" FROM "+table+" r WHERE "+w.String()+" ORDER BY r.id LIMIT ?", append(w.args, limit), scan)
}

// scanner is *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// markPending turns a synced mapping of the record pending: the record
// changed locally and must be pushed again.
func (s *store) markPending(ctx context.Context, q querier, tenantID string, et mksync.EntityType, id string, now string) error {
	_, err := q.ExecContext(ctx, `UPDATE mappings SET state = 'pending', updated_at = ?
		WHERE tenant_id = ? AND entity_type = ? AND entity_id = ? AND state = 'synced'`, now, tenantID, string(et), id)
	if err != nil {
		return internal("mark mapping pending", err)
	}
	return nil
}

// deleteMappingOf removes the mapping of a deleted record, keeping a
// tombstone when it named a Metakocka record.
func (s *store) deleteMappingOf(ctx context.Context, q querier, tenantID string, et mksync.EntityType, id string) error {
	if err := keepTombstoneOf(ctx, q, tenantID, et, id, s.truncNow()); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, "DELETE FROM mappings WHERE tenant_id = ? AND entity_type = ? AND entity_id = ?", tenantID, string(et), id)
	if err != nil {
		return internal("delete mapping", err)
	}
	return nil
}

// upsertBatch is how many records one upsert transaction writes.
const upsertBatch = 500

// batches splits n items into [lo, hi) ranges of at most upsertBatch.
func batches(n int) iter.Seq2[int, int] {
	return func(yield func(int, int) bool) {
		for lo := 0; lo < n; lo += upsertBatch {
			if !yield(lo, min(lo+upsertBatch, n)) {
				return
			}
		}
	}
}
