-- mksync schema, PostgreSQL dialect. The sqlite store's 00001 creates the same
-- tables and columns, except sqlite's search_text columns (SQLite's lower()
-- folds ASCII only; here ILIKE folds Unicode). PostgreSQL adds native types
-- (timestamptz, numeric, date, jsonb, bytea) and row-level security.
--
-- Ids and tenant ids are text with the "C" collation so that keyset
-- pagination orders them byte-wise, as SQLite does.

-- +goose Up

-- Roles are cluster-wide and may already exist (another schema or database
-- of the same cluster, or a concurrent migration of one): create them only
-- when missing. mksync_app runs tenant work and is confined by row-level
-- security to the tenant named by app.tenant_id; mksync_admin runs the few
-- documented cross-tenant methods and is granted only what they need. The
-- connecting user becomes a member of both so that it can SET ROLE to them.
-- +goose StatementBegin
DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['mksync_app', 'mksync_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created concurrently
            END;
        END IF;
        IF NOT pg_has_role(current_user, r, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', r, current_user);
        END IF;
    END LOOP;
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO mksync_app, mksync_admin', current_schema());
END
$$;
-- +goose StatementEnd

CREATE TABLE tenants (
    id         text COLLATE "C" PRIMARY KEY,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Instance-wide values (the admin token hash); no tenant data.
CREATE TABLE instance_settings (
    key   text PRIMARY KEY,
    value bytea NOT NULL
);

CREATE TABLE api_tokens (
    id           text COLLATE "C" PRIMARY KEY,
    tenant_id    text COLLATE "C" NOT NULL,
    name         text        NOT NULL,
    hash         bytea       NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    CONSTRAINT api_tokens_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT api_tokens_hash_key UNIQUE (hash)
);
CREATE INDEX api_tokens_tenant_idx ON api_tokens (tenant_id, id);

-- One Metakocka connection per tenant. Secrets are sealed (keyring form
-- v1:<keyid>:<data>), never plaintext.
CREATE TABLE credentials (
    tenant_id             text COLLATE "C" PRIMARY KEY,
    company_id            text        NOT NULL,
    secret_key_sealed     text        NOT NULL,
    base_url              text        NOT NULL,
    conflict_policy       text        NOT NULL,
    schedule_interval_ms  bigint      NOT NULL DEFAULT 0,
    batch_size            integer     NOT NULL,
    concurrency           integer     NOT NULL,
    auto_push             boolean     NOT NULL DEFAULT false,
    webhook_id            text COLLATE "C" NOT NULL,
    webhook_secret_sealed text        NOT NULL,
    updated_at            timestamptz NOT NULL,
    CONSTRAINT credentials_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT credentials_webhook_id_key UNIQUE (webhook_id)
);

CREATE TABLE contacts (
    id                  text COLLATE "C" PRIMARY KEY,
    tenant_id           text COLLATE "C" NOT NULL,
    name                text        NOT NULL,
    business_entity     boolean     NOT NULL DEFAULT false,
    tax_id              text        NOT NULL DEFAULT '',
    registration_number text        NOT NULL DEFAULT '',
    email               text        NOT NULL DEFAULT '',
    phone               text        NOT NULL DEFAULT '',
    mobile              text        NOT NULL DEFAULT '',
    street              text        NOT NULL DEFAULT '',
    post_number         text        NOT NULL DEFAULT '',
    city                text        NOT NULL DEFAULT '',
    province            text        NOT NULL DEFAULT '',
    country             text        NOT NULL DEFAULT '',
    notes               text        NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    version             bigint      NOT NULL,
    CONSTRAINT contacts_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    -- Target of same-tenant foreign keys (a document can only name a
    -- contact of its own tenant).
    CONSTRAINT contacts_tenant_id_key UNIQUE (tenant_id, id)
);

CREATE TABLE products (
    id           text COLLATE "C" PRIMARY KEY,
    tenant_id    text COLLATE "C" NOT NULL,
    code         text        NOT NULL,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    unit         text        NOT NULL DEFAULT '',
    price        numeric     NOT NULL DEFAULT 0,
    tax_rate     numeric     NOT NULL DEFAULT 0,
    sales        boolean     NOT NULL DEFAULT false,
    purchasing   boolean     NOT NULL DEFAULT false,
    service      boolean     NOT NULL DEFAULT false,
    barcode      text        NOT NULL DEFAULT '',
    height       numeric     NOT NULL DEFAULT 0,
    width        numeric     NOT NULL DEFAULT 0,
    depth        numeric     NOT NULL DEFAULT 0,
    weight       numeric     NOT NULL DEFAULT 0,
    stock_amount numeric     NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint      NOT NULL,
    CONSTRAINT products_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT products_tenant_id_key UNIQUE (tenant_id, id),
    CONSTRAINT products_code_key UNIQUE (tenant_id, code)
);

CREATE TABLE sales_documents (
    id            text COLLATE "C" PRIMARY KEY,
    tenant_id     text COLLATE "C" NOT NULL,
    kind          text        NOT NULL,
    number        text        NOT NULL DEFAULT '',
    date          date        NOT NULL,
    contact_id    text COLLATE "C" NOT NULL,
    currency      text        NOT NULL,
    status        text        NOT NULL DEFAULT '',
    notes         text        NOT NULL DEFAULT '',
    delivery_date date,
    due_date      date,
    total_net     numeric     NOT NULL,
    total_tax     numeric     NOT NULL,
    total_gross   numeric     NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    version       bigint      NOT NULL,
    CONSTRAINT sales_documents_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    CONSTRAINT sales_documents_tenant_id_key UNIQUE (tenant_id, id),
    -- Deferrable so that DeleteTenant can defer it while the cascade removes
    -- documents and contacts in whatever order; immediate otherwise.
    CONSTRAINT sales_documents_contact_fk FOREIGN KEY (tenant_id, contact_id) REFERENCES contacts (tenant_id, id)
        DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX sales_documents_contact_idx ON sales_documents (tenant_id, contact_id);

CREATE TABLE sales_document_lines (
    tenant_id        text COLLATE "C" NOT NULL,
    document_id      text COLLATE "C" NOT NULL,
    position         integer NOT NULL,
    product_id       text COLLATE "C" NOT NULL,
    quantity         numeric NOT NULL,
    unit_price       numeric NOT NULL,
    discount_percent numeric NOT NULL DEFAULT 0,
    tax_rate         numeric NOT NULL DEFAULT 0,
    net_amount       numeric NOT NULL,
    PRIMARY KEY (tenant_id, document_id, position),
    CONSTRAINT sales_document_lines_document_fk FOREIGN KEY (tenant_id, document_id)
        REFERENCES sales_documents (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT sales_document_lines_product_fk FOREIGN KEY (tenant_id, product_id) REFERENCES products (tenant_id, id)
        DEFERRABLE INITIALLY IMMEDIATE
);
CREATE INDEX sales_document_lines_product_idx ON sales_document_lines (tenant_id, product_id);

-- Links between CRM records and Metakocka records, unique both ways per
-- tenant and entity type (an empty mk_id is "not created yet", never a clash).
CREATE TABLE mappings (
    tenant_id      text COLLATE "C" NOT NULL,
    entity_type    text COLLATE "C" NOT NULL,
    entity_id      text COLLATE "C" NOT NULL,
    mk_id          text        NOT NULL DEFAULT '',
    count_code     text        NOT NULL DEFAULT '',
    pushed_hash    text        NOT NULL DEFAULT '',
    pulled_hash    text        NOT NULL DEFAULT '',
    state          text        NOT NULL,
    last_error     text        NOT NULL DEFAULT '',
    last_synced_at timestamptz,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, entity_type, entity_id),
    CONSTRAINT mappings_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX mappings_mk_id_key ON mappings (tenant_id, entity_type, mk_id) WHERE mk_id <> '';
CREATE INDEX mappings_state_idx ON mappings (tenant_id, entity_type, state);

CREATE TABLE sync_cursors (
    tenant_id  text COLLATE "C" NOT NULL,
    key        text        NOT NULL,
    value      text        NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, key),
    CONSTRAINT sync_cursors_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);

CREATE TABLE sync_runs (
    id                text COLLATE "C" PRIMARY KEY,
    tenant_id         text COLLATE "C" NOT NULL,
    entity_type       text        NOT NULL,
    direction         text        NOT NULL,
    trigger           text        NOT NULL,
    status            text        NOT NULL,
    processed         integer     NOT NULL DEFAULT 0,
    total             integer     NOT NULL DEFAULT 0,
    result_success    boolean     NOT NULL DEFAULT false,
    result_created    integer     NOT NULL DEFAULT 0,
    result_updated    integer     NOT NULL DEFAULT 0,
    result_skipped    integer     NOT NULL DEFAULT 0,
    result_failed     integer     NOT NULL DEFAULT 0,
    result_conflicts  integer     NOT NULL DEFAULT 0,
    -- Per-record errors: a list whose shape is mksync.RecordError.
    result_errors     jsonb       NOT NULL DEFAULT '[]',
    checkpoint        text        NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL,
    started_at        timestamptz,
    finished_at       timestamptz,
    CONSTRAINT sync_runs_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX sync_runs_list_idx ON sync_runs (tenant_id, created_at DESC, id DESC);

CREATE TABLE error_records (
    id         text COLLATE "C" PRIMARY KEY,
    tenant_id  text COLLATE "C" NOT NULL,
    category   text        NOT NULL,
    operation  text        NOT NULL,
    entity_id  text        NOT NULL DEFAULT '',
    code       text        NOT NULL DEFAULT '',
    message    text        NOT NULL,
    details    jsonb,
    created_at timestamptz NOT NULL,
    CONSTRAINT error_records_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE INDEX error_records_list_idx ON error_records (tenant_id, created_at DESC, id DESC);
CREATE INDEX error_records_created_idx ON error_records (created_at);

CREATE TABLE alerts (
    id          text COLLATE "C" PRIMARY KEY,
    tenant_id   text COLLATE "C" NOT NULL,
    key         text        NOT NULL,
    severity    text        NOT NULL,
    message     text        NOT NULL,
    status      text        NOT NULL,
    count       integer     NOT NULL,
    opened_at   timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    resolved_at timestamptz,
    CONSTRAINT alerts_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (tenant_id, key) WHERE status = 'open';
CREATE INDEX alerts_list_idx ON alerts (tenant_id, opened_at DESC, id DESC);

-- Row-level security, the second wall behind every query's WHERE tenant_id:
-- enabled and FORCED (so it binds the table owner too) on every tenant table.
-- mksync_app sees and writes only rows of current_setting('app.tenant_id'),
-- which the store sets per transaction with set_config(..., true); with no
-- tenant set the setting is NULL and nothing matches. mksync_admin gets a
-- permissive policy only on the tables its cross-tenant methods touch.
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['api_tokens', 'credentials', 'contacts', 'products', 'sales_documents',
                             'sales_document_lines', 'mappings', 'sync_cursors', 'sync_runs',
                             'error_records', 'alerts'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
        EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
        EXECUTE format($p$CREATE POLICY tenant_isolation ON %I TO mksync_app
                           USING (tenant_id = current_setting('app.tenant_id', true))
                           WITH CHECK (tenant_id = current_setting('app.tenant_id', true))$p$, t);
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I TO mksync_app', t);
    END LOOP;

    -- A tenant sees only its own tenants row.
    ALTER TABLE tenants ENABLE ROW LEVEL SECURITY;
    ALTER TABLE tenants FORCE ROW LEVEL SECURITY;
    CREATE POLICY tenant_isolation ON tenants TO mksync_app
        USING (id = current_setting('app.tenant_id', true));
    GRANT SELECT ON tenants TO mksync_app;

    -- Cross-tenant methods: tenants (create, list, delete), token
    -- authentication, webhook lookup and secret re-encryption, error record
    -- pruning, the admin token.
    CREATE POLICY admin_all ON tenants TO mksync_admin USING (true) WITH CHECK (true);
    GRANT SELECT, INSERT, UPDATE, DELETE ON tenants TO mksync_admin;
    CREATE POLICY admin_all ON api_tokens TO mksync_admin USING (true) WITH CHECK (true);
    GRANT SELECT, UPDATE ON api_tokens TO mksync_admin;
    CREATE POLICY admin_all ON credentials TO mksync_admin USING (true) WITH CHECK (true);
    GRANT SELECT, UPDATE ON credentials TO mksync_admin;
    CREATE POLICY admin_all ON error_records TO mksync_admin USING (true) WITH CHECK (true);
    GRANT SELECT, DELETE ON error_records TO mksync_admin;
    GRANT SELECT, INSERT, UPDATE, DELETE ON instance_settings TO mksync_admin;
END
$$;
-- +goose StatementEnd

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
-- The roles stay: they are cluster-wide and other schemas may use them.
