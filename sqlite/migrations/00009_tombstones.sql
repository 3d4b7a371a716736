-- Tombstones and contact key indexes. Tombstones: a mapped CRM record deleted on purpose, remembered by its
-- Metakocka id so that a later pull does not create it again.

-- +goose Up
CREATE TABLE tombstones (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    entity_type TEXT NOT NULL,
    mk_id       TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    count_code  TEXT NOT NULL,
    deleted_at  TEXT NOT NULL,
    PRIMARY KEY (tenant_id, entity_type, mk_id)
) STRICT;

-- Contacts by strong key (matching before creating): tax and registration
-- numbers without spaces, dots and dashes, upper case; e-mail lower case.
CREATE INDEX contacts_tax_key ON contacts (tenant_id, upper(replace(replace(replace(tax_id, ' ', ''), '.', ''), '-', ''))) WHERE tax_id <> '';
CREATE INDEX contacts_registration_key ON contacts (tenant_id, upper(replace(replace(replace(registration_number, ' ', ''), '.', ''), '-', ''))) WHERE registration_number <> '';
CREATE INDEX contacts_email_key ON contacts (tenant_id, lower(email)) WHERE email <> '';

-- The tenant's deletion policy (SyncSettings.DeletePolicy).
ALTER TABLE credentials ADD COLUMN delete_policy TEXT NOT NULL DEFAULT 'keep';

-- +goose Down
ALTER TABLE credentials DROP COLUMN delete_policy;
DROP INDEX contacts_tax_key;
DROP INDEX contacts_registration_key;
DROP INDEX contacts_email_key;
DROP TABLE tombstones;
