-- ACP carts (2026-04-17 cart capability, issue 15): an agent's basket,
-- priced like a session, whose Shopify draft order is where the buyer
-- continues. Carts have no status: a canceled cart's row is deleted, an
-- expired one is deleted when next read (its draft released by the
-- checkout_release_draft job either way).

-- +goose Up
CREATE TABLE carts (
    id          TEXT        PRIMARY KEY,
    shop_id     BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The agent API key that created the cart (0: unknown).
    api_key_id  BIGINT      NOT NULL DEFAULT 0,
    currency    TEXT        NOT NULL,
    -- The cart's inputs, its last quote and its draft order, as JSON
    -- (checkout.CartState).
    state       TEXT        NOT NULL,
    -- Optimistic concurrency: every write bumps it and checks the old value.
    row_version BIGINT      NOT NULL DEFAULT 1,
    expires_at  TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX carts_shop_created_idx ON carts (shop_id, created_at);
CREATE INDEX carts_expires_idx ON carts (expires_at);

-- +goose Down
DROP TABLE carts;
