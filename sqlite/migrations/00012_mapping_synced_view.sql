-- A mapping keeps the record's synced fields (the JSON object of the view both sides held at the
-- last sync, and Metakocka's when it differed), the base of the three-way merge: changes to
-- different fields on the two sides are both kept. Empty for mappings saved before.

-- +goose Up
ALTER TABLE mappings ADD COLUMN synced_view TEXT NOT NULL DEFAULT '';
ALTER TABLE mappings ADD COLUMN synced_remote_view TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE mappings DROP COLUMN synced_remote_view;
ALTER TABLE mappings DROP COLUMN synced_view;
