-- A tenant's own alert webhook: alert notices are POSTed there as well as
-- to the deployment's global webhook. Both NULL when the tenant has none;
-- the secret is sealed like the other secrets. Same version as the sqlite
-- store's 00003. The table's grants and row-level security cover new
-- columns as they are.

-- +goose Up
ALTER TABLE credentials ADD COLUMN alert_webhook_url text;
ALTER TABLE credentials ADD COLUMN alert_webhook_secret_sealed text;

-- +goose Down
ALTER TABLE credentials DROP COLUMN alert_webhook_secret_sealed;
ALTER TABLE credentials DROP COLUMN alert_webhook_url;
