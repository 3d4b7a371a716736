-- Webhook events each tenant has accepted (Metakocka's X-MetaKocka-Id), so
-- that a replayed event is refused. Rows older than the API's retention
-- window are deleted as new events arrive, so the table stays small.

-- +goose Up
CREATE TABLE webhook_events (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_id    TEXT NOT NULL,
    accepted_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, event_id)
) STRICT;
CREATE INDEX webhook_events_accepted ON webhook_events (tenant_id, accepted_at);

-- +goose Down
DROP TABLE webhook_events;
