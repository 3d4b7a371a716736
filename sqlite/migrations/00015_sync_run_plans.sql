-- Previews: a sync run may be a dry run (dry_run) that stores its plan, one
-- row per record it would write or that needs a decision, instead of
-- writing; a run that applies a preview names it (plan_run_id).

-- +goose Up
ALTER TABLE sync_runs ADD COLUMN dry_run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN plan_run_id TEXT NOT NULL DEFAULT '';

CREATE TABLE sync_run_plans (
    tenant_id TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    run_id    TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    key       TEXT NOT NULL,
    action    TEXT NOT NULL,
    -- The rest of mksync.PlanItem as JSON.
    item      TEXT NOT NULL,
    PRIMARY KEY (tenant_id, run_id, key)
) STRICT;

-- +goose Down
DROP TABLE sync_run_plans;
ALTER TABLE sync_runs DROP COLUMN plan_run_id;
ALTER TABLE sync_runs DROP COLUMN dry_run;
