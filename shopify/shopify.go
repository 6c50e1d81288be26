// Package shopify is the app's side of Shopify: it wraps go-shopify and the
// GraphQL Admin API, verifies what Shopify sends (OAuth callbacks, ID tokens,
// webhooks) and speaks the app's own types at its edge.
package shopify

// APIVersion is the Admin API version every call and every webhook payload
// uses; it matches [webhooks] api_version in shopify.app.toml and the schema
// in shared/shopify-admin-schema that our queries are validated against.
const APIVersion = "2026-10"
