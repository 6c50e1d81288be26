-- Shops that installed the app, and the API keys agents use to reach them.

-- +goose Up
CREATE TABLE shops (
    id                       BIGSERIAL PRIMARY KEY,
    domain                   TEXT        NOT NULL UNIQUE,
    name                     TEXT        NOT NULL DEFAULT '',
    status                   TEXT        NOT NULL DEFAULT 'active'
                             CHECK (status IN ('active', 'uninstalled', 'reauth_required')),
    scopes                   TEXT        NOT NULL DEFAULT '',
    -- Tokens are sealed with AES-256-GCM (app/secret); never stored in plaintext.
    access_token_sealed      TEXT,
    access_token_expires_at  TIMESTAMPTZ,
    refresh_token_sealed     TEXT,
    refresh_token_expires_at TIMESTAMPTZ,
    installed_at             TIMESTAMPTZ NOT NULL,
    uninstalled_at           TIMESTAMPTZ,
    created_at               TIMESTAMPTZ NOT NULL,
    updated_at               TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_keys (
    id           BIGSERIAL PRIMARY KEY,
    shop_id      BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- SHA-256 of the key: the key itself is shown once and never stored.
    key_hash     TEXT        NOT NULL UNIQUE,
    fingerprint  TEXT        NOT NULL,
    label        TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_keys_shop_id_idx ON api_keys (shop_id);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE shops;
