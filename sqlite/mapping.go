package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"slices"
	"strings"

	"github.com/mksync/mksync"
)

const mappingCols = `tenant_id, entity_type, entity_id, mk_id, count_code, pushed_hash, pulled_hash, state,
	last_error, last_synced_at, updated_at, synced_view, synced_remote_view`

// mappingStateCols are mappingCols with empty synced views, for the same
// scanner.
const mappingStateCols = `tenant_id, entity_type, entity_id, mk_id, count_code, pushed_hash, pulled_hash, state,
	last_error, last_synced_at, updated_at, '', ''`

func scanMapping(sc scanner) (mksync.Mapping, error) {
	var m mksync.Mapping
	var synced sql.NullString
	var updated string
	err := sc.Scan(&m.TenantID, &m.EntityType, &m.EntityID, &m.MetakockaID, &m.CountCode, &m.PushedHash,
		&m.PulledHash, &m.State, &m.LastError, &synced, &updated, &m.SyncedView, &m.SyncedRemoteView)
	if err != nil {
		return m, err
	}
	if t, err := nullTime(synced); err != nil {
		return m, err
	} else if t != nil {
		m.LastSyncedAt = *t
	}
	m.UpdatedAt, err = parseTime(updated)
	return m, err
}

// entityTable is the table holding records of et, or "" when et is unknown.
func entityTable(et mksync.EntityType) string {
	switch et {
	case mksync.EntityContact:
		return "contacts"
	case mksync.EntityProduct:
		return "products"
	case mksync.EntitySalesDocument:
		return "sales_documents"
	}
	return ""
}

func checkEntityType(et mksync.EntityType) error {
	if entityTable(et) == "" {
		return mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
	}
	return nil
}

