-- A token's session generation: every web session signed in with the token
-- carries it, and signing out increments it, so a session cookie saved
-- before the sign-out opens nothing afterwards (the cookie is signed, not
-- stored). Same version as the sqlite store's 00005. The table's grants and
-- row-level security cover new columns as they are.

-- +goose Up
ALTER TABLE api_tokens ADD COLUMN session_generation bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE api_tokens DROP COLUMN session_generation;
