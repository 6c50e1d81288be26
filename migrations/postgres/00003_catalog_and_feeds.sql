-- The synced catalog, the merchant's feed settings and rules, feed builds
-- (stored in the database so every replica serves the same file) and
-- their deliveries.

-- +goose Up
CREATE TABLE catalog_products (
    shop_id            BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    product_id         BIGINT      NOT NULL,
    handle             TEXT        NOT NULL DEFAULT '',
    title              TEXT        NOT NULL DEFAULT '',
    description_html   TEXT        NOT NULL DEFAULT '',
    vendor             TEXT        NOT NULL DEFAULT '',
    product_type       TEXT        NOT NULL DEFAULT '',
    category           TEXT        NOT NULL DEFAULT '',
    status             TEXT        NOT NULL DEFAULT '',
    online_store_url   TEXT        NOT NULL DEFAULT '',
    tags               TEXT        NOT NULL DEFAULT '',
    shopify_updated_at TIMESTAMPTZ,
    generation         BIGINT      NOT NULL,
    synced_at          TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (shop_id, product_id)
);

CREATE TABLE catalog_variants (
    shop_id            BIGINT           NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    variant_id         BIGINT           NOT NULL,
    product_id         BIGINT           NOT NULL,
    position           BIGINT           NOT NULL,
    inventory_item_id  BIGINT           NOT NULL DEFAULT 0,
    title              TEXT             NOT NULL DEFAULT '',
    sku                TEXT             NOT NULL DEFAULT '',
    barcode            TEXT             NOT NULL DEFAULT '',
    price_minor        BIGINT           NOT NULL,
    compare_at_minor   BIGINT           NOT NULL DEFAULT 0,
    available_for_sale BOOLEAN          NOT NULL,
    inventory_quantity BIGINT           NOT NULL DEFAULT 0,
    inventory_policy   TEXT             NOT NULL DEFAULT 'DENY',
    tracked            BOOLEAN          NOT NULL DEFAULT TRUE,
    requires_shipping  BOOLEAN          NOT NULL DEFAULT TRUE,
    taxable            BOOLEAN          NOT NULL DEFAULT TRUE,
    weight_value       DOUBLE PRECISION NOT NULL DEFAULT 0,
    weight_unit        TEXT             NOT NULL DEFAULT '',
    image_url          TEXT             NOT NULL DEFAULT '',
    options            TEXT             NOT NULL DEFAULT '',
    generation         BIGINT           NOT NULL,
    PRIMARY KEY (shop_id, variant_id)
);
CREATE INDEX catalog_variants_product_idx ON catalog_variants (shop_id, product_id, position);
CREATE INDEX catalog_variants_inventory_item_idx ON catalog_variants (shop_id, inventory_item_id);

-- Product media and collection membership, one row per JSONL line, so the
-- bulk export streams straight in without gathering products in memory.
CREATE TABLE catalog_media (
    shop_id    BIGINT  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    media_id   BIGINT  NOT NULL,
    product_id BIGINT  NOT NULL,
    position   BIGINT  NOT NULL,
    url        TEXT    NOT NULL,
    alt        TEXT    NOT NULL DEFAULT '',
    width      INTEGER NOT NULL DEFAULT 0,
    height     INTEGER NOT NULL DEFAULT 0,
    generation BIGINT  NOT NULL,
    PRIMARY KEY (shop_id, media_id)
);
CREATE INDEX catalog_media_product_idx ON catalog_media (shop_id, product_id, position);

CREATE TABLE catalog_collections (
    shop_id       BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    product_id    BIGINT NOT NULL,
    collection_id BIGINT NOT NULL,
    title         TEXT   NOT NULL DEFAULT '',
    generation    BIGINT NOT NULL,
    PRIMARY KEY (shop_id, product_id, collection_id)
);

-- A full catalog sync through a bulk operation, and its progress.
CREATE TABLE catalog_syncs (
    id                BIGSERIAL   PRIMARY KEY,
    shop_id           BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    reason            TEXT        NOT NULL,
    status            TEXT        NOT NULL,
    bulk_operation_id TEXT        NOT NULL DEFAULT '',
    generation        BIGINT      NOT NULL,
    rows_expected     BIGINT      NOT NULL DEFAULT 0,
    rows_done         BIGINT      NOT NULL DEFAULT 0,
    products          BIGINT      NOT NULL DEFAULT 0,
    variants          BIGINT      NOT NULL DEFAULT 0,
    error             TEXT        NOT NULL DEFAULT '',
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL,
    finished_at       TIMESTAMPTZ
);
CREATE INDEX catalog_syncs_shop_idx ON catalog_syncs (shop_id, id);
CREATE INDEX catalog_syncs_bulk_idx ON catalog_syncs (bulk_operation_id);

