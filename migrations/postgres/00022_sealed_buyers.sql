-- Buyers' personal data sealed at rest (issue 19). A session's buyer,
-- fulfillment details (recipient, address) and order notes, and a cart's
-- buyer, move out of the plain state JSON into buyer_sealed: AES-256-GCM
-- under the keyring, bound to the row (app.BuyerAAD). buyer_index is the
-- blind index of the buyer's email (HMAC-SHA256 under a key derived from
-- the keyring; secret.Keyring.BlindIndex), by which customers/redact and
-- customers/data_request find a customer's rows without reading them.
-- A data request's export is kept sealed with its record (export_sealed).
--
-- Existing rows are not rewritten here (SQL cannot seal): the store reads
-- personal data from either place, the next save of a row seals it, and
-- the maintenance job seals what is left (store.SealPlainBuyers).
-- Same columns as sqlite/00022_sealed_buyers.sql.

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
