-- The Metakocka budget shared by a fleet: the requests in flight to each
-- Metakocka company from every process (metakocka.SlotStore), and the
-- pause a 429's Retry-After asked for. Company-wide, not tenant data: no
-- row-level security; only the processes' own connection uses them. Same
-- version as the sqlite store's 00006.

-- +goose Up
CREATE TABLE metakocka_slots (
    id          text COLLATE "C" PRIMARY KEY,
    company_id  text COLLATE "C" NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX metakocka_slots_company_idx ON metakocka_slots (company_id, expires_at);
CREATE TABLE metakocka_pauses (
    company_id   text COLLATE "C" PRIMARY KEY,
    paused_until timestamptz NOT NULL
);

-- +goose Down
DROP TABLE metakocka_pauses;
DROP TABLE metakocka_slots;
