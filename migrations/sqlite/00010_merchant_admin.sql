-- The merchant admin: which agent key opened each checkout session, when the
-- Stripe key was last verified and the agent webhook last tested, and an
-- index for the orders list and its 30-day chart.

-- +goose Up
ALTER TABLE checkout_sessions ADD COLUMN api_key_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acp_settings ADD COLUMN stripe_verified_at DATETIME;
ALTER TABLE acp_settings ADD COLUMN webhook_tested_at DATETIME;
ALTER TABLE acp_settings ADD COLUMN webhook_test_status INTEGER NOT NULL DEFAULT 0;
ALTER TABLE acp_settings ADD COLUMN webhook_test_error TEXT NOT NULL DEFAULT '';
CREATE INDEX checkout_payments_shop_created_idx ON checkout_payments (shop_id, created_at);

-- +goose Down
DROP INDEX checkout_payments_shop_created_idx;
ALTER TABLE acp_settings DROP COLUMN webhook_test_error;
ALTER TABLE acp_settings DROP COLUMN webhook_test_status;
ALTER TABLE acp_settings DROP COLUMN webhook_tested_at;
ALTER TABLE acp_settings DROP COLUMN stripe_verified_at;
ALTER TABLE checkout_sessions DROP COLUMN api_key_id;
