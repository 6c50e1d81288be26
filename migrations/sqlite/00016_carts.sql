-- ACP carts (2026-04-17 cart capability). Same table and columns as
-- postgres/00016_carts.sql.

-- +goose Up
CREATE TABLE carts (
    id          TEXT     PRIMARY KEY,
    shop_id     INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    api_key_id  INTEGER  NOT NULL DEFAULT 0,
    currency    TEXT     NOT NULL,
    state       TEXT     NOT NULL,
    row_version INTEGER  NOT NULL DEFAULT 1,
    expires_at  DATETIME NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX carts_shop_created_idx ON carts (shop_id, created_at);
CREATE INDEX carts_expires_idx ON carts (expires_at);

-- +goose Down
DROP TABLE carts;