// UpsertMapping implements mksync.MappingStore.
func (s *store) UpsertMapping(ctx context.Context, tenantID string, m *mksync.Mapping) error {
	if err := checkEntityType(m.EntityType); err != nil {
		return err
	}
	if !slices.Contains(mksync.SyncStates, m.State) {
		return mksync.Errorf(mksync.EINVALID, "invalid mapping state %q", m.State)
	}
	n := *m
	now := s.truncNow()
	n.TenantID, n.UpdatedAt = tenantID, now
	if !n.LastSyncedAt.IsZero() {
		n.LastSyncedAt = trunc(n.LastSyncedAt)
	}
	err := s.write(ctx, func(q querier) error {
		var one int
		err := q.QueryRowContext(ctx, "SELECT 1 FROM "+entityTable(n.EntityType)+" WHERE tenant_id = ? AND id = ?", tenantID, n.EntityID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound(string(n.EntityType), n.EntityID)
		}
		if err != nil {
			return internal("find mapped record", err)
		}
		_, err = q.ExecContext(ctx, `INSERT INTO mappings (`+mappingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant_id, entity_type, entity_id) DO UPDATE SET mk_id = excluded.mk_id,
				count_code = excluded.count_code, pushed_hash = excluded.pushed_hash,
				pulled_hash = excluded.pulled_hash, state = excluded.state, last_error = excluded.last_error,
				last_synced_at = excluded.last_synced_at, updated_at = excluded.updated_at,
				synced_view = excluded.synced_view, synced_remote_view = excluded.synced_remote_view`,
			tenantID, string(n.EntityType), n.EntityID, n.MetakockaID, n.CountCode, n.PushedHash, n.PulledHash,
			string(n.State), n.LastError, fmtTimeOrNull(n.LastSyncedAt), fmtTime(now), n.SyncedView, n.SyncedRemoteView)
		return translate("upsert mapping", err, "Metakocka id "+n.MetakockaID+" is already mapped to another "+string(n.EntityType), "", "")
	})
	if err != nil {
		return err
	}
	*m = n
	return nil
}

// FindMapping implements mksync.MappingStore.
func (s *store) FindMapping(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) (mksync.Mapping, error) {
	return s.findMapping(ctx, "entity_id = ?", tenantID, et, entityID)
}

// FindMappingByMetakockaID implements mksync.MappingStore.
func (s *store) FindMappingByMetakockaID(ctx context.Context, tenantID string, et mksync.EntityType, mkID string) (mksync.Mapping, error) {
	if mkID == "" {
		return mksync.Mapping{}, notFound("mapping of Metakocka id", mkID)
	}
	return s.findMapping(ctx, byMkID, tenantID, et, mkID)
}

// byMkID selects a mapping by mk_id. Repeating the partial unique index's
// condition (mk_id not empty) lets SQLite use mappings_mk_id; without it a lookup scans the
// tenant's mappings of the type (a pull of n records was O(n²)).
const byMkID = "mk_id = ? AND mk_id <> ''"

// findMappingQuery selects the mapping of a tenant and entity type that
// matches cond (one parameter).
func findMappingQuery(cond string) string {
	return "SELECT " + mappingCols + " FROM mappings WHERE tenant_id = ? AND entity_type = ? AND " + cond
}

func (s *store) findMapping(ctx context.Context, cond, tenantID string, et mksync.EntityType, key string) (mksync.Mapping, error) {
	m, err := scanMapping(s.reader().QueryRowContext(ctx, findMappingQuery(cond), tenantID, string(et), key))
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("mapping of "+string(et), key)
	}
	if err != nil {
		return m, translate("find mapping", err, "", "", "")
	}
	return m, nil
}

// FindMappingsOf implements mksync.MappingStore.
func (s *store) FindMappingsOf(ctx context.Context, tenantID string, et mksync.EntityType, entityIDs []string) (map[string]mksync.Mapping, error) {
	if err := mksync.CheckMappingsOf(et, entityIDs); err != nil {
		return nil, err
	}
	out := make(map[string]mksync.Mapping, len(entityIDs))
	if len(entityIDs) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(entityIDs)+2)
	args = append(args, tenantID, string(et))
	for _, id := range entityIDs {
		args = append(args, id)
	}
	// The placeholder list makes one statement text per page size, which
	// the statement cache keeps like any other.
	q := "SELECT " + mappingCols + " FROM mappings WHERE tenant_id = ? AND entity_type = ? AND entity_id IN (?" +
		strings.Repeat(", ?", len(entityIDs)-1) + ")"
	rows, err := s.reader().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate("find mappings of records", err, "", "", "")
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMapping(rows)
		if err != nil {
			return nil, translate("find mappings of records", err, "", "", "")
		}
		out[m.EntityID] = m
	}
	if err := rows.Err(); err != nil {
		return nil, translate("find mappings of records", err, "", "", "")
	}
	return out, nil
}

// FindMappings implements mksync.MappingStore: in entity id order; Search
// matches mk_id or count_code.
func (s *store) FindMappings(ctx context.Context, tenantID string, et mksync.EntityType, f mksync.ListFilter) ([]mksync.Mapping, string, error) {
	after, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	limit := f.EffectiveLimit()
	items, err := s.listMappings(ctx, tenantID, et, after, f, limit+1)
	if err != nil {
		return nil, "", err
	}
	items, next := pageOf(items, limit, func(m mksync.Mapping) string { return m.EntityID })
	return items, next, nil
}

func (s *store) listMappings(ctx context.Context, tenantID string, et mksync.EntityType, after string, f mksync.ListFilter, limit int) ([]mksync.Mapping, error) {
	w := &where{}
	w.add("tenant_id = ?", tenantID)
	w.add("entity_type = ?", string(et))
	if after != "" {
		w.add("entity_id > ?", after)
	}
	switch {
	case f.State == "":
	case f.State == mksync.StateUnsynced:
		return nil, nil // a mapping is never unsynced
	case slices.Contains(mksync.SyncStates, f.State):
		w.add("state = ?", string(f.State))
	default:
		return nil, mksync.Errorf(mksync.EINVALID, "unknown sync state %q", f.State)
	}
	if f.Search != "" {
		p := likePattern(f.Search)
		w.add(`(lower(mk_id) LIKE ? ESCAPE '\' OR lower(count_code) LIKE ? ESCAPE '\')`, p, p)
	}
	rows, err := s.reader().QueryContext(ctx, "SELECT "+mappingCols+" FROM mappings WHERE "+w.String()+" ORDER BY entity_id LIMIT ?", append(w.args, limit)...)
	if err != nil {
		return nil, internal("list mappings", err)
	}
	defer rows.Close()
	var out []mksync.Mapping
	for rows.Next() {
		m, err := scanMapping(rows)
		if err != nil {
			return nil, translate("list mappings", err, "", "", "")
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, internal("list mappings", err)
	}
	return out, nil
}

// DeleteMapping implements mksync.MappingStore.
func (s *store) DeleteMapping(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) error {
	return s.write(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, "DELETE FROM mappings WHERE tenant_id = ? AND entity_type = ? AND entity_id = ?", tenantID, string(et), entityID)
		if err != nil {
			return internal("delete mapping", err)
		}
		if n, err := rowsAffected(res); err != nil {
			return err
		} else if n == 0 {
			return notFound("mapping of "+string(et), entityID)
		}
		return nil
	})
}

// AllMappings implements mksync.MappingStore.
func (s *store) AllMappings(ctx context.Context, tenantID string, et mksync.EntityType) iter.Seq2[mksync.Mapping, error] {
	return stream(func(after string, limit int) ([]mksync.Mapping, error) {
		return s.listMappings(ctx, tenantID, et, after, mksync.ListFilter{}, limit)
	}, func(m mksync.Mapping) string { return m.EntityID })
}

// AllMappingStates implements mksync.MappingStore.
func (s *store) AllMappingStates(ctx context.Context, tenantID string, et mksync.EntityType) iter.Seq2[mksync.Mapping, error] {
	return stream(func(after string, limit int) ([]mksync.Mapping, error) {
		if err := checkEntityType(et); err != nil {
			return nil, err
		}
		rows, err := s.reader().QueryContext(ctx, "SELECT "+mappingStateCols+` FROM mappings
			WHERE tenant_id = ? AND entity_type = ? AND entity_id > ? ORDER BY entity_id LIMIT ?`, tenantID, string(et), after, limit)
		if err != nil {
			return nil, internal("stream mapping states", err)
		}
		defer rows.Close()
		var out []mksync.Mapping
		for rows.Next() {
			m, err := scanMapping(rows)
			if err != nil {
				return nil, translate("stream mapping states", err, "", "", "")
			}
			out = append(out, m)
		}
		if err := rows.Err(); err != nil {
			return nil, internal("stream mapping states", err)
		}
		return out, nil
	}, func(m mksync.Mapping) string { return m.EntityID })
}

// CountMappingsByState implements mksync.MappingStore.
func (s *store) CountMappingsByState(ctx context.Context, tenantID string, et mksync.EntityType) (map[mksync.SyncState]int, error) {
	if err := checkEntityType(et); err != nil {
		return nil, err
	}
	out := map[mksync.SyncState]int{mksync.StateUnsynced: 0}
	for _, st := range mksync.SyncStates {
		out[st] = 0
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT COALESCE(m.state, 'unsynced'), count(*) FROM `+entityTable(et)+` r
		LEFT JOIN mappings m ON m.tenant_id = r.tenant_id AND m.entity_type = ? AND m.entity_id = r.id
		WHERE r.tenant_id = ? GROUP BY 1`, string(et), tenantID)
	if err != nil {
		return nil, internal("count mappings", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, internal("count mappings", err)
		}
		out[mksync.SyncState(st)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, internal("count mappings", err)
	}
	return out, nil
}

// GetCursor implements mksync.SyncStateStore.
func (s *store) GetCursor(ctx context.Context, tenantID, key string) (string, error) {
	var v string
	err := s.reader().QueryRowContext(ctx, "SELECT value FROM sync_cursors WHERE tenant_id = ? AND key = ?", tenantID, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("cursor", key)
	}
	if err != nil {
		return "", internal("get cursor", err)
	}
	return v, nil
}

// SetCursor implements mksync.SyncStateStore.
func (s *store) SetCursor(ctx context.Context, tenantID, key, value string) error {
	return s.write(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `INSERT INTO sync_cursors (tenant_id, key, value, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			tenantID, key, value, fmtTime(s.truncNow()))
		return translate("set cursor", err, "", mksync.ENOTFOUND, "tenant not found")
	})
}

