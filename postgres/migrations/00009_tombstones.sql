-- Tombstones and contact key indexes. Tombstones: a mapped CRM record deleted on purpose, remembered by its
-- Metakocka id so that a later pull does not create it again. Row-level
-- security as on every tenant table (version 1).

-- +goose Up
CREATE TABLE tombstones (
    tenant_id   text COLLATE "C" NOT NULL,
    entity_type text COLLATE "C" NOT NULL,
    mk_id       text COLLATE "C" NOT NULL,
    entity_id   text COLLATE "C" NOT NULL,
    count_code  text        NOT NULL DEFAULT '',
    deleted_at  timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, entity_type, mk_id),
    CONSTRAINT tombstones_tenant_fk FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
);
ALTER TABLE tombstones ENABLE ROW LEVEL SECURITY;
ALTER TABLE tombstones FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tombstones TO mksync_app
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON tombstones TO mksync_app;

-- Contacts by strong key (matching before creating): tax and registration
-- numbers without spaces, dots and dashes, upper case; e-mail lower case.
CREATE INDEX contacts_tax_key ON contacts (tenant_id, upper(replace(replace(replace(tax_id, ' ', ''), '.', ''), '-', ''))) WHERE tax_id <> '';
CREATE INDEX contacts_registration_key ON contacts (tenant_id, upper(replace(replace(replace(registration_number, ' ', ''), '.', ''), '-', ''))) WHERE registration_number <> '';
CREATE INDEX contacts_email_key ON contacts (tenant_id, lower(email)) WHERE email <> '';

-- The tenant's deletion policy (SyncSettings.DeletePolicy).
ALTER TABLE credentials ADD COLUMN delete_policy text NOT NULL DEFAULT 'keep';

-- +goose Down
ALTER TABLE credentials DROP COLUMN delete_policy;
DROP INDEX contacts_tax_key;
DROP INDEX contacts_registration_key;
DROP INDEX contacts_email_key;
DROP TABLE tombstones;
