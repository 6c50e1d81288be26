-- Shopify webhooks: one event acts once. X-Shopify-Event-Id names the
-- event, the same across the deliveries (and webhook ids) of one event, so
-- a delivery of an event already stored for the shop and topic is a
-- redelivery. Rows from before the app required the header have no event
-- id, hence the partial index; rows that would clash lose theirs first
-- (the earliest keeps it), so the index can be built on any history.

-- +goose Up
UPDATE webhook_events SET event_id = ''
WHERE event_id <> '' AND id NOT IN (
    SELECT MIN(id) FROM webhook_events WHERE event_id <> '' GROUP BY shop, topic, event_id
);
CREATE UNIQUE INDEX webhook_events_event_idx ON webhook_events (shop, topic, event_id) WHERE event_id <> '';

-- +goose Down
DROP INDEX webhook_events_event_idx;
