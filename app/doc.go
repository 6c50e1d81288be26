// Package app is the shared vocabulary of acpbridge's capabilities: the
// records more than one of them reads or writes, and the few rules that
// come with them. It holds the Shop and its tokens' sealing (shop.go), the
// optional access scopes and the features each turns on (scopes.go), the
// authenticated Agent and its ACPSettings (agent.go), a shop's completion
// method, payment account and sealed payment credentials, stored per
// provider (payments.go), the synced catalog's
// rows and the Shopify ID and money parsers (catalog.go), the feed
// records (feeds.go), Error and its codes, which web maps to HTTP statuses
// (errors.go), which database to open (database.go), and the jobs'
// arguments and the Enqueuer that inserts them inside a transaction
// (jobargs.go). The process's configuration is app/config's.
//
// The use-cases live in the capability packages below it: app/shops,
// app/catalog, app/feeds, app/checkout, app/orderevents, app/agents,
// app/idempotency, app/maintenance, app/merchant, and the ACP pipeline
// app/acpapi (README's Architecture section maps them). They import this
// package; it imports none of them, only the standard library and the
// small libraries app/netguard and app/feed (and River, for the jobs'
// insert options). Something belongs here only when two capabilities (or a
// capability and an adapter) need the same name; otherwise it belongs to
// its capability.
package app
