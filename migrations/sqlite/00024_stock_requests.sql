-- Stock refreshes asked for by inventory_levels/update, gathered per shop
-- (issue 17): every order sends one such delivery per line, and one
-- refresh job per inventory item cost a River job, a Shopify query and
-- about ten statements each. A delivery now records its item here (one
-- upsert, skipped when this process has recorded it in the same window),
-- and one job per shop and window reads every recorded item's stock in
-- one Shopify query, writes it in one statement and deletes the rows it
-- answered. version moves with each new request for an item, so a request
-- that arrives while the job reads Shopify survives the job's delete
-- (which names the versions it read) for the next window's job.
-- requested_at lets the sweep find a request no job is coming for (a
-- replica whose clock ran late recorded it as its window's job finished).

-- +goose Up
CREATE TABLE stock_requests (
    shop_id           BIGINT NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    inventory_item_id BIGINT NOT NULL,
    product_id        BIGINT NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1,
    requested_at      DATETIME NOT NULL,
    PRIMARY KEY (shop_id, inventory_item_id)
);

-- +goose Down
DROP TABLE stock_requests;
