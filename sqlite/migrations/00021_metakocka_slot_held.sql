-- The postgres store's version 21 makes the fleet's metakocka_take_slot
-- answer how many slots are held. On SQLite the in-flight slots are the
-- process's own, in memory, so this version only keeps the two stores'
-- versions aligned.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
