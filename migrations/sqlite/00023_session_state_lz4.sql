-- On PostgreSQL this migration has a session's state compressed with lz4
-- rather than pglz (postgres/00023_session_state_lz4.sql). SQLite does not
-- compress values, so there is nothing to change here: the file keeps the
-- two dialects' versions in step.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
