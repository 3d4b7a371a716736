-- A run's result keeps the records linked to an existing record by a strong key and those left
-- ambiguous (two or more candidates), beside created, updated, skipped, failed and conflicts.

-- +goose Up
ALTER TABLE sync_runs ADD COLUMN result_linked INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN result_ambiguous INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE sync_runs DROP COLUMN result_ambiguous;
ALTER TABLE sync_runs DROP COLUMN result_linked;
