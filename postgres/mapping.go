package postgres

import (
	"context"
	"errors"
	"iter"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

const mappingColumns = `tenant_id, entity_type, entity_id, mk_id, count_code, pushed_hash, pulled_hash, state,
	last_error, last_synced_at, updated_at, synced_view, synced_remote_view`

// mappingStateColumns are mappingColumns with empty synced views, for the
// same scanner.
const mappingStateColumns = `tenant_id, entity_type, entity_id, mk_id, count_code, pushed_hash, pulled_hash, state,
	last_error, last_synced_at, updated_at, ''::text, ''::text`

func scanMapping(r pgx.Row) (mksync.Mapping, error) {
	var m mksync.Mapping
	var et, state string
	var synced *time.Time
	err := r.Scan(&m.TenantID, &et, &m.EntityID, &m.MetakockaID, &m.CountCode, &m.PushedHash, &m.PulledHash,
		&state, &m.LastError, &synced, &m.UpdatedAt, &m.SyncedView, &m.SyncedRemoteView)
	m.EntityType, m.State = mksync.EntityType(et), mksync.SyncState(state)
	if synced != nil {
		m.LastSyncedAt = utc(*synced)
	}
	m.UpdatedAt = utc(m.UpdatedAt)
	return m, err
}

func scanMappingRows(r pgx.Rows) (mksync.Mapping, error) { return scanMapping(r) }

// entityTable returns the table of an entity type; EINVALID when unknown.
func entityTable(et mksync.EntityType) (string, error) {
	switch et {
	case mksync.EntityContact:
		return "contacts", nil
	case mksync.EntityProduct:
		return "products", nil
	case mksync.EntitySalesDocument:
		return "sales_documents", nil
	}
	return "", mksync.Errorf(mksync.EINVALID, "unknown entity type %q", et)
}

// UpsertMapping creates or replaces the mapping of (m.EntityType,
// m.EntityID); see mksync.MappingStore. It fills TenantID and UpdatedAt.
func (d *DB) UpsertMapping(ctx context.Context, tenantID string, m *mksync.Mapping) error {
	table, err := entityTable(m.EntityType)
	if err != nil {
		return err
	}
	if !slices.Contains(mksync.SyncStates, m.State) {
		return mksync.Errorf(mksync.EINVALID, "invalid mapping: unknown state %q", m.State)
	}
	now := d.nowUTC()
	var synced *time.Time
	if !m.LastSyncedAt.IsZero() {
		t := utc(m.LastSyncedAt)
		synced = &t
	}
	// The record's check and the write in one statement (one round trip
	// with tenantBatch): nothing is written when the record is missing.
	err = d.tenantBatch(ctx, tenantID, func(b *pgx.Batch) {
		b.Queue(`WITH rec AS (SELECT EXISTS (SELECT 1 FROM `+table+` WHERE tenant_id = $1 AND id = $3) AS ok),
			up AS (INSERT INTO mappings (`+mappingColumns+`)
				SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10::timestamptz, $11::timestamptz, $12, $13 FROM rec WHERE rec.ok
				ON CONFLICT (tenant_id, entity_type, entity_id) DO UPDATE SET mk_id = EXCLUDED.mk_id,
					count_code = EXCLUDED.count_code, pushed_hash = EXCLUDED.pushed_hash,
					pulled_hash = EXCLUDED.pulled_hash, state = EXCLUDED.state, last_error = EXCLUDED.last_error,
					last_synced_at = EXCLUDED.last_synced_at, updated_at = EXCLUDED.updated_at,
					synced_view = EXCLUDED.synced_view, synced_remote_view = EXCLUDED.synced_remote_view)
			SELECT ok FROM rec`,
			tenantID, string(m.EntityType), m.EntityID, m.MetakockaID, m.CountCode, m.PushedHash, m.PulledHash,
			string(m.State), m.LastError, synced, now, m.SyncedView, m.SyncedRemoteView)
	}, func(br pgx.BatchResults) error {
		var ok bool
		err := br.QueryRow().Scan(&ok)
		if code, _ := pgCode(err); code == pgUniqueViolation {
			return mksync.WrapError(mksync.ECONFLICT, "Metakocka id "+m.MetakockaID+" is already mapped to another "+string(m.EntityType), err)
		}
		if err != nil {
			return err
		}
		if !ok {
			return notFound(string(m.EntityType), m.EntityID)
		}
		return nil
	})
	if err != nil {
		return dbErr("upsert mapping", err)
	}
	d.analyze.wrote("mappings", 1)
	m.TenantID, m.UpdatedAt = tenantID, now
	if synced != nil {
		m.LastSyncedAt = *synced
	}
	return nil
}

func (d *DB) findMapping(ctx context.Context, tenantID string, et mksync.EntityType, col, v string) (mksync.Mapping, error) {
	var m mksync.Mapping
	cond := col + ` = $3`
	if col == "mk_id" {
		// Lets the planner use the partial unique index mappings_mk_id_key
		// also with a generic plan of the prepared statement.
		cond += ` AND mk_id <> ''`
	}
	// One round trip (tenantBatch): a bulk sync reads a mapping per record.
	err := d.tenantBatch(ctx, tenantID, func(b *pgx.Batch) {
		b.Queue(`SELECT `+mappingColumns+` FROM mappings
			WHERE tenant_id = $1 AND entity_type = $2 AND `+cond, tenantID, string(et), v)
	}, func(br pgx.BatchResults) error {
		var err error
		m, err = scanMapping(br.QueryRow())
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return mksync.Mapping{}, mksync.Errorf(mksync.ENOTFOUND, "no mapping for %s %s", et, v)
	}
	return m, dbErr("find mapping", err)
}

// FindMapping returns the mapping of a local record; ENOTFOUND when none.
func (d *DB) FindMapping(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) (mksync.Mapping, error) {
	return d.findMapping(ctx, tenantID, et, "entity_id", entityID)
}

// FindMappingByMetakockaID returns the mapping of a Metakocka record;
// ENOTFOUND when none (an empty mkID never matches).
func (d *DB) FindMappingByMetakockaID(ctx context.Context, tenantID string, et mksync.EntityType, mkID string) (mksync.Mapping, error) {
	if mkID == "" {
		return mksync.Mapping{}, mksync.Errorf(mksync.ENOTFOUND, "no mapping for an empty Metakocka id")
	}
	return d.findMapping(ctx, tenantID, et, "mk_id", mkID)
}

// FindMappingsOf returns the mappings of entityIDs in one query, keyed by
// entity id; see mksync.MappingStore.
func (d *DB) FindMappingsOf(ctx context.Context, tenantID string, et mksync.EntityType, entityIDs []string) (map[string]mksync.Mapping, error) {
	if err := mksync.CheckMappingsOf(et, entityIDs); err != nil {
		return nil, err
	}
	out := make(map[string]mksync.Mapping, len(entityIDs))
	if len(entityIDs) == 0 {
		return out, nil
	}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+mappingColumns+` FROM mappings
			WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = ANY($3)`, tenantID, string(et), entityIDs)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			m, err := scanMapping(rows)
			if err != nil {
				return err
			}
			out[m.EntityID] = m
		}
		return rows.Err()
	})
	if err != nil {
		return nil, dbErr("find mappings of records", err)
	}
	return out, nil
}

