-- A mapping keeps the record's synced fields (the JSON object of the view both sides held at the
-- last sync, and Metakocka's when it differed), the base of the three-way merge: changes to
-- different fields on the two sides are both kept. Empty for mappings saved before. Kept as text:
-- the database never looks inside, and text keeps the engine's canonical bytes.

-- +goose Up
ALTER TABLE mappings ADD COLUMN synced_view text NOT NULL DEFAULT '',
    ADD COLUMN synced_remote_view text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE mappings DROP COLUMN synced_remote_view, DROP COLUMN synced_view;
