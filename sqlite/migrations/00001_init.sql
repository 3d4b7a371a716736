-- mksync schema, SQLite dialect. The postgres store uses the same version
-- numbers. Times are TEXT in fixed-width UTC RFC 3339 with microseconds
-- (lexical order = time order); decimals are TEXT (exact); every tenant table
-- carries tenant_id and cascades from tenants.

-- +goose Up
CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Instance-wide values (the admin token hash); no tenant data.
CREATE TABLE instance_settings (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at   TEXT
) STRICT;
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id, id);

CREATE TABLE credentials (
    tenant_id             TEXT PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    company_id            TEXT NOT NULL,
    secret_key_sealed     TEXT NOT NULL,
    base_url              TEXT NOT NULL,
    conflict_policy       TEXT NOT NULL,
    schedule_interval_ms  INTEGER NOT NULL,
    batch_size            INTEGER NOT NULL,
    concurrency           INTEGER NOT NULL,
    auto_push             INTEGER NOT NULL,
    webhook_id            TEXT NOT NULL UNIQUE,
    webhook_secret_sealed TEXT NOT NULL,
    updated_at            TEXT NOT NULL
) STRICT;

CREATE TABLE contacts (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    business_entity     INTEGER NOT NULL,
    tax_id              TEXT NOT NULL,
    registration_number TEXT NOT NULL,
    email               TEXT NOT NULL,
    phone               TEXT NOT NULL,
    mobile              TEXT NOT NULL,
    street              TEXT NOT NULL,
    post_number         TEXT NOT NULL,
    city                TEXT NOT NULL,
    province            TEXT NOT NULL,
    country             TEXT NOT NULL,
    notes               TEXT NOT NULL,
    -- Unicode-lowercased name and email, for case-insensitive search
    -- (SQLite's lower() folds ASCII only).
    search_text         TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    version             INTEGER NOT NULL,
    UNIQUE (tenant_id, id)
) STRICT;

CREATE TABLE products (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    description  TEXT NOT NULL,
    unit         TEXT NOT NULL,
    price        TEXT NOT NULL,
    tax_rate     TEXT NOT NULL,
    sales        INTEGER NOT NULL,
    purchasing   INTEGER NOT NULL,
    service      INTEGER NOT NULL,
    barcode      TEXT NOT NULL,
    height       TEXT NOT NULL,
    width        TEXT NOT NULL,
    depth        TEXT NOT NULL,
    weight       TEXT NOT NULL,
    stock_amount TEXT NOT NULL,
    search_text  TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    UNIQUE (tenant_id, code)
) STRICT;

-- Documents reference contacts and products of the same tenant through
-- composite keys, so no row can point into another tenant. NO ACTION (not
-- RESTRICT) lets a tenant's cascade delete everything in one statement.
CREATE TABLE sales_documents (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    kind          TEXT NOT NULL,
    number        TEXT NOT NULL,
    date          TEXT NOT NULL,
    contact_id    TEXT NOT NULL,
    currency      TEXT NOT NULL,
    status        TEXT NOT NULL,
    notes         TEXT NOT NULL,
    delivery_date TEXT,
    due_date      TEXT,
    total_net     TEXT NOT NULL,
    total_tax     TEXT NOT NULL,
    total_gross   TEXT NOT NULL,
    search_text   TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    version       INTEGER NOT NULL,
    UNIQUE (tenant_id, id),
    FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id)
) STRICT;
CREATE INDEX sales_documents_contact ON sales_documents (tenant_id, contact_id);

CREATE TABLE sales_document_lines (
    document_id      TEXT NOT NULL,
    position         INTEGER NOT NULL,
    tenant_id        TEXT NOT NULL,
    product_id       TEXT NOT NULL,
    quantity         TEXT NOT NULL,
    unit_price       TEXT NOT NULL,
    discount_percent TEXT NOT NULL,
    tax_rate         TEXT NOT NULL,
    net_amount       TEXT NOT NULL,
    PRIMARY KEY (document_id, position),
    FOREIGN KEY (tenant_id, document_id) REFERENCES sales_documents (tenant_id, id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
) STRICT;
CREATE INDEX sales_document_lines_product ON sales_document_lines (tenant_id, product_id);

-- A mapping belongs to a record of entity_type (no foreign key: the type
-- picks the table); the store deletes it with the record.
CREATE TABLE mappings (
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_type    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    mk_id          TEXT NOT NULL,
    count_code     TEXT NOT NULL,
    pushed_hash    TEXT NOT NULL,
    pulled_hash    TEXT NOT NULL,
    state          TEXT NOT NULL,
    last_error     TEXT NOT NULL,
    last_synced_at TEXT,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (tenant_id, entity_type, entity_id)
) STRICT;
CREATE UNIQUE INDEX mappings_mk_id ON mappings (tenant_id, entity_type, mk_id) WHERE mk_id <> '';
CREATE INDEX mappings_state ON mappings (tenant_id, entity_type, state, entity_id);

CREATE TABLE sync_cursors (
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
) STRICT;

CREATE TABLE sync_runs (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_type      TEXT NOT NULL,
    direction        TEXT NOT NULL,
    trigger          TEXT NOT NULL,
    status           TEXT NOT NULL,
    processed        INTEGER NOT NULL,
    total            INTEGER NOT NULL,
    result_success   INTEGER NOT NULL,
    result_created   INTEGER NOT NULL,
    result_updated   INTEGER NOT NULL,
    result_skipped   INTEGER NOT NULL,
    result_failed    INTEGER NOT NULL,
    result_conflicts INTEGER NOT NULL,
    -- Per-record errors: a JSON array of {id, code, error, errorId}.
    result_errors    TEXT NOT NULL,
    checkpoint       TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT
) STRICT;
CREATE INDEX sync_runs_tenant ON sync_runs (tenant_id, id);

CREATE TABLE error_records (
    id         TEXT PRIMARY KEY,
    tenant_id  TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    category   TEXT NOT NULL,
    operation  TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    code       TEXT NOT NULL,
    message    TEXT NOT NULL,
    details    TEXT,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX error_records_tenant ON error_records (tenant_id, id);
CREATE INDEX error_records_created ON error_records (created_at);

CREATE TABLE alerts (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    severity    TEXT NOT NULL,
    message     TEXT NOT NULL,
    status      TEXT NOT NULL,
    count       INTEGER NOT NULL,
    opened_at   TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    resolved_at TEXT
) STRICT;
CREATE UNIQUE INDEX alerts_open_key ON alerts (tenant_id, key) WHERE status = 'open';
CREATE INDEX alerts_tenant ON alerts (tenant_id, status, id);

-- +goose Down
DROP TABLE alerts;
DROP TABLE error_records;
DROP TABLE sync_runs;
DROP TABLE sync_cursors;
DROP TABLE mappings;
DROP TABLE sales_document_lines;
DROP TABLE sales_documents;
DROP TABLE products;
DROP TABLE contacts;
DROP TABLE credentials;
DROP TABLE api_tokens;
DROP TABLE instance_settings;
DROP TABLE tenants;
