-- Same table and columns as postgres/00012_signature_uses.sql, in SQLite's types.

-- +goose Up
CREATE TABLE signature_uses (
    shop_id    INTEGER     NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- SHA-256 (hex) of the signature's MAC bytes (whatever their spelling),
    -- never the signature itself.
    digest     TEXT        NOT NULL,
    -- SHA-256 (hex) of the first use's method, path and Idempotency-Key: a
    -- retry of that same request may carry the signature again. Empty when
    -- no retry may (a POST without Idempotency-Key).
    binding    TEXT        NOT NULL,
    expires_at DATETIME    NOT NULL,
    PRIMARY KEY (shop_id, digest)
);
CREATE INDEX signature_uses_expires_at_idx ON signature_uses (expires_at);

-- +goose Down
DROP TABLE signature_uses;
