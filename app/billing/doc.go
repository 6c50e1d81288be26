// Package billing is how acpbridge charges merchants, through Shopify's
// Billing API (an App Store app that charges must charge through
// Shopify): a free tier of agent orders each calendar month (UTC), then a
// plan the merchant approves in Shopify (one app subscription: a recurring
// fee every 30 days and a usage line item, capped, against which each
// agent order past the free tier is charged with appUsageRecordCreate).
//
// What it owns:
//   - the count: every agent order is counted once, when it is created
//     (the store's billing_orders, written by the database in the very
//     write that stores the session's order_create event, so a retried or
//     replayed completion is not counted again; migrations 00020);
//   - the gate (AdmitOrder, called by checkout at create and before a
//     complete charges anything): a shop past its free tier without an
//     active plan is refused with a precise error and nothing is made;
//   - the charges (Sweep, run by the periodic inline sweep): each counted
//     order is marked free or charged once, the usage record created with
//     an idempotency key derived from the order, so a retry never charges
//     twice;
//   - the plan (Upgrade: appSubscriptionCreate and its confirmationUrl;
//     Refresh: the shop's active subscription read back from
//     currentAppInstallation and kept in shop_billing).
//
// It imports app and the shopify protocol library, and no other
// capability; app/store implements its Store, app/service builds it and
// hands it to checkout as checkout.Admission and to the admin.
package billing
