// Package shops is the app's connection to each Shopify shop: installs (App
// Bridge ID token exchanged for an offline token, or the authorization-code
// grant as the fallback), the sealed access and refresh tokens and their
// refresh under a per-shop lock (tokens.go), GraphQL Admin API calls with
// the shop's token (Shopify.Query, which other capabilities use as a
// shopify.Querier), and Shopify's webhooks: receiving and binding them
// (webhooks.go, webhookbind.go: HMAC over the body, headers bound to what
// the body says), then routing each stored delivery in its job to the
// catalog (CatalogEvents), to orders (OrderWebhooks), to the privacy
// requests (compliance, compliance.go) or to the uninstall, which Shopify
// confirms before a shop is deactivated (uninstall.go), or to the shop's
// granted scopes (app/scopes_update, and SyncScopes after a grant in the
// admin; scopes.go), which turn the optional features (app.OptionalFeatures)
// on and off.
//
// It owns the ShopifyStore port (app/store implements it) and the
// interfaces through which it tells other capabilities what Shopify said
// (CatalogEvents, implemented by catalog.Syncer; OrderWebhooks, by
// orderevents.Service). The connection (New) knows none of them: the
// catalog and orders call it, so it is built first. What the Shopify jobs
// run (shopify_webhook, shop_installed) is ShopifyWebhooks (NewWebhooks),
// built last over the connection, the catalog and the order events: it
// routes each stored delivery and hands a new shop's profile to the
// catalog. Its ReceiveWebhook processes the cheap topics (InlineTopics)
// in the request that stores them, without a job; what that leaves
// unprocessed, SweepWebhooks (a periodic job) hands to a shopify_webhook
// job once its claim has passed (inline.go). The Shop record, ShopProfile and the token AADs are vocabulary
// in package app.
//
// Imports: package app (vocabulary), shopify (the protocol client),
// app/secret and the standard library. It never imports web, app/store,
// app/jobs, app/service or another capability.
package shops
