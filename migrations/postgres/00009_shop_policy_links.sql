-- The shop's shipping policy and contact pages (Shopify's shopPolicies),
-- shown to agents as links of checkout sessions.

-- +goose Up
ALTER TABLE shops ADD COLUMN shipping_policy_url TEXT NOT NULL DEFAULT '';
ALTER TABLE shops ADD COLUMN contact_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE shops DROP COLUMN contact_url;
ALTER TABLE shops DROP COLUMN shipping_policy_url;
