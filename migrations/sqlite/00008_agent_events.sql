-- Order events sent to the shop's agent. Same tables and columns as
-- postgres/00008_agent_events.sql.

-- +goose Up
CREATE TABLE agent_events (
    id           INTEGER  PRIMARY KEY AUTOINCREMENT,
    shop_id      INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    session_id   TEXT     NOT NULL,
    type         TEXT     NOT NULL,
    api_version  TEXT     NOT NULL,
    body         TEXT     NOT NULL,
    status       TEXT     NOT NULL DEFAULT 'pending',
    attempts     INTEGER  NOT NULL DEFAULT 0,
    last_status  INTEGER  NOT NULL DEFAULT 0,
    last_error   TEXT     NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL,
    delivered_at DATETIME
);
CREATE INDEX agent_events_session_idx ON agent_events (shop_id, session_id, id);
CREATE UNIQUE INDEX agent_events_order_create_idx ON agent_events (session_id) WHERE type = 'order_create';

CREATE TABLE agent_event_attempts (
    id           INTEGER  PRIMARY KEY AUTOINCREMENT,
    event_id     INTEGER  NOT NULL REFERENCES agent_events (id) ON DELETE CASCADE,
    attempted_at DATETIME NOT NULL,
    status_code  INTEGER  NOT NULL DEFAULT 0,
    error        TEXT     NOT NULL DEFAULT '',
    duration_ms  INTEGER  NOT NULL DEFAULT 0
);
CREATE INDEX agent_event_attempts_event_idx ON agent_event_attempts (event_id, id);

CREATE INDEX checkout_payments_order_idx ON checkout_payments (shop_id, order_id);

-- +goose Down
DROP INDEX checkout_payments_order_idx;
DROP TABLE agent_event_attempts;
DROP TABLE agent_events;
