-- The Shopify connection: OAuth state nonces, the webhook inbox, and the
-- record of privacy (compliance) requests.

-- +goose Up
ALTER TABLE shops ADD COLUMN shopify_gid TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN currency_code TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN country_code TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN token_refreshed_at TIMESTAMPTZ;
ALTER TABLE shops ADD COLUMN reauth_reason TEXT NOT NULL DEFAULT '';

-- One row per authorization-code flow in progress; deleted when used, so a
-- state works once. Only a hash of the nonce is kept.
CREATE TABLE oauth_states (
    state_hash TEXT        PRIMARY KEY,
    shop       TEXT        NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX oauth_states_expires_at_idx ON oauth_states (expires_at);

-- Every webhook delivery accepted, deduplicated on Shopify's webhook id.
-- The payload is cleared once processed (it may hold buyers' details).
CREATE TABLE webhook_events (
    id           BIGSERIAL   PRIMARY KEY,
    webhook_id   TEXT        NOT NULL UNIQUE,
    shop         TEXT        NOT NULL,
    topic        TEXT        NOT NULL,
    event_id     TEXT        NOT NULL DEFAULT '',
    api_version  TEXT        NOT NULL DEFAULT '',
    triggered_at TIMESTAMPTZ,
    payload      TEXT        NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    processed_at TIMESTAMPTZ,
    outcome      TEXT        NOT NULL DEFAULT ''
);
CREATE INDEX webhook_events_shop_idx ON webhook_events (shop, received_at);

-- Privacy requests from Shopify's compliance webhooks and what was done.
CREATE TABLE compliance_requests (
    id             BIGSERIAL   PRIMARY KEY,
    shop           TEXT        NOT NULL,
    topic          TEXT        NOT NULL,
    webhook_id     TEXT        NOT NULL UNIQUE,
    customer_id    TEXT        NOT NULL DEFAULT '',
    -- What we held (data_request) or deleted (redact), as JSON; never the data itself.
    report         TEXT        NOT NULL DEFAULT '{}',
    received_at    TIMESTAMPTZ NOT NULL,
    completed_at   TIMESTAMPTZ
);
CREATE INDEX compliance_requests_shop_idx ON compliance_requests (shop);

-- +goose Down
DROP TABLE compliance_requests;
DROP TABLE webhook_events;
DROP TABLE oauth_states;
ALTER TABLE shops DROP COLUMN reauth_reason;
ALTER TABLE shops DROP COLUMN token_refreshed_at;
ALTER TABLE shops DROP COLUMN country_code;
ALTER TABLE shops DROP COLUMN currency_code;
ALTER TABLE shops DROP COLUMN shopify_gid;
