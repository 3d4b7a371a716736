-- Previews: a sync run may be a dry run (dry_run) that stores its plan, one
-- row per record it would write or that needs a decision, instead of
-- writing; a run that applies a preview names it (plan_run_id). Row-level
-- security as on every tenant table (version 1).

-- +goose Up
ALTER TABLE sync_runs ADD COLUMN dry_run boolean NOT NULL DEFAULT false,
    ADD COLUMN plan_run_id text COLLATE "C" NOT NULL DEFAULT '';

CREATE TABLE sync_run_plans (
    tenant_id text COLLATE "C" NOT NULL,
    run_id    text COLLATE "C" NOT NULL,
    key       text COLLATE "C" NOT NULL,
    action    text  NOT NULL,
    -- The rest of mksync.PlanItem (ids, key matched by, reason, field
    -- changes, candidates, the hashes the preview saw).
    item      jsonb NOT NULL,
    PRIMARY KEY (tenant_id, run_id, key),
    CONSTRAINT sync_run_plans_run_fk FOREIGN KEY (run_id) REFERENCES sync_runs (id) ON DELETE CASCADE,
    CONSTRAINT sync_run_plans_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
ALTER TABLE sync_run_plans ENABLE ROW LEVEL SECURITY;
ALTER TABLE sync_run_plans FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sync_run_plans TO mksync_app
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON sync_run_plans TO mksync_app;

-- +goose Down
DROP TABLE sync_run_plans;
ALTER TABLE sync_runs DROP COLUMN plan_run_id, DROP COLUMN dry_run;
