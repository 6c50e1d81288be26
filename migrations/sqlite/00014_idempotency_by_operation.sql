-- Same change as postgres/00014_idempotency_by_operation.sql (read its
-- comment), in SQLite's types. SQLite cannot drop columns that a UNIQUE
-- constraint names, so the table is rebuilt.

-- +goose Up
CREATE TABLE idempotency_keys_v2 (
    id             INTEGER  PRIMARY KEY AUTOINCREMENT,
    shop_id        INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The agent's API key; 0 for a row converted from before this
    -- migration, which matches any key of the shop.
    api_key_id     INTEGER  NOT NULL,
    -- create_checkout_session, update_…, complete_…, cancel_….
    operation      TEXT     NOT NULL,
    -- The target session ('' for a create).
    session_id     TEXT     NOT NULL DEFAULT '',
    key            TEXT     NOT NULL,
    api_version    TEXT     NOT NULL DEFAULT '',
    -- SHA-256 (hex) of the body's canonical JSON form, or of its raw bytes.
    request_hash   TEXT     NOT NULL,
    state          TEXT     NOT NULL CHECK (state IN ('in_flight', 'completed')),
    lease_until    DATETIME NOT NULL,
    -- Once completed: created, returned or refused; the session's ACP JSON;
    -- the refusal as JSON (app/idempotency.Refusal).
    outcome        TEXT,
    result_session BLOB,
    refusal        TEXT,
    created_at     DATETIME NOT NULL,
    expires_at     DATETIME NOT NULL,
    UNIQUE (shop_id, api_key_id, operation, session_id, key)
);

INSERT INTO idempotency_keys_v2 (shop_id, api_key_id, operation, session_id, key, api_version, request_hash, state,
                                 lease_until, outcome, result_session, refusal, created_at, expires_at)
SELECT shop_id, 0,
       CASE
           WHEN rest = '' THEN 'create_checkout_session'
           WHEN rest LIKE '/%/complete' AND rest NOT LIKE '/%/%/%' THEN 'complete_checkout_session'
           WHEN rest LIKE '/%/cancel' AND rest NOT LIKE '/%/%/%' THEN 'cancel_checkout_session'
           ELSE 'update_checkout_session' END,
       CASE
           WHEN rest = '' THEN ''
           WHEN rest LIKE '/%/complete' THEN substr(rest, 2, length(rest) - 1 - length('/complete'))
           WHEN rest LIKE '/%/cancel' THEN substr(rest, 2, length(rest) - 1 - length('/cancel'))
           ELSE substr(rest, 2) END,
       key, api_version, request_hash, state, lease_until,
       CASE response_status WHEN 201 THEN 'created' WHEN 200 THEN 'returned' ELSE 'refused' END,
       CASE WHEN response_status < 300 THEN response_body ELSE X'' END,
       CASE WHEN response_status < 400 THEN NULL ELSE json_object(
           -- 400 and 413 render as the decoders' own errors; the rest by class.
           'class', CASE response_status
               WHEN 401 THEN 'unauthorized' WHEN 403 THEN 'forbidden' WHEN 404 THEN 'not_found'
               WHEN 405 THEN 'not_allowed' WHEN 409 THEN 'conflict' WHEN 422 THEN 'unprocessable'
               WHEN 429 THEN 'rate_limited' ELSE '' END,
           'type', json_extract(body, '$.type'),
           'code', json_extract(body, '$.code'),
           'message', json_extract(body, '$.message'),
           'param', json_extract(body, '$.param'),
           'retry_after_ms', CASE WHEN response_headers LIKE '%"Retry-After"%'
               THEN CAST(json_extract(response_headers, '$."Retry-After"[0]') AS INTEGER) * 1000 ELSE 0 END
       ) END,
       created_at, expires_at
  FROM (SELECT *,
               substr(scope, instr(scope, '/checkout_sessions') + length('/checkout_sessions')) AS rest,
               CASE WHEN response_status >= 400 THEN CAST(response_body AS TEXT) END AS body
          FROM idempotency_keys
         WHERE state = 'completed'
           AND response_status IN (200, 201, 400, 401, 403, 404, 405, 409, 413, 422, 429)
           AND instr(scope, '/checkout_sessions') > 0) AS old
 WHERE (rest = '' OR (rest LIKE '/_%' AND (rest NOT LIKE '/%/%' OR
        ((rest LIKE '/%/complete' OR rest LIKE '/%/cancel') AND rest NOT LIKE '/%/%/%'))))
   AND (response_status < 400 OR json_valid(body));

DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_v2 RENAME TO idempotency_keys;
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);

-- +goose Down
-- The HTTP-shaped records cannot be rebuilt (no path, no status): a
-- downgrade forgets the keys, as if they had expired.
DROP TABLE idempotency_keys;
CREATE TABLE idempotency_keys (
    id               INTEGER     PRIMARY KEY AUTOINCREMENT,
    shop_id          INTEGER     NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    scope            TEXT        NOT NULL,
    key              TEXT        NOT NULL,
    api_version      TEXT        NOT NULL DEFAULT '',
    request_hash     TEXT        NOT NULL,
    state            TEXT        NOT NULL CHECK (state IN ('in_flight', 'completed')),
    lease_until      DATETIME    NOT NULL,
    response_status  INTEGER,
    response_headers TEXT,
    response_body    BLOB,
    created_at       DATETIME    NOT NULL,
    expires_at       DATETIME    NOT NULL,
    UNIQUE (shop_id, scope, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
