package feeds

import (
	"context"
	"strconv"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
)

// CheckoutItems maps the given variants of the shop exactly as a feed build
// would (rules, overrides, validation) and reports which of them agents may
// buy. Variants the catalog does not hold are absent from the result. sh
// is the shop as the caller has it (the request's authenticated shop, at
// most store.AuthCacheTTL old): the catalog rows, settings and rules are
// read with Store.CheckoutCatalog, one statement on PostgreSQL (issue 17:
// checkout pricing reloads them every few seconds per cart).
func (f *Service) CheckoutItems(ctx context.Context, sh *app.Shop, variantIDs []int64) (map[int64]app.CheckoutItem, error) {
	if len(variantIDs) == 0 {
		return map[int64]app.CheckoutItem{}, nil
	}
	page, saved, rs, err := f.Store.CheckoutCatalog(ctx, sh.ID, variantIDs)
	if err != nil {
		return nil, err
	}
	_, settings, fshop, idx := mappingInputs(sh, saved, rs)
	want := make(map[int64]bool, len(variantIDs))
	for _, id := range variantIDs {
		want[id] = true
	}
	out := make(map[int64]app.CheckoutItem, len(variantIDs))
	var items []feed.Item
	for _, p := range page.Products {
		ov := idx.Override(p.ProductID, page.Collections[p.ProductID])
		fp := ToFeedProduct(p, page, ov)
		// The feed lists an out-of-stock variant for search only; checkout
		// still takes it, so that the live check answers "out of stock" as
		// a message the agent can act on (it may be back in stock).
		checkoutOK := settings.EligibleCheckout && settings.EligibleSearch && (ov.CheckoutEligible == nil || *ov.CheckoutEligible)
		ok, reason := feed.Eligibility(fp)
		if !ok {
			for _, v := range page.Variants[p.ProductID] {
				if want[v.VariantID] {
					out[v.VariantID] = app.CheckoutItem{Variant: v, Reason: "the product is not sold through agents (" + reason + ")"}
				}
			}
			continue
		}
		items = feed.AppendItems(items[:0], fp, settings, fshop)
		for _, it := range items {
			id, err := strconv.ParseInt(it.ItemID, 10, 64)
			if err != nil || !want[id] {
				continue
			}
			ci := app.CheckoutItem{Item: it}
			for _, v := range page.Variants[p.ProductID] {
				if v.VariantID == id {
					ci.Variant = v
				}
			}
			switch {
			case feed.HasErrors(feed.Validate(it, settings.FieldNames)):
				ci.Reason = "the item is not in the published feed (it has validation errors)"
			case !it.IsEligibleCheckout && !(checkoutOK && it.Availability == feed.OutOfStock):
				ci.Reason = "the item is listed for search only, not for checkout"
			default:
				ci.Sellable = true
			}
			out[id] = ci
		}
	}
	return out, nil
}