// FindMappings lists mappings of et in entity id order. State keeps one
// state (StateUnsynced matches none: unsynced records have no mapping);
// Search matches mk_id or count_code.
func (d *DB) FindMappings(ctx context.Context, tenantID string, et mksync.EntityType, f mksync.ListFilter) ([]mksync.Mapping, string, error) {
	if _, err := entityTable(et); err != nil {
		return nil, "", err
	}
	after, err := decodeIDCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	if f.State != "" && f.State != mksync.StateUnsynced && !slices.Contains(mksync.SyncStates, f.State) {
		return nil, "", mksync.Errorf(mksync.EINVALID, "invalid filter: unknown state %q", f.State)
	}
	limit := f.EffectiveLimit()
	search := ""
	if f.Search != "" {
		search = likePattern(f.Search)
	}
	var out []mksync.Mapping
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		var err error
		out, err = collectRows(ctx, tx, scanMappingRows, `SELECT `+mappingColumns+` FROM mappings
			WHERE tenant_id = $1 AND entity_type = $2 AND entity_id > $3
				AND ($4 = '' OR state = $4)
				AND ($5 = '' OR mk_id ILIKE $5 ESCAPE '\' OR count_code ILIKE $5 ESCAPE '\')
			ORDER BY entity_id LIMIT $6`, tenantID, string(et), after, string(f.State), search, limit+1)
		return err
	})
	if err != nil {
		return nil, "", dbErr("find mappings", err)
	}
	return pageOf(out, limit, func(m mksync.Mapping) string { return encodeIDCursor(m.EntityID) })
}

