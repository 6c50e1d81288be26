-- Billing through Shopify (issue 19). Each agent order is counted once,
-- when its order_create event is stored: the trigger below runs in the
-- same statement or transaction that completes the session (whichever
-- path wrote it: the completion's one statement, SQLite's transaction, a
-- Shopify-checkout order coming back), so an order is counted exactly when
-- it exists, and a retried or replayed completion, which stores no second
-- order_create, is not counted again.
--
-- billing_orders.charge is what billing made of the order:
--   pending   not looked at yet (the sweep decides);
--   free      within the shop's free tier for its month;
--   charged   a usage record was created (usage_record_id);
--   unbilled  past the free tier but nothing to charge (no active plan when
--             the sweep looked, or the plan's cap was reached).
-- shop_billing is the shop's plan as last read from Shopify's
-- currentAppInstallation (one row per shop; none: never read).

-- +goose Up
CREATE TABLE billing_orders (
    shop_id         BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    session_id      TEXT        NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    charge          TEXT        NOT NULL DEFAULT 'pending',
    usage_record_id TEXT        NOT NULL DEFAULT '',
    updated_at      TIMESTAMPTZ,
    PRIMARY KEY (shop_id, session_id)
);
CREATE INDEX billing_orders_month_idx ON billing_orders (shop_id, created_at);
CREATE INDEX billing_orders_pending_idx ON billing_orders (created_at) WHERE charge = 'pending';

-- +goose StatementBegin
CREATE FUNCTION billing_count_order() RETURNS trigger AS $$
BEGIN
    INSERT INTO billing_orders (shop_id, session_id, created_at)
    VALUES (NEW.shop_id, NEW.session_id, NEW.created_at)
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
-- +goose StatementEnd

CREATE TRIGGER agent_events_count_order AFTER INSERT ON agent_events
    FOR EACH ROW WHEN (NEW.type = 'order_create') EXECUTE FUNCTION billing_count_order();

CREATE TABLE shop_billing (
    shop_id            BIGINT      PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    subscription_id    TEXT        NOT NULL DEFAULT '',
    name               TEXT        NOT NULL DEFAULT '',
    status             TEXT        NOT NULL DEFAULT '',
    test               BOOLEAN     NOT NULL DEFAULT FALSE,
    currency           TEXT        NOT NULL DEFAULT '',
    recurring_amount   TEXT        NOT NULL DEFAULT '',
    usage_line_item_id TEXT        NOT NULL DEFAULT '',
    usage_cap          TEXT        NOT NULL DEFAULT '',
    usage_used         TEXT        NOT NULL DEFAULT '',
    period_end         TIMESTAMPTZ,
    checked_at         TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE shop_billing;
DROP TRIGGER agent_events_count_order ON agent_events;
DROP FUNCTION billing_count_order();
DROP TABLE billing_orders;
