package feeds

import (
	"context"
	"fmt"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
)

// SaveRule stores a product or collection rule (nil fields: no decision).
func (f *Service) SaveRule(ctx context.Context, r app.FeedRule) error {
	if r.Scope != app.RuleProduct && r.Scope != app.RuleCollection {
		return &app.Error{Code: app.CodeInvalid, Field: "scope", Message: `scope must be "product" or "collection"`}
	}
	if r.TargetID <= 0 {
		return &app.Error{Code: app.CodeInvalid, Field: "target_id", Message: "a product or collection id is required"}
	}
	if r.Scope == app.RuleCollection && (r.Title != nil || r.Description != nil || r.GTIN != nil || r.MPN != nil) {
		return &app.Error{Code: app.CodeInvalid, Field: "scope", Message: "titles, descriptions and identifiers are set per product, not per collection"}
	}
	for field, v := range map[string]*string{"title": r.Title, "description": r.Description, "category": r.Category, "gtin": r.GTIN, "mpn": r.MPN} {
		if v != nil && strings.TrimSpace(*v) == "" {
			return &app.Error{Code: app.CodeInvalid, Field: field, Message: "an override cannot be empty; remove it instead"}
		}
		if v != nil && len([]rune(*v)) > overrideMax[field] {
			return &app.Error{Code: app.CodeInvalid, Field: field, Message: fmt.Sprintf("%s must be at most %d characters", field, overrideMax[field])}
		}
	}
	if r.GTIN != nil {
		if _, ok := gtinDigits(*r.GTIN); !ok {
			return &app.Error{Code: app.CodeInvalid, Field: "gtin", Message: "a GTIN is 8, 12, 13 or 14 digits (UPC, EAN or ISBN)"}
		}
	}
	return f.Store.SaveFeedRule(ctx, r)
}

// overrideMax caps each override's length (the feed spec's limits).
var overrideMax = map[string]int{"title": 150, "description": 5000, "category": 750, "gtin": 20, "mpn": 70}

// gtinDigits strips spaces and hyphens from a GTIN and checks its length.
func gtinDigits(s string) (string, bool) {
	d := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(s))
	for _, r := range d {
		if r < '0' || r > '9' {
			return "", false
		}
	}
	switch len(d) {
	case 8, 12, 13, 14:
		return d, true
	}
	return "", false
}

// Rules indexes a shop's rules for merging.
type Rules struct {
	product    map[int64]app.FeedRule
	collection map[int64]app.FeedRule
}

// ProductRule is the product's own rule, if it has one.
func (r Rules) ProductRule(productID int64) (app.FeedRule, bool) {
	fr, ok := r.product[productID]
	return fr, ok
}

// CollectionRule is the collection's rule, if it has one.
func (r Rules) CollectionRule(collectionID int64) (app.FeedRule, bool) {
	fr, ok := r.collection[collectionID]
	return fr, ok
}

// Override merges the rules that apply to a product: its collections' first
// (any excluding collection excludes it; any collection turning checkout off
// turns it off), then the product's own, which win.
func (r Rules) Override(productID int64, cols []app.CatalogCollection) feed.Override {
	var ov feed.Override
	for _, c := range cols {
		cr, ok := r.collection[c.CollectionID]
		if !ok {
			continue
		}
		if cr.Exclude != nil && *cr.Exclude {
			ov.Exclude = true
		}
		if cr.CheckoutEligible != nil && (ov.CheckoutEligible == nil || !*cr.CheckoutEligible) {
			ov.CheckoutEligible = cr.CheckoutEligible
		}
		if cr.Category != nil && ov.Category == nil {
			ov.Category = cr.Category
		}
	}
	if pr, ok := r.product[productID]; ok {
		if pr.Exclude != nil {
			ov.Exclude = *pr.Exclude
		}
		if pr.CheckoutEligible != nil {
			ov.CheckoutEligible = pr.CheckoutEligible
		}
		if pr.Category != nil {
			ov.Category = pr.Category
		}
		ov.Title, ov.Description, ov.GTIN, ov.MPN = pr.Title, pr.Description, pr.GTIN, pr.MPN
	}
	return ov
}