-- The merchant's shop-wide feed settings, kept here (never in Shopify).
CREATE TABLE feed_settings (
    shop_id            BIGINT      PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    seller_name        TEXT        NOT NULL DEFAULT '',
    seller_url         TEXT        NOT NULL DEFAULT '',
    store_country      TEXT        NOT NULL DEFAULT '',
    target_countries   TEXT        NOT NULL DEFAULT '',
    return_policy_url  TEXT        NOT NULL DEFAULT '',
    return_window_days INTEGER     NOT NULL DEFAULT 0,
    privacy_policy_url TEXT        NOT NULL DEFAULT '',
    terms_url          TEXT        NOT NULL DEFAULT '',
    brand_fallback     TEXT        NOT NULL DEFAULT '',
    eligible_search    BOOLEAN     NOT NULL DEFAULT TRUE,
    eligible_checkout  BOOLEAN     NOT NULL DEFAULT TRUE,
    field_names        TEXT        NOT NULL DEFAULT 'current',
    -- SHA-256 of the bearer token for the feed's pull URL.
    feed_token_hash    TEXT        NOT NULL DEFAULT '',
    updated_at         TIMESTAMPTZ NOT NULL
);

-- Per-product and per-collection decisions: include/exclude, checkout
-- eligibility and field overrides. A product rule wins over a collection rule.
CREATE TABLE feed_rules (
    shop_id           BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    scope             TEXT        NOT NULL CHECK (scope IN ('product', 'collection')),
    target_id         BIGINT      NOT NULL,
    exclude           BOOLEAN,
    checkout_eligible BOOLEAN,
    title             TEXT,
    description       TEXT,
    category          TEXT,
    gtin              TEXT,
    mpn               TEXT,
    updated_at        TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (shop_id, scope, target_id)
);

-- A feed build: its counts, its validation summary and, in chunks, its files.
CREATE TABLE feed_builds (
    id              BIGSERIAL   PRIMARY KEY,
    shop_id         BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    status          TEXT        NOT NULL,
    field_names     TEXT        NOT NULL,
    products        BIGINT      NOT NULL DEFAULT 0,
    items_total     BIGINT      NOT NULL DEFAULT 0,
    items_published BIGINT      NOT NULL DEFAULT 0,
    items_invalid   BIGINT      NOT NULL DEFAULT 0,
    items_excluded  BIGINT      NOT NULL DEFAULT 0,
    warnings        BIGINT      NOT NULL DEFAULT 0,
    summary         TEXT        NOT NULL DEFAULT '{}',
    error           TEXT        NOT NULL DEFAULT '',
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ
);
CREATE INDEX feed_builds_shop_idx ON feed_builds (shop_id, id);

CREATE TABLE feed_files (
    build_id   BIGINT      NOT NULL REFERENCES feed_builds (id) ON DELETE CASCADE,
    format     TEXT        NOT NULL,
    bytes      BIGINT      NOT NULL DEFAULT 0,
    sha256     TEXT        NOT NULL DEFAULT '',
    PRIMARY KEY (build_id, format)
);

CREATE TABLE feed_chunks (
    build_id BIGINT  NOT NULL,
    format   TEXT    NOT NULL,
    seq      INTEGER NOT NULL,
    data     BYTEA   NOT NULL,
    PRIMARY KEY (build_id, format, seq),
    FOREIGN KEY (build_id, format) REFERENCES feed_files (build_id, format) ON DELETE CASCADE
);

-- Per-item validation problems of a build (capped per build).
CREATE TABLE feed_problems (
    build_id BIGINT NOT NULL REFERENCES feed_builds (id) ON DELETE CASCADE,
    item_id  TEXT   NOT NULL,
    field    TEXT   NOT NULL,
    severity TEXT   NOT NULL,
    message  TEXT   NOT NULL,
    hint     TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX feed_problems_build_idx ON feed_problems (build_id);

-- Where a shop's feed is pushed (SFTP, an ACP Feed API), with the last
-- result. Credentials are sealed (app/secret); the rest is plain JSON.
CREATE TABLE feed_targets (
    id              BIGSERIAL   PRIMARY KEY,
    shop_id         BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    kind            TEXT        NOT NULL CHECK (kind IN ('sftp', 'acp')),
    config          TEXT        NOT NULL,
    secret_sealed   TEXT        NOT NULL DEFAULT '',
    enabled         BOOLEAN     NOT NULL DEFAULT TRUE,
    last_status     TEXT        NOT NULL DEFAULT '',
    last_detail     TEXT        NOT NULL DEFAULT '',
    last_build_id   BIGINT      NOT NULL DEFAULT 0,
    last_attempt_at TIMESTAMPTZ,
    last_success_at TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX feed_targets_shop_idx ON feed_targets (shop_id);

CREATE TABLE feed_deliveries (
    id          BIGSERIAL   PRIMARY KEY,
    target_id   BIGINT      NOT NULL REFERENCES feed_targets (id) ON DELETE CASCADE,
    build_id    BIGINT      NOT NULL,
    status      TEXT        NOT NULL,
    detail      TEXT        NOT NULL DEFAULT '',
    bytes       BIGINT      NOT NULL DEFAULT 0,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX feed_deliveries_target_idx ON feed_deliveries (target_id, id);

-- +goose Down
DROP TABLE feed_deliveries;
DROP TABLE feed_targets;
DROP TABLE feed_problems;
DROP TABLE feed_chunks;
DROP TABLE feed_files;
DROP TABLE feed_builds;
DROP TABLE feed_rules;
DROP TABLE feed_settings;
DROP TABLE catalog_syncs;
DROP TABLE catalog_collections;
DROP TABLE catalog_media;
DROP TABLE catalog_variants;
DROP TABLE catalog_products;
