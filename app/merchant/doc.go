// Package merchant is the merchant's side of the app as the embedded admin
// shows it: the onboarding checklist and overview, the products table with
// each product's feed status, feed health, agent orders and their timeline,
// the test checkout and test event, and the sales-channel check
// (ShopifyChannels). Its types are view models for web's admin pages; the
// writes it offers are thin steps over the capabilities that own the data
// (a rule change is saved here, then a build is requested from the catalog).
//
// One file per page: overview.go (the checklist), products.go (the
// products table, rules and overrides), orders.go (agent orders and their
// timeline), feedhealth.go (feed health, settings and targets), checks.go
// (the test event and the test checkout), channels.go (sales channels);
// admin.go holds the Admin itself. New builds the Admin from its store
// and the capabilities it reads, all built before it; the sales-channel
// check (NewChannels) is an option.
//
// It owns the AdminStore port (app/store implements it) and the view types
// (ProductQuery, ProductRow, Overview, AgentOrder, FeedHealth, …).
//
// Imports: the shared vocabulary (package app), app/feed and acp, and,
// being the one read model over every capability, their public use-cases
// (feeds.Service, feeds.Deliveries, catalog.Syncer, agents.Access,
// orderevents.Service, checkout.Sessions). No package
// of the app imports merchant except web (its pages), app/store (the
// port's types) and app/service (wiring). It never imports web, app/store,
// app/jobs or app/service.
package merchant
