package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"

	"github.com/mksync/mksync"
)

// requireRun returns ENOTFOUND unless the tenant has the run.
func requireRun(ctx context.Context, tx pgx.Tx, tenantID, runID string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM sync_runs WHERE tenant_id = $1 AND id = $2`, tenantID, runID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound("sync run", runID)
	}
	return err
}

// SavePlanItems implements mksync.PlanStore.
func (d *DB) SavePlanItems(ctx context.Context, tenantID, runID string, items []mksync.PlanItem) error {
	if err := mksync.CheckPlanItems(items); err != nil {
		return err
	}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		if err := requireRun(ctx, tx, tenantID, runID); err != nil {
			return err
		}
		var b pgx.Batch
		for _, it := range items {
			raw, err := mksync.EncodePlanItem(it)
			if err != nil {
				return err
			}
			b.Queue(`INSERT INTO sync_run_plans (tenant_id, run_id, key, action, item) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (tenant_id, run_id, key) DO UPDATE SET action = EXCLUDED.action, item = EXCLUDED.item`,
				tenantID, runID, it.Key, string(it.Action), raw)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	return dbErr("save plan items", err)
}

// FindPlanItems implements mksync.PlanStore.
func (d *DB) FindPlanItems(ctx context.Context, tenantID, runID string, p mksync.Page) ([]mksync.PlanItem, string, error) {
	limit := p.EffectiveLimit()
	out := []mksync.PlanItem{}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		out = out[:0]
		if err := requireRun(ctx, tx, tenantID, runID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT item FROM sync_run_plans WHERE tenant_id = $1 AND run_id = $2 AND key > $3
			ORDER BY key LIMIT $4`, tenantID, runID, p.After, limit+1)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var raw []byte
			if err := rows.Scan(&raw); err != nil {
				return err
			}
			it, err := mksync.DecodePlanItem(raw)
			if err != nil {
				return err
			}
			out = append(out, it)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, "", dbErr("list plan items", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		next = out[limit-1].Key
	}
	return out, next, nil
}

// FindPlanItem implements mksync.PlanStore.
func (d *DB) FindPlanItem(ctx context.Context, tenantID, runID, key string) (mksync.PlanItem, error) {
	var raw []byte
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `SELECT item FROM sync_run_plans WHERE tenant_id = $1 AND run_id = $2 AND key = $3`,
			tenantID, runID, key).Scan(&raw)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return mksync.PlanItem{}, notFound("plan item", key)
	}
	if err != nil {
		return mksync.PlanItem{}, dbErr("find plan item", err)
	}
	return mksync.DecodePlanItem(raw)
}

// CountPlanItems implements mksync.PlanStore.
func (d *DB) CountPlanItems(ctx context.Context, tenantID, runID string) (mksync.PlanTotals, error) {
	out := mksync.PlanTotals{}
	err := d.tenantTx(ctx, tenantID, func(tx pgx.Tx) error {
		clear(out)
		if err := requireRun(ctx, tx, tenantID, runID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT action, count(*) FROM sync_run_plans WHERE tenant_id = $1 AND run_id = $2
			GROUP BY action`, tenantID, runID)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var a string
			var n int
			if err := rows.Scan(&a, &n); err != nil {
				return err
			}
			out[mksync.PlanAction(a)] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, dbErr("count plan items", err)
	}
	return out, nil
}
