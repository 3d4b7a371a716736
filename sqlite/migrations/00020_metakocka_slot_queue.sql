-- The postgres store's version 20 keeps the queue of a fleet's waiters for
-- Metakocka's in-flight slots in the database. On SQLite one process works
-- jobs and queues its waiters in memory, so this version only keeps the
-- two stores' versions aligned.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
