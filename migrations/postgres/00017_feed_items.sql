-- The items a feed build publishes, one row per item, so that agents can
-- search the published catalog (feeds.Service.SearchItems, GetItem) without
-- reading the feed file. A build writes its rows in its second pass, after
-- the feed file is published (so they never slow the file agents pull), and
-- marks itself items_indexed_at in the transaction that also deletes the
-- shop's older builds' rows: search reads the newest marked build, so it
-- answers from the previous build until the new one's rows are complete.
-- Same table and columns as sqlite/00017_feed_items.sql.
--
-- search_text is the lower-cased text a query matches (title, brand,
-- category, the start of the description, GTIN, MPN, colour, size, ids);
-- a trigram GIN index answers "contains" (LIKE '%term%') for terms of three
-- characters or more. pg_trgm is a trusted extension (PostgreSQL 13+): the
-- database's owner may create it without superuser rights.

-- +goose Up
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE feed_items (
    id           BIGSERIAL PRIMARY KEY,
    shop_id      BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    build_id     BIGINT NOT NULL REFERENCES feed_builds (id) ON DELETE CASCADE,
    item_id      TEXT   NOT NULL,
    group_id     TEXT   NOT NULL,
    title_text   TEXT   NOT NULL,
    search_text  TEXT   NOT NULL,
    category     TEXT   NOT NULL,
    price_minor  BIGINT NOT NULL,
    currency     TEXT   NOT NULL,
    availability TEXT   NOT NULL,
    data         TEXT   NOT NULL
);
CREATE INDEX feed_items_shop_build_idx ON feed_items (shop_id, build_id, id);
CREATE UNIQUE INDEX feed_items_build_item_idx ON feed_items (shop_id, build_id, item_id);
CREATE INDEX feed_items_build_group_idx ON feed_items (shop_id, build_id, group_id, id);
CREATE INDEX feed_items_search_idx ON feed_items USING gin (search_text gin_trgm_ops);

ALTER TABLE feed_builds ADD COLUMN items_indexed_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE feed_builds DROP COLUMN items_indexed_at;
DROP TABLE feed_items;
