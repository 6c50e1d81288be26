// Package catalog keeps each shop's catalog in our tables: full syncs
// through Shopify bulk operations (sync.go: start, poll, download, ingest
// in batches, prune what the new generation did not see), incremental
// updates from product and inventory webhooks (updates.go), the daily
// reconciliation that heals missed ones, and the catalog's status for the
// admin (status.go). It reads a bulk export with BulkReader (bulk.go),
// whose hand-written line decoder (bulkjson.go, over the JSON scanning of
// bulkjson_scan.go) decodes exactly what encoding/json would, only faster
// (FuzzBulkLineDecoder checks the two agree).
//
// It owns the CatalogStore port (app/store implements it). The rows it
// writes (CatalogProduct, CatalogVariant, CatalogBatch, CatalogSync, …)
// and the ID and money parsers are shared vocabulary in package app: feeds,
// checkout, the admin and the store read them.
//
// Imports: package app (vocabulary, the Shopify connection it queries and
// the jobs' arguments), shopify (its GraphQL errors), River's job options
// (as every enqueuing use-case does today), app/internal/jsonescape and the
// standard library.
// What it asks of other capabilities goes through interfaces: the feeds
// capability through FeedDefaults (declared here); Shopify's news of
// installs and webhooks reaches it through shops.CatalogEvents, which
// Catalog implements (shops.ShopifyWebhooks calls it). New takes the
// store, the Admin API (shopify.Querier), the feeds and the job queue; a
// catalog change reaches the feed as a build_feed job. It never imports
// web, app/store, app/jobs or app/service.
package catalog
