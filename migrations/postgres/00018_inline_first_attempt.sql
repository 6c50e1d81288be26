-- First attempt inline, River for what fails or is lost (issue 17). A
-- webhook delivery of a cheap topic is processed in the request that
-- stores it, and an order event is delivered right after the transaction
-- that stores it commits, both without a River job; a periodic sweep hands
-- River what that first attempt left.
--
-- claimed_until is who owns an unfinished row:
--   NULL          River does (a job exists for it, or it is done);
--   a time        the process that stored it, or a job attempting it now,
--                 until then; past it, the sweep hands the row to River
--                 (sets NULL and enqueues the job in one transaction).
-- A job takes a row by a conditional UPDATE (NULL or past), so the same
-- row is never processed or delivered twice at once. Existing rows are
-- NULL: their jobs exist. Same columns as sqlite/00018_inline_first_attempt.sql.

-- +goose Up
ALTER TABLE webhook_events ADD COLUMN claimed_until TIMESTAMPTZ;
ALTER TABLE agent_events ADD COLUMN claimed_until TIMESTAMPTZ;
-- The sweep's look-ups: only rows waiting for it are in these indexes.
CREATE INDEX webhook_events_claimed_idx ON webhook_events (claimed_until)
    WHERE claimed_until IS NOT NULL AND processed_at IS NULL;
CREATE INDEX agent_events_claimed_idx ON agent_events (claimed_until)
    WHERE claimed_until IS NOT NULL AND status = 'pending';

-- +goose Down
DROP INDEX agent_events_claimed_idx;
DROP INDEX webhook_events_claimed_idx;
ALTER TABLE agent_events DROP COLUMN claimed_until;
ALTER TABLE webhook_events DROP COLUMN claimed_until;
