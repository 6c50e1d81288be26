-- The ACP checkout API: each shop's agent-facing settings and its checkout
-- sessions.

-- +goose Up
CREATE TABLE acp_settings (
    shop_id               BIGINT      PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    -- Request signing (optional per shop): the HMAC secret, sealed with the
    -- app's keyring like the Shopify tokens, and whether unsigned requests
    -- are refused.
    signing_secret_sealed TEXT,
    require_signature     BOOLEAN     NOT NULL DEFAULT FALSE,
    -- Order events to the agent: where to send them and the sealed secret
    -- they are signed with.
    webhook_url           TEXT        NOT NULL DEFAULT '',
    webhook_secret_sealed TEXT,
    -- The merchant's Stripe account that charges agent orders (acct_...).
    stripe_account_id     TEXT        NOT NULL DEFAULT '',
    updated_at            TIMESTAMPTZ NOT NULL
);

CREATE TABLE checkout_sessions (
    id          TEXT        PRIMARY KEY,
    shop_id     BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The API version of the create call; later calls may use another.
    api_version TEXT        NOT NULL,
    status      TEXT        NOT NULL,
    currency    TEXT        NOT NULL,
    -- The session's inputs and its last quote, as JSON (app.CheckoutState).
    state       TEXT        NOT NULL,
    -- Optimistic concurrency: every write bumps it and checks the old value.
    row_version BIGINT      NOT NULL DEFAULT 1,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkout_sessions_shop_created_idx ON checkout_sessions (shop_id, created_at);
CREATE INDEX checkout_sessions_expires_idx ON checkout_sessions (expires_at);

-- +goose Down
DROP TABLE checkout_sessions;
DROP TABLE acp_settings;
