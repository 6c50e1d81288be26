-- Order events sent to the shop's agent (ACP order webhooks): each event
-- keeps the exact body sent, and every delivery attempt is kept.

-- +goose Up
CREATE TABLE agent_events (
    id           BIGSERIAL   PRIMARY KEY,
    shop_id      BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    session_id   TEXT        NOT NULL,
    -- order_create or order_update.
    type         TEXT        NOT NULL,
    -- The ACP version of the body (the session's version).
    api_version  TEXT        NOT NULL,
    body         TEXT        NOT NULL,
    -- pending → delivered, or failed (no webhook URL, or retries exhausted).
    status       TEXT        NOT NULL DEFAULT 'pending',
    attempts     INTEGER     NOT NULL DEFAULT 0,
    last_status  INTEGER     NOT NULL DEFAULT 0,
    last_error   TEXT        NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    delivered_at TIMESTAMPTZ
);
CREATE INDEX agent_events_session_idx ON agent_events (shop_id, session_id, id);
-- A session's order is created once: one order_create per session.
CREATE UNIQUE INDEX agent_events_order_create_idx ON agent_events (session_id) WHERE type = 'order_create';

CREATE TABLE agent_event_attempts (
    id           BIGSERIAL   PRIMARY KEY,
    event_id     BIGINT      NOT NULL REFERENCES agent_events (id) ON DELETE CASCADE,
    attempted_at TIMESTAMPTZ NOT NULL,
    -- The receiver's HTTP status, 0 when no answer came.
    status_code  INTEGER     NOT NULL DEFAULT 0,
    error        TEXT        NOT NULL DEFAULT '',
    duration_ms  BIGINT      NOT NULL DEFAULT 0
);
CREATE INDEX agent_event_attempts_event_idx ON agent_event_attempts (event_id, id);

-- Shopify's order webhooks find the agent's payment by the order's id.
CREATE INDEX checkout_payments_order_idx ON checkout_payments (shop_id, order_id);

-- +goose Down
DROP INDEX checkout_payments_order_idx;
DROP TABLE agent_event_attempts;
DROP TABLE agent_events;
