package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/mksync/mksync"
)

// requireRun returns ENOTFOUND unless the tenant has the run.
func requireRun(ctx context.Context, q querier, tenantID, runID string) error {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM sync_runs WHERE tenant_id = ? AND id = ?", tenantID, runID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("sync run", runID)
	}
	if err != nil {
		return internal("find sync run", err)
	}
	return nil
}

// SavePlanItems implements mksync.PlanStore.
func (s *store) SavePlanItems(ctx context.Context, tenantID, runID string, items []mksync.PlanItem) error {
	return s.write(ctx, func(q querier) error {
		if err := requireRun(ctx, q, tenantID, runID); err != nil {
			return err
		}
		if err := mksync.CheckPlanItems(items); err != nil {
			return err
		}
		for _, it := range items {
			b, err := mksync.EncodePlanItem(it)
			if err != nil {
				return internal("encode plan item", err)
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO sync_run_plans (tenant_id, run_id, key, action, item)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, run_id, key) DO UPDATE SET action = excluded.action, item = excluded.item`,
				tenantID, runID, it.Key, string(it.Action), string(b)); err != nil {
				return internal("save plan item", err)
			}
		}
		return nil
	})
}

func decodePlanItem(s string) (mksync.PlanItem, error) { return mksync.DecodePlanItem([]byte(s)) }

// FindPlanItems implements mksync.PlanStore.
func (s *store) FindPlanItems(ctx context.Context, tenantID, runID string, p mksync.Page) ([]mksync.PlanItem, string, error) {
	if err := requireRun(ctx, s.reader(), tenantID, runID); err != nil {
		return nil, "", err
	}
	limit := p.EffectiveLimit()
	rows, err := s.reader().QueryContext(ctx, `SELECT item FROM sync_run_plans
		WHERE tenant_id = ? AND run_id = ? AND key > ? ORDER BY key LIMIT ?`, tenantID, runID, p.After, limit+1)
	if err != nil {
		return nil, "", internal("list plan items", err)
	}
	defer rows.Close()
	out := []mksync.PlanItem{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, "", internal("list plan items", err)
		}
		it, err := decodePlanItem(raw)
		if err != nil {
			return nil, "", err
		}
		out = append(out, it)
	}
	if err := rows.Err(); err != nil {
		return nil, "", internal("list plan items", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Key
	}
	return out, next, nil
}

// FindPlanItem implements mksync.PlanStore.
func (s *store) FindPlanItem(ctx context.Context, tenantID, runID, key string) (mksync.PlanItem, error) {
	var raw string
	err := s.reader().QueryRowContext(ctx, `SELECT item FROM sync_run_plans WHERE tenant_id = ? AND run_id = ? AND key = ?`,
		tenantID, runID, key).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return mksync.PlanItem{}, notFound("plan item", key)
	}
	if err != nil {
		return mksync.PlanItem{}, internal("find plan item", err)
	}
	return decodePlanItem(raw)
}

// CountPlanItems implements mksync.PlanStore.
func (s *store) CountPlanItems(ctx context.Context, tenantID, runID string) (mksync.PlanTotals, error) {
	if err := requireRun(ctx, s.reader(), tenantID, runID); err != nil {
		return nil, err
	}
	rows, err := s.reader().QueryContext(ctx, `SELECT action, count(*) FROM sync_run_plans
		WHERE tenant_id = ? AND run_id = ? GROUP BY action`, tenantID, runID)
	if err != nil {
		return nil, internal("count plan items", err)
	}
	defer rows.Close()
	out := mksync.PlanTotals{}
	for rows.Next() {
		var a string
		var n int
		if err := rows.Scan(&a, &n); err != nil {
			return nil, internal("count plan items", err)
		}
		out[mksync.PlanAction(a)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, internal("count plan items", err)
	}
	return out, nil
}
