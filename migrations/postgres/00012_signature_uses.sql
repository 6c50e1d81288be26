-- Request signatures of agents already accepted, so that each is accepted
-- once (issue 13: the signature covers only Timestamp + "." + body, so a
-- captured one could be sent again, on another request with the same body,
-- within its ±5 min window). One row per (shop, signature); the primary
-- key makes the first use atomic across replicas. Rows live until the
-- signature's Timestamp is out of the window (expires_at); the hourly
-- maintenance job deletes them after that.

-- +goose Up
CREATE TABLE signature_uses (
    shop_id    BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- SHA-256 (hex) of the signature's MAC bytes (whatever their spelling),
    -- never the signature itself.
    digest     TEXT        NOT NULL,
    -- SHA-256 (hex) of the first use's method, path and Idempotency-Key: a
    -- retry of that same request may carry the signature again. Empty when
    -- no retry may (a POST without Idempotency-Key).
    binding    TEXT        NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (shop_id, digest)
);
CREATE INDEX signature_uses_expires_at_idx ON signature_uses (expires_at);

-- +goose Down
DROP TABLE signature_uses;
