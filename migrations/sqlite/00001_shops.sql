-- Shops that installed the app, and the API keys agents use to reach them.
-- Same tables and columns as postgres/00001_shops.sql, in SQLite's types.

-- +goose Up
CREATE TABLE shops (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    domain                   TEXT     NOT NULL UNIQUE,
    name                     TEXT     NOT NULL DEFAULT '',
    status                   TEXT     NOT NULL DEFAULT 'active'
                             CHECK (status IN ('active', 'uninstalled', 'reauth_required')),
    scopes                   TEXT     NOT NULL DEFAULT '',
    access_token_sealed      TEXT,
    access_token_expires_at  DATETIME,
    refresh_token_sealed     TEXT,
    refresh_token_expires_at DATETIME,
    installed_at             DATETIME NOT NULL,
    uninstalled_at           DATETIME,
    created_at               DATETIME NOT NULL,
    updated_at               DATETIME NOT NULL
);

CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    shop_id      INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    key_hash     TEXT     NOT NULL UNIQUE,
    fingerprint  TEXT     NOT NULL,
    label        TEXT     NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);
CREATE INDEX api_keys_shop_id_idx ON api_keys (shop_id);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE shops;
