-- Webhook events each tenant has accepted (Metakocka's X-MetaKocka-Id), so
-- that a replayed event is refused. Rows older than the API's retention
-- window are deleted as new events arrive, so the table stays small. Same
-- version as the sqlite store's 00002.

-- +goose Up
CREATE TABLE webhook_events (
    tenant_id   text COLLATE "C" NOT NULL,
    event_id    text        NOT NULL,
    accepted_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, event_id),
    CONSTRAINT webhook_events_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX webhook_events_accepted_idx ON webhook_events (tenant_id, accepted_at);

-- Row-level security as on every tenant table (see 00001).
ALTER TABLE webhook_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_events FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_events TO mksync_app
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, DELETE ON webhook_events TO mksync_app;

-- +goose Down
DROP TABLE webhook_events;
