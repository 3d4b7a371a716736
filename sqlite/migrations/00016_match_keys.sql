-- Matching keys (docs/mapping.md, "Matching before creating") and the kind
-- of a deleted sales document (deletion policy).

-- +goose Up
-- A contact's e-mail as matched: trimmed and lower-cased by the store in Go
-- (Unicode), since SQLite's lower() folds ASCII only. Rows written before
-- get it here for ASCII addresses; the store fills the others in Go right
-- after this migration (sqlite.Migrate).
ALTER TABLE contacts ADD COLUMN email_key TEXT NOT NULL DEFAULT '';
UPDATE contacts SET email_key = lower(trim(email)) WHERE email <> '';
DROP INDEX contacts_email_key;
CREATE INDEX contacts_email_key ON contacts (tenant_id, email_key) WHERE email_key <> '';

-- Products by barcode (pull: an unmapped Metakocka product links to the
-- CRM product with its barcode).
CREATE INDEX products_barcode ON products (tenant_id, barcode) WHERE barcode <> '';

-- Sales documents by number (pull: number + partner + date).
CREATE INDEX sales_documents_number ON sales_documents (tenant_id, number) WHERE number <> '';

-- The kind of a deleted sales document ("" for other records), so that the
-- deletion policy deletes orders only.
ALTER TABLE tombstones ADD COLUMN kind TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tombstones DROP COLUMN kind;
DROP INDEX sales_documents_number;
DROP INDEX products_barcode;
DROP INDEX contacts_email_key;
CREATE INDEX contacts_email_key ON contacts (tenant_id, lower(email)) WHERE email <> '';
ALTER TABLE contacts DROP COLUMN email_key;
