-- The postgres store's version 17 keeps the Metakocka request rate of a
-- fleet in the database. On SQLite one process works jobs and keeps its
-- rate in memory, so this version only keeps the two stores' versions
-- aligned.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
