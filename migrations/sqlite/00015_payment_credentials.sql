-- Payment is a seam (issue 14): payment credentials per shop and provider,
-- and the shop's completion method. Same tables, columns and data moves as
-- postgres/00015_payment_credentials.sql (which says why).

-- +goose Up
CREATE TABLE payment_credentials (
    shop_id            INTEGER  NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    provider           TEXT     NOT NULL,
    account_id         TEXT     NOT NULL DEFAULT '',
    credentials_sealed TEXT     NOT NULL,
    verified_at        DATETIME,
    updated_at         DATETIME NOT NULL,
    PRIMARY KEY (shop_id, provider)
);

ALTER TABLE acp_settings ADD COLUMN completion_method TEXT NOT NULL DEFAULT 'delegated_payment';
ALTER TABLE acp_settings ADD COLUMN payment_provider TEXT NOT NULL DEFAULT '';

INSERT INTO payment_credentials (shop_id, provider, account_id, credentials_sealed, verified_at, updated_at)
SELECT shop_id, 'stripe', stripe_account_id, stripe_key_sealed, stripe_verified_at, updated_at
  FROM acp_settings WHERE stripe_key_sealed IS NOT NULL AND stripe_key_sealed <> '';
UPDATE acp_settings SET payment_provider = 'stripe' WHERE stripe_key_sealed IS NOT NULL AND stripe_key_sealed <> '';

UPDATE checkout_sessions
   SET state = json_set(json_remove(state, '$.stripe_account_id'), '$.payment_handlers', json_array(json_object(
       'ID', 'card_tokenized', 'Name', 'dev.acp.tokenized.card', 'DisplayName', 'Card', 'Version', '2026-01-22',
       'Spec', 'https://acp.dev/handlers/tokenized.card', 'RequiresDelegatePayment', json('true'), 'RequiresPCICompliance', json('false'),
       'PSP', 'stripe', 'ConfigSchema', 'https://acp.dev/schemas/handlers/tokenized.card/config.json',
       'InstrumentSchemas', json_array('https://acp.dev/schemas/handlers/tokenized.card/instrument.json'),
       'Config', json_object('merchant_id', json_extract(state, '$.stripe_account_id'), 'psp', 'stripe'))))
 WHERE json_extract(state, '$.stripe_account_id') <> '';

ALTER TABLE acp_settings DROP COLUMN stripe_key_sealed;
ALTER TABLE acp_settings DROP COLUMN stripe_account_id;
ALTER TABLE acp_settings DROP COLUMN stripe_verified_at;

-- +goose Down
ALTER TABLE acp_settings ADD COLUMN stripe_key_sealed TEXT;
ALTER TABLE acp_settings ADD COLUMN stripe_account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE acp_settings ADD COLUMN stripe_verified_at DATETIME;
UPDATE acp_settings SET
    stripe_key_sealed = (SELECT c.credentials_sealed FROM payment_credentials c WHERE c.shop_id = acp_settings.shop_id AND c.provider = 'stripe'),
    stripe_account_id = COALESCE((SELECT c.account_id FROM payment_credentials c WHERE c.shop_id = acp_settings.shop_id AND c.provider = 'stripe'), ''),
    stripe_verified_at = (SELECT c.verified_at FROM payment_credentials c WHERE c.shop_id = acp_settings.shop_id AND c.provider = 'stripe');
UPDATE checkout_sessions
   SET state = json_set(json_remove(state, '$.payment_handlers'), '$.stripe_account_id', json_extract(state, '$.payment_handlers[0].Config.merchant_id'))
 WHERE json_extract(state, '$.payment_handlers[0].PSP') = 'stripe';
ALTER TABLE acp_settings DROP COLUMN payment_provider;
ALTER TABLE acp_settings DROP COLUMN completion_method;
DROP TABLE payment_credentials;