// DeleteMapping removes a mapping; ENOTFOUND when none.
func (d *DB) DeleteMapping(ctx context.Context, tenantID string, et mksync.EntityType, entityID string) error {
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM mappings WHERE tenant_id = $1 AND entity_type = $2 AND entity_id = $3`,
			tenantID, string(et), entityID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return mksync.Errorf(mksync.ENOTFOUND, "no mapping for %s %s", et, entityID)
		}
		return nil
	})
	return dbErr("delete mapping", err)
}

// AllMappings streams the mappings of et in entity id order, chunkSize rows
// per query.
func (d *DB) AllMappings(ctx context.Context, tenantID string, et mksync.EntityType) iter.Seq2[mksync.Mapping, error] {
	return d.streamMappings(ctx, tenantID, et, mappingColumns, "stream mappings")
}

// AllMappingStates streams the mappings of et as AllMappings does, without
// their synced views; see mksync.MappingStore.
func (d *DB) AllMappingStates(ctx context.Context, tenantID string, et mksync.EntityType) iter.Seq2[mksync.Mapping, error] {
	return d.streamMappings(ctx, tenantID, et, mappingStateColumns, "stream mapping states")
}

// streamMappings streams the columns cols (mappingColumns or
// mappingStateColumns) of the mappings of et in entity id order.
func (d *DB) streamMappings(ctx context.Context, tenantID string, et mksync.EntityType, cols, op string) iter.Seq2[mksync.Mapping, error] {
	return stream(ctx, d, tenantID, op,
		func(ctx context.Context, tx pgx.Tx, after string, limit int) ([]mksync.Mapping, error) {
			return collectRows(ctx, tx, scanMappingRows, `SELECT `+cols+` FROM mappings
				WHERE tenant_id = $1 AND entity_type = $2 AND entity_id > $3 ORDER BY entity_id LIMIT $4`,
				tenantID, string(et), after, limit)
		},
		func(m mksync.Mapping) string { return m.EntityID })
}

// CountMappingsByState counts the records of et per sync state; records
// without a mapping count as StateUnsynced. Every state is a key.
func (d *DB) CountMappingsByState(ctx context.Context, tenantID string, et mksync.EntityType) (map[mksync.SyncState]int, error) {
	table, err := entityTable(et)
	if err != nil {
		return nil, err
	}
	out := map[mksync.SyncState]int{mksync.StateUnsynced: 0}
	for _, s := range mksync.SyncStates {
		out[s] = 0
	}
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT COALESCE(m.state, 'unsynced'), count(*) FROM `+table+` r
			LEFT JOIN mappings m ON m.tenant_id = r.tenant_id AND m.entity_type = $2 AND m.entity_id = r.id
			WHERE r.tenant_id = $1 GROUP BY 1`, tenantID, string(et))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var state string
			var n int
			if err := rows.Scan(&state, &n); err != nil {
				return err
			}
			out[mksync.SyncState(state)] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, dbErr("count mappings", err)
	}
	return out, nil
}

// CountLinks implements mksync.MappingStore: one pass over the tenant's
// records of et joined to their mappings (the mappings' primary key), and
// one over its tombstones (theirs), in one transaction.
func (d *DB) CountLinks(ctx context.Context, tenantID string, et mksync.EntityType) (mksync.LinkCounts, error) {
	var c mksync.LinkCounts
	table, err := entityTable(et)
	if err != nil {
		return c, err
	}
	err = d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT
				count(*) FILTER (WHERE m.mk_id <> '' AND m.state <> $3),
				count(*) FILTER (WHERE m.entity_id IS NULL),
				count(*) FILTER (WHERE m.state = $4),
				count(*) FILTER (WHERE m.state = $3)
			FROM `+table+` r
			LEFT JOIN mappings m ON m.tenant_id = r.tenant_id AND m.entity_type = $2 AND m.entity_id = r.id
			WHERE r.tenant_id = $1`, tenantID, string(et), string(mksync.StateDeletedInMetakocka), string(mksync.StateAmbiguous)).
			Scan(&c.Linked, &c.ToCreate, &c.Ambiguous, &c.DeletedInMetakocka)
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM tombstones WHERE tenant_id = $1 AND entity_type = $2`, tenantID, string(et)).Scan(&c.Tombstones)
	})
	if err != nil {
		return mksync.LinkCounts{}, dbErr("count links", err)
	}
	return c, nil
}
