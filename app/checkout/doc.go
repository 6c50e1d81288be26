// Package checkout is agents' checkout: ACP checkout sessions (create,
// update, get, cancel: checkout.go, their ACP view: checkout_view.go),
// pricing them live (pricing.go: our synced catalog and the merchant's
// rules for what may be sold, Shopify's draft-order calculation for tax,
// shipping and discounts, through ShopPricing, cached by CachedPricing),
// completing them (checkout_complete.go and complete.go: authorise the
// payment through the shop's payment provider (Payments, found in
// PaymentProviders by the provider of the shop's stored credentials;
// app/payment adapts Stripe to it), write the
// Shopify order through Orders (ShopifyOrders: orderCreate), capture;
// each step recorded before the next, resumed by a job after a crash), or,
// for a shop whose completion method is Shopify's checkout, handing the
// buyer to it (handoff.go: a payable session answers requires_escalation
// with continue_url = this app's link (handoff_continue.go), which, when
// the buyer follows it (Continue, GET /checkout/continue/{token} in web),
// writes a Shopify draft order through Drafts, ShopifyDrafts being
// Shopify's, once, and redirects to its invoice URL; complete is refused;
// a canceled or expired session's draft is deleted by the
// checkout_release_draft job; app/orderevents completes the session when
// the order comes back, through CompleteHandoff); and the
// ACP carts of those shops (carts.go: Carts, priced by the same Pricer,
// each buyable cart holding a draft order whose invoice URL is its
// continue_url, stored through CartStore). What
// happens after the sale (the signed order events sent to the agent's
// webhook, Shopify's refunds passed to the payment provider) is
// app/orderevents, which builds on the records here; checkout tells it of
// each completed order through OrderEvents, declared here, and never
// imports it.
//
// So an ACP create goes web/acp.go (REST glue) → acpapi.Pipeline.Run (the
// transport-free ACP pipeline) → Sessions.Create → Pricer.Quote (Pricing)
// → Store.CreateCheckoutSession (app/store); a complete goes
// Sessions.Complete → Completer: Payments.Authorize, then Orders.Create
// writes the Shopify order (the attempt saved through PaymentStore before
// it is sent), then Payments.Capture; the outcome, the session's status,
// the order_create event (prepared by OrderEvents) and the request's
// answer are written in one go (CompletionStore: one statement on
// PostgreSQL, a transaction on SQLite), as is the completion's beginning.
// A completion left with no driver is resumed by the
// checkout_resume_completion job that the periodic sweep
// (app/maintenance) enqueues.
// Every operation takes its caller explicitly (the authenticated
// *app.Agent: shop, API key, ACP settings), never from the context.
// Retried POSTs are answered before they reach this package, by the
// pipeline's idempotency step (app/idempotency).
//
// Each part is built by its constructor (new.go: New, NewCompleter,
// NewPricing, and the Shopify adapters, NewShopifyDrafts among them), which takes what the part cannot
// work without as arguments and the rest as options; the order events
// (orderevents.New) are built first and handed to New.
//
// It owns its ports (Store, CartStore, PaymentStore, implemented by
// app/store) and the records they carry (Session, State, Cart, CartState,
// Quote, Payment, …).
//
// Imports: package app (vocabulary: Shop, Agent, Error, feed records),
// acp, shopify, app/feed, app/secret, app/internal/ttlcache, River's job
// options and the standard library. What it needs of the feeds capability goes through
// ItemSource (declared here), and what it needs of a payment
// provider through Payments (app/payment implements it for Stripe, and
// app/service registers that as provider "stripe"). It never imports web, app/store,
// app/jobs, app/service or another capability.
package checkout
