-- A checkout session's state (its JSON, about 2.3 KB) makes its row larger
-- than PostgreSQL's TOAST threshold (about 2 KB), so every write of a
-- session compresses the state, with pglz by default (issue 17). lz4
-- compresses it a little less (an acpbench state of 2,337 bytes: 1,419
-- bytes against 1,351, the row still under the threshold) for less CPU:
-- 13 to 29 µs (9 to 16%) less per session UPDATE in the backend over five
-- runs, reads no dearer (store.TestTOASTCost; docs/benchmarks.md).
--
-- Per-column compression needs PostgreSQL 14 and a server built with lz4;
-- elsewhere this migration does nothing, and the state stays pglz. Values
-- already stored keep their compression until their row is next written.
-- Only PostgreSQL compresses: sqlite/00023_session_state_lz4.sql keeps the
-- two dialects' versions in step.

-- +goose Up
-- +goose StatementBegin
DO $$
BEGIN
    -- default_toast_compression lists lz4 only when the server has it.
    IF current_setting('server_version_num')::int >= 140000 AND EXISTS (
        SELECT 1 FROM pg_settings WHERE name = 'default_toast_compression' AND 'lz4' = ANY (enumvals)) THEN
        EXECUTE 'ALTER TABLE checkout_sessions ALTER COLUMN state SET COMPRESSION lz4';
    END IF;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
BEGIN
    IF current_setting('server_version_num')::int >= 140000 THEN
        EXECUTE 'ALTER TABLE checkout_sessions ALTER COLUMN state SET COMPRESSION DEFAULT';
    END IF;
END
$$;
-- +goose StatementEnd
