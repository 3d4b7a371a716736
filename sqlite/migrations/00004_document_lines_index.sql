-- A document's lines by (tenant_id, document_id). Without this index SQLite
-- answered "tenant_id = ? AND document_id IN (...)" (loading lines, replacing
-- them, the cascade of a document delete) through the (tenant_id,
-- product_id) index, reading every line of the tenant each time: a full
-- read of 100,000 documents took minutes instead of seconds. The postgres
-- store's primary key already leads with (tenant_id, document_id); its
-- version 4 reorders two other indexes.

-- +goose Up
CREATE INDEX sales_document_lines_document ON sales_document_lines (tenant_id, document_id, position);

-- +goose Down
DROP INDEX sales_document_lines_document;
