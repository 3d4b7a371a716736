-- The postgres store's version 6 keeps the Metakocka budget of a fleet in
-- the database. On SQLite one process works jobs and keeps its budget in
-- memory, so this version only keeps the two stores' versions aligned.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
