// Package maintenance is the periodic housekeeping jobs' work: every 15
// seconds, the sweep (Housekeeping.SweepCompletions) hands the checkout
// completions left with no driver (lease lapsed) to the resume job; hourly
// (Housekeeping.Maintain), pruning revoked API keys, expired OAuth states, old
// webhook deliveries and expired idempotency keys; re-sealing, under the
// current encryption key, every secret at rest still sealed under a
// retired one (Resealer: shop tokens, feed target secrets, agent signing
// and webhook secrets, payment credentials, and, through the store's
// ResealPersonalData, buyers' personal data, stored idempotency answers
// and data-request exports, sealing too what rows from before migration
// 00022 hold in plaintext; reseal.go); forgetting buyers' personal data
// and data-request exports past the retention (forgetBuyers); handing completions that
// stood still back to the resume job; expiring the checkout sessions
// handed to Shopify's checkout that outlived their expiry unread
// (SessionExpirer, checkout.Sessions, so their draft orders are deleted);
// and SQLite's PRAGMA optimize.
//
// New builds it from its store, the job queue (the resume jobs go there)
// and a Resealer (NewResealer); the logger, clock and session expirer are
// options.
//
// It owns the MaintenanceStore and ResealStore ports (app/store implements
// them). It knows each sealed secret through the AADs the vocabulary
// declares (app.AccessTokenAAD, app.FeedTargetAAD, app.PaymentCredentialsAAD, …),
// not through the capabilities that seal them.
//
// Imports: package app (vocabulary, job arguments), app/secret and the
// standard library. It never imports web, app/store, app/jobs, app/service
// or a capability.
package maintenance
