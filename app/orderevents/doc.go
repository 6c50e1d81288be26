// Package orderevents is what happens after the sale: the shop's agent is
// kept told of its orders, and the money of Shopify's refunds and
// cancellations goes back through the shop's payment provider.
//
// Service records an order_create when a checkout completes
// (PrepareOrderCreated, called by checkout through its
// OrderEventPreparer interface: the event is stored by the write that
// completes the session, and its first attempt takes the shop's settings
// the completion read; OrderCreated stores it in a caller's transaction)
// and an order_update when
// Shopify reports a shipment, a refund or a cancellation (OrderWebhook,
// called by shops.ShopifyWebhooks through its OrderWebhooks interface,
// which for a refund or cancellation first refunds or releases the
// payment). For a session handed to Shopify's checkout (a
// Shopify-checkout shop's; checkout/handoff.go), OrderWebhook also hears
// the order come back (orders/create, orders/paid, draft_orders/update,
// handoff.go): it completes the session with the order
// (checkout.CompleteHandoff), keeps a payment record without a provider
// charge (checkout.HandoffPayment: later refunds stay Shopify's) and
// records the order_create, in the delivery's transaction, once. Each
// Event is stored with the exact body sent (the order in
// the session's ACP version, built by buildOrder), claimed for its first
// delivery attempt, which this process makes as soon as the storing
// transaction commits (inline.go), without a job; an attempt that fails,
// or is lost with its process, is handed by Sweep (a periodic job) to a
// delivery job (DeliverArgs, kind agent_event_deliver), which claims the
// event too (never two attempts at once). Each attempt POSTs it, signed
// (Sign, Verify: the Merchant-Signature header), to the shop's webhook
// URL and keeps the Attempt; River retries the job up to MaxAttempts
// times. SendTest posts a made-up event (TestSessionPrefix)
// from the admin's "Send a test event".
//
// The files: events.go (the records, the Store port, recording an event),
// order.go (the ACP order of a session and Shopify's news of it),
// handoff.go (orders paid at Shopify's checkout),
// deliver.go (sending and retrying), inline.go (the first attempt and the sweep), signature.go, webhooks.go (Shopify's
// order webhooks, refunds and cancellations), testevent.go, and new.go
// (New builds the Service). It owns the Store port (app/store implements
// it) and the records it carries (Event, Attempt).
//
// Imports: package app (vocabulary), acp (the order and its encodings),
// shopify (orders and order webhooks), app/checkout for the records it
// reads and acts on (Session, Payment, PaymentProviders and their opened
// credentials), app/delivery (describing failed sends), app/netguard (the
// outbound policy), app/secret and River's job options. It builds on
// checkout; checkout never imports it. It never imports web, app/store,
// app/jobs, app/service or another capability.
package orderevents
