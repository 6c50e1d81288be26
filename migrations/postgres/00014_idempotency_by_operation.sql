-- Idempotency keys are scoped by ACP operation, no longer by HTTP request
-- (issue 14: checkout is transport-free, so a JSON-RPC call and a REST call
-- share the rules): one row per (shop, agent API key, operation, target
-- session, key), and a finished row keeps the operation's result (outcome,
-- the session's ACP JSON, or the refusal as JSON: app/idempotency.Refusal)
-- instead of an HTTP status, headers and body.
--
-- Existing rows are converted so that a retry of a request answered just
-- before the upgrade still replays: the operation and session come from the
-- stored path ("POST /acp/<shop>/checkout_sessions[/<id>[/complete|/cancel]]"),
-- the outcome and refusal from the stored status and body. The old rows knew
-- no API key: they get api_key_id 0, which the store matches with any key of
-- the shop (they expire within 24 h). Rows still in flight are dropped: the
-- upgrade stopped the replica running them, and their lease would lapse
-- within a minute anyway, after which a retry runs afresh.

-- +goose Up
ALTER TABLE idempotency_keys
    ADD COLUMN api_key_id     BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN operation      TEXT   NOT NULL DEFAULT '',
    ADD COLUMN session_id     TEXT   NOT NULL DEFAULT '',
    ADD COLUMN outcome        TEXT,
    ADD COLUMN result_session BYTEA,
    ADD COLUMN refusal        TEXT;

DELETE FROM idempotency_keys
 WHERE state <> 'completed'
    OR response_status IS NULL
    OR response_status NOT IN (200, 201, 400, 401, 403, 404, 405, 409, 413, 422, 429)
    -- An error answer is an ACP error object: JSON, starting with '{'.
    OR (response_status >= 400 AND (response_body IS NULL OR substring(response_body FROM 1 FOR 1) <> '\x7b'::bytea))
    OR strpos(scope, '/checkout_sessions') = 0;

UPDATE idempotency_keys k SET
    operation = CASE
        WHEN r.rest = '' THEN 'create_checkout_session'
        WHEN r.rest LIKE '/%/complete' AND r.rest NOT LIKE '/%/%/%' THEN 'complete_checkout_session'
        WHEN r.rest LIKE '/%/cancel' AND r.rest NOT LIKE '/%/%/%' THEN 'cancel_checkout_session'
        WHEN r.rest LIKE '/_%' AND r.rest NOT LIKE '/%/%' THEN 'update_checkout_session'
        ELSE '' END,
    session_id = CASE
        WHEN r.rest = '' THEN ''
        WHEN r.rest LIKE '/%/complete' THEN substr(r.rest, 2, length(r.rest) - 1 - length('/complete'))
        WHEN r.rest LIKE '/%/cancel' THEN substr(r.rest, 2, length(r.rest) - 1 - length('/cancel'))
        ELSE substr(r.rest, 2) END,
    outcome = CASE k.response_status WHEN 201 THEN 'created' WHEN 200 THEN 'returned' ELSE 'refused' END,
    result_session = CASE WHEN k.response_status < 300 THEN k.response_body ELSE ''::bytea END,
    refusal = CASE WHEN k.response_status < 400 THEN NULL ELSE json_build_object(
        -- 400 and 413 render as the decoders' own errors; the rest by class.
        'class', CASE k.response_status
            WHEN 401 THEN 'unauthorized' WHEN 403 THEN 'forbidden' WHEN 404 THEN 'not_found'
            WHEN 405 THEN 'not_allowed' WHEN 409 THEN 'conflict' WHEN 422 THEN 'unprocessable'
            WHEN 429 THEN 'rate_limited' ELSE '' END,
        'type', r.body ->> 'type',
        'code', r.body ->> 'code',
        'message', r.body ->> 'message',
        'param', r.body ->> 'param',
        'retry_after_ms', CASE WHEN k.response_headers LIKE '%"Retry-After"%'
            THEN (k.response_headers::jsonb -> 'Retry-After' ->> 0)::bigint * 1000 ELSE 0 END
    )::text END
FROM (
    SELECT id,
           substr(scope, strpos(scope, '/checkout_sessions') + length('/checkout_sessions')) AS rest,
           CASE WHEN response_status >= 400 THEN convert_from(response_body, 'UTF8')::jsonb END AS body
      FROM idempotency_keys
) r
WHERE k.id = r.id;

DELETE FROM idempotency_keys WHERE operation = '';

ALTER TABLE idempotency_keys
    DROP COLUMN scope,
    DROP COLUMN response_status,
    DROP COLUMN response_headers,
    DROP COLUMN response_body,
    ALTER COLUMN api_key_id DROP DEFAULT,
    ALTER COLUMN operation DROP DEFAULT,
    ADD CONSTRAINT idempotency_keys_operation_key UNIQUE (shop_id, api_key_id, operation, session_id, key);

-- +goose Down
-- The HTTP-shaped records cannot be rebuilt (no path, no status): a
-- downgrade forgets the keys, as if they had expired.
DELETE FROM idempotency_keys;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_operation_key,
    DROP COLUMN api_key_id,
    DROP COLUMN operation,
    DROP COLUMN session_id,
    DROP COLUMN outcome,
    DROP COLUMN result_session,
    DROP COLUMN refusal,
    ADD COLUMN scope            TEXT NOT NULL,
    ADD COLUMN response_status  INTEGER,
    ADD COLUMN response_headers TEXT,
    ADD COLUMN response_body    BYTEA,
    ADD CONSTRAINT idempotency_keys_shop_id_scope_key_key UNIQUE (shop_id, scope, key);
