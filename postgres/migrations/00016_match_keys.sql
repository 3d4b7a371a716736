-- Matching keys (docs/mapping.md, "Matching before creating") and the kind
-- of a deleted sales document (deletion policy).

-- +goose Up
-- Products by barcode (pull: an unmapped Metakocka product links to the
-- CRM product with its barcode).
CREATE INDEX products_barcode ON products (tenant_id, barcode) WHERE barcode <> '';

-- Sales documents by number (pull: number + partner + date).
CREATE INDEX sales_documents_number ON sales_documents (tenant_id, number) WHERE number <> '';

-- The kind of a deleted sales document ("" for other records), so that the
-- deletion policy deletes orders only.
ALTER TABLE tombstones ADD COLUMN kind text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tombstones DROP COLUMN kind;
DROP INDEX sales_documents_number;
DROP INDEX products_barcode;
