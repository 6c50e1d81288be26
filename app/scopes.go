package app

import (
	"slices"
	"strings"
)

// Optional access scopes: declared in shopify.app.toml's optional_scopes,
// not granted at install, requested in context through App Bridge when the
// merchant wants the feature that needs one. Every other scope the app uses
// is required (app/config.DefaultScopes).
const (
	// ScopeReadPublications lists the shop's sales channels.
	ScopeReadPublications = "read_publications"
	// ScopeWriteCustomers lets orderCreate create or update the buyer's
	// Shopify customer (customer.toUpsert).
	ScopeWriteCustomers = "write_customers"
)

// Feature is something the app does only with an optional scope granted.
type Feature struct {
	Key   string // stable name, e.g. for the admin's data attributes
	Name  string // what the merchant calls it
	Scope string // the optional scope it needs
	// What says what the feature does; Without what happens while its
	// scope is not granted.
	What, Without string
}

// Features needing an optional scope.
var (
	// FeatureChannelCheck warns when Shopify's own agentic sales channel
	// may list the same products to agents (app/merchant's overview).
	FeatureChannelCheck = Feature{
		Key: "channel_check", Name: "Sales channel check", Scope: ScopeReadPublications,
		What:    "Warns you when Shopify's own ChatGPT sales channel may already list the same products to AI agents.",
		Without: "Your sales channels are not checked.",
	}
	// FeatureCustomerRecords saves an agent's buyer as the shop's
	// customer, with their name and phone (app/checkout's orderCreate).
	FeatureCustomerRecords = Feature{
		Key: "customer_records", Name: "Buyers as Shopify customers", Scope: ScopeWriteCustomers,
		What:    "Creates or updates the buyer's Shopify customer, with their name and phone, on each order an agent places.",
		Without: "Orders carry the buyer's email, phone and addresses; no customer record is created or updated with their name.",
	}
)

// OptionalFeatures lists every Feature, in the order the admin shows them.
var OptionalFeatures = []Feature{FeatureChannelCheck, FeatureCustomerRecords}

// HasScope reports whether a comma-separated list of granted scopes covers
// scope; a write_ scope covers its read_ scope, as on Shopify.
func HasScope(granted, scope string) bool {
	for g := range strings.SplitSeq(granted, ",") {
		g = strings.TrimSpace(g)
		if g == scope || (strings.HasPrefix(scope, "read_") && g == "write_"+strings.TrimPrefix(scope, "read_")) {
			return true
		}
	}
	return false
}

// HasScope reports whether the shop granted scope (see the function).
func (sh *Shop) HasScope(scope string) bool { return HasScope(sh.Scopes, scope) }

// FeatureOn reports whether the shop granted the scope f needs.
func (sh *Shop) FeatureOn(f Feature) bool { return sh.HasScope(f.Scope) }

// FeaturesOff lists the optional features whose scope the shop has not
// granted (or has taken back).
func (sh *Shop) FeaturesOff() []Feature {
	var off []Feature
	for _, f := range OptionalFeatures {
		if !sh.FeatureOn(f) {
			off = append(off, f)
		}
	}
	return off
}

// JoinScopes is the stored form of a list of scopes: trimmed, without
// empties or repeats, sorted, comma-separated.
func JoinScopes(scopes []string) string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return strings.Join(slices.Compact(out), ",")
}
