-- Run leases: the worker working a sync run holds a lease on it and renews
-- it by heartbeats; a lease that expired on a run that is not final belongs
-- to a worker that died, and another worker takes the run over (see
-- mksync.RunLeaseStore). lease_token fences a former holder. Same version as
-- the postgres store's 00005.

-- +goose Up
ALTER TABLE sync_runs ADD COLUMN lease_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE sync_runs ADD COLUMN lease_token INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN lease_expires_at TEXT;
CREATE INDEX sync_runs_lease ON sync_runs (lease_expires_at) WHERE lease_expires_at IS NOT NULL;

-- +goose Down
DROP INDEX sync_runs_lease;
ALTER TABLE sync_runs DROP COLUMN lease_expires_at;
ALTER TABLE sync_runs DROP COLUMN lease_token;
ALTER TABLE sync_runs DROP COLUMN lease_owner;
