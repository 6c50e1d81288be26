-- Billing through Shopify (issue 19). Same tables, trigger and meaning as
-- postgres/00020_billing.sql.

-- +goose Up
CREATE TABLE billing_orders (
    shop_id         INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    session_id      TEXT     NOT NULL,
    created_at      DATETIME NOT NULL,
    charge          TEXT     NOT NULL DEFAULT 'pending',
    usage_record_id TEXT     NOT NULL DEFAULT '',
    updated_at      DATETIME,
    PRIMARY KEY (shop_id, session_id)
);
CREATE INDEX billing_orders_month_idx ON billing_orders (shop_id, created_at);
CREATE INDEX billing_orders_pending_idx ON billing_orders (created_at) WHERE charge = 'pending';

-- +goose StatementBegin
CREATE TRIGGER agent_events_count_order AFTER INSERT ON agent_events
FOR EACH ROW WHEN NEW.type = 'order_create'
BEGIN
    INSERT INTO billing_orders (shop_id, session_id, created_at)
    VALUES (NEW.shop_id, NEW.session_id, NEW.created_at)
    ON CONFLICT DO NOTHING;
END;
-- +goose StatementEnd

CREATE TABLE shop_billing (
    shop_id            INTEGER  PRIMARY KEY REFERENCES shops (id) ON DELETE CASCADE,
    subscription_id    TEXT     NOT NULL DEFAULT '',
    name               TEXT     NOT NULL DEFAULT '',
    status             TEXT     NOT NULL DEFAULT '',
    test               BOOLEAN  NOT NULL DEFAULT FALSE,
    currency           TEXT     NOT NULL DEFAULT '',
    recurring_amount   TEXT     NOT NULL DEFAULT '',
    usage_line_item_id TEXT     NOT NULL DEFAULT '',
    usage_cap          TEXT     NOT NULL DEFAULT '',
    usage_used         TEXT     NOT NULL DEFAULT '',
    period_end         DATETIME,
    checked_at         DATETIME NOT NULL
);

-- +goose Down
DROP TABLE shop_billing;
DROP TRIGGER agent_events_count_order;
DROP TABLE billing_orders;
