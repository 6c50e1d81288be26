-- Buyers' personal data sealed at rest. Same columns and meaning as
-- postgres/00022_sealed_buyers.sql.

-- +goose Up
ALTER TABLE checkout_sessions ADD COLUMN buyer_sealed TEXT;
ALTER TABLE checkout_sessions ADD COLUMN buyer_index TEXT;
CREATE INDEX checkout_sessions_buyer_idx ON checkout_sessions (shop_id, buyer_index) WHERE buyer_index IS NOT NULL;
ALTER TABLE carts ADD COLUMN buyer_sealed TEXT;
ALTER TABLE carts ADD COLUMN buyer_index TEXT;
CREATE INDEX carts_buyer_idx ON carts (shop_id, buyer_index) WHERE buyer_index IS NOT NULL;
ALTER TABLE compliance_requests ADD COLUMN export_sealed TEXT;

-- +goose Down
ALTER TABLE compliance_requests DROP COLUMN export_sealed;
DROP INDEX carts_buyer_idx;
ALTER TABLE carts DROP COLUMN buyer_index;
ALTER TABLE carts DROP COLUMN buyer_sealed;
DROP INDEX checkout_sessions_buyer_idx;
ALTER TABLE checkout_sessions DROP COLUMN buyer_index;
ALTER TABLE checkout_sessions DROP COLUMN buyer_sealed;
