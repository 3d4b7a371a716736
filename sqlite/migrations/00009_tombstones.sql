-- Tombstones: a mapped CRM record deleted on purpose, remembered by its
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

-- +goose Down
DROP TABLE tombstones;
