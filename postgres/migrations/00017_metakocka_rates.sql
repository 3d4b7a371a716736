-- The requests per second of each Metakocka company, shared by a fleet
-- (metakocka.RateStore): one row per company holding the theoretical
-- arrival time of its next request (a generic cell rate algorithm), moved
-- on atomically by every reservation. Company-wide, not tenant data: no
-- row-level security; only the processes' own connection uses it. Same
-- version as the sqlite store's 00017.

-- +goose Up
CREATE TABLE metakocka_rates (
    company_id text COLLATE "C" PRIMARY KEY,
    tat        timestamptz NOT NULL
);

-- +goose Down
DROP TABLE metakocka_rates;
