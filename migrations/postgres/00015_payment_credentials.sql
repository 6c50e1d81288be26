-- Payment is a seam (issue 14): a shop has a completion method, and its
-- credentials for a payment provider are stored per provider, sealed, with
-- the account they belong to, instead of in acp_settings' Stripe columns.
-- Stripe keys move as they are: their ciphertexts were sealed with the
-- additional data "stripe_key:<shop id>", which is what
-- app.PaymentCredentialsAAD gives for provider "stripe".
--
-- Checkout sessions kept the shop's Stripe account (state.stripe_account_id)
-- to show its payment handler; they now keep the handlers themselves
-- (state.payment_handlers, as app/payment's Stripe adapter builds them,
-- which is acp.StripeSPTHandler), so the sessions open during the upgrade
-- still show theirs.

-- +goose Up
CREATE TABLE payment_credentials (
    shop_id            BIGINT      NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
    -- The adapter's name, e.g. 'stripe'.
    provider           TEXT        NOT NULL,
    -- The provider's account the credentials belong to (acct_... for Stripe).
    account_id         TEXT        NOT NULL DEFAULT '',
    -- Sealed with the app's keyring like the Shopify tokens.
    credentials_sealed TEXT        NOT NULL,
    -- When the provider last accepted them.
    verified_at        TIMESTAMPTZ,
    updated_at         TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (shop_id, provider)
);

-- How agent checkouts complete, and which provider's credentials delegated
-- payment charges ('' until one is connected).
ALTER TABLE acp_settings ADD COLUMN completion_method TEXT NOT NULL DEFAULT 'delegated_payment';
ALTER TABLE acp_settings ADD COLUMN payment_provider TEXT NOT NULL DEFAULT '';

INSERT INTO payment_credentials (shop_id, provider, account_id, credentials_sealed, verified_at, updated_at)
SELECT shop_id, 'stripe', stripe_account_id, stripe_key_sealed, stripe_verified_at, updated_at
  FROM acp_settings WHERE stripe_key_sealed IS NOT NULL AND stripe_key_sealed <> '';
UPDATE acp_settings SET payment_provider = 'stripe' WHERE stripe_key_sealed IS NOT NULL AND stripe_key_sealed <> '';

UPDATE checkout_sessions
   SET state = ((state::jsonb - 'stripe_account_id') || jsonb_build_object('payment_handlers', jsonb_build_array(jsonb_build_object(
       'ID', 'card_tokenized', 'Name', 'dev.acp.tokenized.card', 'DisplayName', 'Card', 'Version', '2026-01-22',
       'Spec', 'https://acp.dev/handlers/tokenized.card', 'RequiresDelegatePayment', true, 'RequiresPCICompliance', false,
       'PSP', 'stripe', 'ConfigSchema', 'https://acp.dev/schemas/handlers/tokenized.card/config.json',
       'InstrumentSchemas', jsonb_build_array('https://acp.dev/schemas/handlers/tokenized.card/instrument.json'),
       'Config', jsonb_build_object('merchant_id', state::jsonb ->> 'stripe_account_id', 'psp', 'stripe')))))::text
 WHERE state::jsonb ->> 'stripe_account_id' <> '';

ALTER TABLE acp_settings DROP COLUMN stripe_key_sealed;
ALTER TABLE acp_settings DROP COLUMN stripe_account_id;
ALTER TABLE acp_settings DROP COLUMN stripe_verified_at;

-- +goose Down
ALTER TABLE acp_settings ADD COLUMN stripe_key_sealed TEXT;
ALTER TABLE acp_settings ADD COLUMN stripe_account_id TEXT NOT NULL DEFAULT '';
ALTER TABLE acp_settings ADD COLUMN stripe_verified_at TIMESTAMPTZ;
UPDATE acp_settings SET stripe_key_sealed = c.credentials_sealed, stripe_account_id = c.account_id, stripe_verified_at = c.verified_at
  FROM payment_credentials c WHERE c.shop_id = acp_settings.shop_id AND c.provider = 'stripe';
UPDATE checkout_sessions
   SET state = ((state::jsonb - 'payment_handlers')
       || jsonb_build_object('stripe_account_id', state::jsonb -> 'payment_handlers' -> 0 -> 'Config' ->> 'merchant_id'))::text
 WHERE state::jsonb -> 'payment_handlers' -> 0 ->> 'PSP' = 'stripe';
ALTER TABLE acp_settings DROP COLUMN payment_provider;
ALTER TABLE acp_settings DROP COLUMN completion_method;
DROP TABLE payment_credentials;