// CountLinks implements mksync.MappingStore: one pass over the tenant's
// records of et joined to their mappings (the mappings' primary key), and
// one over its tombstones (theirs).
func (s *store) CountLinks(ctx context.Context, tenantID string, et mksync.EntityType) (mksync.LinkCounts, error) {
	var c mksync.LinkCounts
	if err := checkEntityType(et); err != nil {
		return c, err
	}
	err := s.reader().QueryRowContext(ctx, countLinksQuery(et),
		string(mksync.StateDeletedInMetakocka), string(mksync.StateAmbiguous), string(mksync.StateDeletedInMetakocka),
		string(et), tenantID).Scan(&c.Linked, &c.ToCreate, &c.Ambiguous, &c.DeletedInMetakocka)
	if err != nil {
		return c, internal("count links", err)
	}
	err = s.reader().QueryRowContext(ctx, countTombstonesQuery, tenantID, string(et)).Scan(&c.Tombstones)
	if err != nil {
		return c, internal("count tombstones", err)
	}
	return c, nil
}

// countLinksQuery counts the records of et by how they stand with
// Metakocka; arguments: the deleted state, the ambiguous state, the
// deleted state, et, the tenant.
func countLinksQuery(et mksync.EntityType) string {
	return `SELECT
			COALESCE(SUM(CASE WHEN m.mk_id <> '' AND m.state <> ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.entity_id IS NULL THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.state = ? THEN 1 ELSE 0 END), 0),
			COALESCE(SUM(CASE WHEN m.state = ? THEN 1 ELSE 0 END), 0)
		FROM ` + entityTable(et) + ` r
		LEFT JOIN mappings m ON m.tenant_id = r.tenant_id AND m.entity_type = ? AND m.entity_id = r.id
		WHERE r.tenant_id = ?`
}

// countTombstonesQuery counts a tenant's tombstones of one entity type.
const countTombstonesQuery = `SELECT count(*) FROM tombstones WHERE tenant_id = ? AND entity_type = ?`
