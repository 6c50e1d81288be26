-- Delivery results used to keep the remote side's own words (an answer's
-- body, an address and port): what a merchant-set URL answered could then be
-- read back on the admin's pages (issue 13, SSRF). Results are now stored as
-- a class of failure only (app/delivery.Describe); this clears what was
-- stored before. Successes keep their text, which is ours.

-- +goose Up
UPDATE feed_targets SET last_detail = 'failed (the details of results before this version are not kept)'
 WHERE last_status IN ('failed', 'retrying') AND last_detail <> '';
UPDATE feed_deliveries SET detail = 'failed (the details of results before this version are not kept)'
 WHERE status IN ('failed', 'retrying') AND detail <> '';
UPDATE agent_event_attempts SET error = 'failed (the details of results before this version are not kept)'
 WHERE error <> '';
UPDATE agent_events SET last_error = 'failed (the details of results before this version are not kept)'
 WHERE last_error <> '';

-- +goose Down
-- Nothing to restore: the old text is gone.
SELECT 1;
