// Package feeds is the product-feed capability (feeds.go: the Service and
// its store port): the merchant's feed settings and rules (settings.go,
// rules.go), building the feed files from the synced catalog (build.go: a
// primary jsonl.gz pass published first, csv and tsv after it), serving
// them to agents' pull URL (serve.go), answering which variants agents
// may buy exactly as the feed publishes them (checkout_items.go),
// searching the published items for agents' discovery (search.go: the
// build's second pass stores each published item in feed_items,
// trigram-indexed), and
// pushing each published build to the shop's SFTP and ACP Feed API targets
// (deliveries.go).
//
// Not to be confused with app/feed, the standard-library-only format
// library this package drives (map a product to items, sanitise, validate,
// write jsonl/csv/tsv): app/feed knows nothing of shops or databases;
// feeds owns the use-cases, their store ports (FeedStore, DeliveryStore,
// implemented by app/store) and what the build_feed and push_feed jobs run
// (app/jobs' workers call it through interfaces of their own).
//
// New builds Feeds from its store and the job queue; NewDeliveries builds
// Deliveries from its store, the Feeds it pushes, the queue, the keyring
// and the outbound policy. A published build reaches the deliveries as
// push_feed jobs (one per enabled target, enqueued by Build), so Feeds holds
// no pointer to Deliveries.
//
// The records it reads and writes (FeedSettings, FeedRule, FeedBuild,
// FeedTarget, FeedDelivery, …) are shared vocabulary, declared in package
// app, because the catalog, checkout, the admin and the store use them too.
//
// Imports: package app (vocabulary), app/feed, app/delivery, app/secret,
// app/netguard and the standard library. Other capabilities reach it
// through interfaces they declare (catalog.FeedDefaults,
// checkout.ItemSource); only app/merchant (the admin's read model), web,
// app/service and the demo and load-driver stacks import it. It never
// imports web, app/store, app/jobs or app/service.
package feeds
