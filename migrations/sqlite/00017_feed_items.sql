-- The items a feed build publishes, one row per item (see
-- postgres/00017_feed_items.sql, same table and columns, and the same
-- feed_builds.items_indexed_at marker).
--
-- The text search runs on an FTS5 index with the trigram tokenizer: like
-- PostgreSQL's pg_trgm index it answers case-insensitive "contains" for
-- terms of three characters or more, so both databases match the same
-- items. It is an external-content table (the text lives in feed_items
-- only), kept in step by triggers; a cascade from shops or feed_builds
-- fires them too.

-- +goose Up
CREATE TABLE feed_items (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id      BIGINT  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    build_id     BIGINT  NOT NULL REFERENCES feed_builds (id) ON DELETE CASCADE,
    item_id      TEXT    NOT NULL,
    group_id     TEXT    NOT NULL,
    title_text   TEXT    NOT NULL,
    search_text  TEXT    NOT NULL,
    category     TEXT    NOT NULL,
    price_minor  BIGINT  NOT NULL,
    currency     TEXT    NOT NULL,
    availability TEXT    NOT NULL,
    data         TEXT    NOT NULL
);
CREATE INDEX feed_items_shop_build_idx ON feed_items (shop_id, build_id, id);
CREATE UNIQUE INDEX feed_items_build_item_idx ON feed_items (shop_id, build_id, item_id);
CREATE INDEX feed_items_build_group_idx ON feed_items (shop_id, build_id, group_id, id);

CREATE VIRTUAL TABLE feed_items_fts USING fts5 (
    search_text, content = 'feed_items', content_rowid = 'id', tokenize = 'trigram'
);

-- +goose StatementBegin
CREATE TRIGGER feed_items_fts_insert AFTER INSERT ON feed_items BEGIN
    INSERT INTO feed_items_fts (rowid, search_text) VALUES (new.id, new.search_text);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER feed_items_fts_delete AFTER DELETE ON feed_items BEGIN
    INSERT INTO feed_items_fts (feed_items_fts, rowid, search_text) VALUES ('delete', old.id, old.search_text);
END;
-- +goose StatementEnd

ALTER TABLE feed_builds ADD COLUMN items_indexed_at DATETIME;

-- +goose Down
ALTER TABLE feed_builds DROP COLUMN items_indexed_at;
DROP TRIGGER feed_items_fts_delete;
DROP TRIGGER feed_items_fts_insert;
DROP TABLE feed_items_fts;
DROP TABLE feed_items;
