-- Idempotency keys of the ACP checkout API's POSTs (ACP 2026-04-17 §2.2):
-- one row per (shop, method + path, key). The row is claimed "in_flight"
-- under a lease before the handler runs; the unique constraint makes that
-- claim atomic across replicas. A finished request keeps its response so a
-- retry replays it; a 5xx or a crash removes (or lets the lease lapse on)
-- the row so a retry runs afresh. Rows live until expires_at (24 h).

-- +goose Up
CREATE TABLE idempotency_keys (
    id               BIGSERIAL   PRIMARY KEY,
    shop_id          BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The method and concrete path, e.g. "POST /acp/x/checkout_sessions/cs_1/complete".
    scope            TEXT        NOT NULL,
    key              TEXT        NOT NULL,
    api_version      TEXT        NOT NULL DEFAULT '',
    -- SHA-256 (hex) of the body's canonical JSON form, or of its raw bytes.
    request_hash     TEXT        NOT NULL,
    state            TEXT        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    lease_until      TIMESTAMPTZ NOT NULL,
    response_status  INTEGER,
    -- The response headers that replay, as a JSON object of string arrays.
    response_headers TEXT,
    response_body    BYTEA,
    created_at       TIMESTAMPTZ NOT NULL,
    expires_at       TIMESTAMPTZ NOT NULL,
    UNIQUE (shop_id, scope, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
