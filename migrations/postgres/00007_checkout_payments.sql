-- Completing a checkout: one payment record per session, written before
-- each step (authorise, order, capture) so that any replica can resume an
-- interrupted completion from the last recorded step.

-- +goose Up
ALTER TABLE acp_settings ADD COLUMN stripe_key_sealed TEXT;

CREATE TABLE checkout_payments (
    session_id        TEXT        PRIMARY KEY REFERENCES checkout_sessions (id) ON DELETE CASCADE,
    shop_id           BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- authorizing → (requires_action →) authorized → ordered → completed;
    -- or declined / voided (nothing charged, no order).
    state             TEXT        NOT NULL,
    -- A new token after a decline is a new attempt with its own Stripe
    -- idempotency key.
    attempt           INTEGER     NOT NULL,
    token_sealed      TEXT        NOT NULL,
    amount            BIGINT      NOT NULL,
    currency          TEXT        NOT NULL,
    payment_intent_id TEXT        NOT NULL DEFAULT '',
    order_id          TEXT        NOT NULL DEFAULT '',
    order_name        TEXT        NOT NULL DEFAULT '',
    order_status_url  TEXT        NOT NULL DEFAULT '',
    -- The request's extras the order needs (marketing consent, notes) and
    -- the last failure, as JSON and text.
    details           TEXT        NOT NULL DEFAULT '{}',
    last_error        TEXT        NOT NULL DEFAULT '',
    -- Only the lease holder drives the completion.
    lease_until       TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL,
    updated_at        TIMESTAMPTZ NOT NULL
);
CREATE INDEX checkout_payments_state_idx ON checkout_payments (state, updated_at);

-- +goose Down
DROP TABLE checkout_payments;
ALTER TABLE acp_settings DROP COLUMN stripe_key_sealed;
