-- Completing a checkout. Same tables and columns as
-- postgres/00007_checkout_payments.sql.

-- +goose Up
ALTER TABLE acp_settings ADD COLUMN stripe_key_sealed TEXT;

CREATE TABLE checkout_payments (
    session_id        TEXT     PRIMARY KEY REFERENCES checkout_sessions (id) ON DELETE CASCADE,
    shop_id           INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    state             TEXT     NOT NULL,
    attempt           INTEGER  NOT NULL,
    token_sealed      TEXT     NOT NULL,
    amount            INTEGER  NOT NULL,
    currency          TEXT     NOT NULL,
    payment_intent_id TEXT     NOT NULL DEFAULT '',
    order_id          TEXT     NOT NULL DEFAULT '',
    order_name        TEXT     NOT NULL DEFAULT '',
    order_status_url  TEXT     NOT NULL DEFAULT '',
    details           TEXT     NOT NULL DEFAULT '{}',
    last_error        TEXT     NOT NULL DEFAULT '',
    lease_until       DATETIME,
    created_at        DATETIME NOT NULL,
    updated_at        DATETIME NOT NULL
);
CREATE INDEX checkout_payments_state_idx ON checkout_payments (state, updated_at);

-- +goose Down
DROP TABLE checkout_payments;
ALTER TABLE acp_settings DROP COLUMN stripe_key_sealed;
