-- The ACP checkout API: each shop's agent-facing settings and its checkout
-- sessions. Same tables and columns as postgres/00005_checkout.sql.

-- +goose Up
CREATE TABLE acp_settings (
    shop_id               INTEGER  PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    signing_secret_sealed TEXT,
    require_signature     BOOLEAN  NOT NULL DEFAULT FALSE,
    webhook_url           TEXT     NOT NULL DEFAULT '',
    webhook_secret_sealed TEXT,
    stripe_account_id     TEXT     NOT NULL DEFAULT '',
    updated_at            DATETIME NOT NULL
);

CREATE TABLE checkout_sessions (
    id          TEXT     PRIMARY KEY,
    shop_id     INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    api_version TEXT     NOT NULL,
    status      TEXT     NOT NULL,
    currency    TEXT     NOT NULL,
    state       TEXT     NOT NULL,
    row_version INTEGER  NOT NULL DEFAULT 1,
    expires_at  DATETIME NOT NULL,
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);
CREATE INDEX checkout_sessions_shop_created_idx ON checkout_sessions (shop_id, created_at);
CREATE INDEX checkout_sessions_expires_idx ON checkout_sessions (expires_at);

-- +goose Down
DROP TABLE checkout_sessions;
DROP TABLE acp_settings;
