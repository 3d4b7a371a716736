-- Run leases: the worker working a sync run holds a lease on it and renews
-- it by heartbeats; a lease that expired on a run that is not final belongs
-- to a worker that died, and another worker takes the run over (see
-- mksync.RunLeaseStore). lease_token fences a former holder. Same version as
-- the sqlite store's 00005.

-- +goose Up
ALTER TABLE sync_runs
    ADD COLUMN lease_owner      text        NOT NULL DEFAULT '',
    ADD COLUMN lease_token      bigint      NOT NULL DEFAULT 0,
    ADD COLUMN lease_expires_at timestamptz;
-- The takeover scan (ExpiredRunLeases) reads only runs that have a lease.
CREATE INDEX sync_runs_lease_idx ON sync_runs (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

-- The takeover scan is cross-tenant: mksync_admin reads what it needs.
CREATE POLICY admin_all ON sync_runs TO mksync_admin USING (true);
GRANT SELECT (id, tenant_id, status, lease_owner, lease_token, lease_expires_at) ON sync_runs TO mksync_admin;

-- +goose Down
REVOKE SELECT (id, tenant_id, status, lease_owner, lease_token, lease_expires_at) ON sync_runs FROM mksync_admin;
DROP POLICY admin_all ON sync_runs;
DROP INDEX sync_runs_lease_idx;
ALTER TABLE sync_runs DROP COLUMN lease_owner, DROP COLUMN lease_token, DROP COLUMN lease_expires_at;
