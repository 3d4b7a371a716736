-- Foreign-key checks are planned once per connection and the plan is kept.
-- When that happens before a table has statistics (a new database, or
-- autovacuum off), PostgreSQL may check "tenant_id = $1 AND id = $2"
-- through any index that starts with tenant_id: the check of each new
-- document line read every product of the tenant through products_code_key
-- (tenant_id, code). The two non-key indexes that started with tenant_id now
-- start with their own column; lookups by both columns use them as before,
-- and a tenant-wide prefix scan can no longer pick them. The SQLite store's
-- version 4 adds an index of its own.

-- +goose Up
ALTER TABLE products DROP CONSTRAINT products_code_key;
ALTER TABLE products ADD CONSTRAINT products_code_key UNIQUE (code, tenant_id);
DROP INDEX sales_documents_contact_idx;
CREATE INDEX sales_documents_contact_idx ON sales_documents (contact_id, tenant_id);

-- +goose Down
DROP INDEX sales_documents_contact_idx;
CREATE INDEX sales_documents_contact_idx ON sales_documents (tenant_id, contact_id);
ALTER TABLE products DROP CONSTRAINT products_code_key;
ALTER TABLE products ADD CONSTRAINT products_code_key UNIQUE (tenant_id, code);
