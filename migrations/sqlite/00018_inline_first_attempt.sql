-- First attempt inline, River for what fails or is lost. Same columns and
-- meaning as postgres/00018_inline_first_attempt.sql.

-- +goose Up
ALTER TABLE webhook_events ADD COLUMN claimed_until DATETIME;
ALTER TABLE agent_events ADD COLUMN claimed_until DATETIME;
CREATE INDEX webhook_events_claimed_idx ON webhook_events (claimed_until)
    WHERE claimed_until IS NOT NULL AND processed_at IS NULL;
CREATE INDEX agent_events_claimed_idx ON agent_events (claimed_until)
    WHERE claimed_until IS NOT NULL AND status = 'pending';

-- +goose Down
DROP INDEX agent_events_claimed_idx;
DROP INDEX webhook_events_claimed_idx;
ALTER TABLE agent_events DROP COLUMN claimed_until;
ALTER TABLE webhook_events DROP COLUMN claimed_until;
