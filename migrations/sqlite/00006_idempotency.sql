-- Same table and columns as postgres/00006_idempotency.sql, in SQLite's types.

-- +goose Up
CREATE TABLE idempotency_keys (
    id               INTEGER     PRIMARY KEY AUTOINCREMENT,
    shop_id          INTEGER     NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The method and concrete path, e.g. "POST /acp/x/checkout_sessions/cs_1/complete".
    scope            TEXT        NOT NULL,
    key              TEXT        NOT NULL,
    api_version      TEXT        NOT NULL DEFAULT '',
    -- SHA-256 (hex) of the body's canonical JSON form, or of its raw bytes.
    request_hash     TEXT        NOT NULL,
    state            TEXT        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    lease_until      DATETIME    NOT NULL,
    response_status  INTEGER,
    -- The response headers that replay, as a JSON object of string arrays.
    response_headers TEXT,
    response_body    BLOB,
    created_at       DATETIME    NOT NULL,
    expires_at       DATETIME    NOT NULL,
    UNIQUE (shop_id, scope, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
