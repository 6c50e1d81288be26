package merchant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/app/feeds"
)

// Feed statuses of a product as the admin shows them.
const (
	ProductPublished = "published"
	ProductExcluded  = "excluded"
	ProductInvalid   = "invalid"
)

// ProductQuery selects a page of the products table.
type ProductQuery struct {
	Search       string // in title, vendor, handle or a variant's SKU
	Status       string // "", published, excluded, invalid
	CollectionID int64
	Page         int // from 1
	PageSize     int
	// ProductID selects one product (its own page).
	ProductID int64
	// LastBuildID is the build whose problems define "invalid" (set by
	// Admin, not the caller).
	LastBuildID int64
}

// MaxPageSize caps a products page.
const MaxPageSize = 100

// Normalize checks the query and fills in defaults.
func (q *ProductQuery) Normalize() error {
	q.Search = strings.TrimSpace(q.Search)
	if len([]rune(q.Search)) > 200 {
		return &app.Error{Code: app.CodeInvalid, Field: "q", Message: "search text must be at most 200 characters"}
	}
	switch q.Status {
	case "", ProductPublished, ProductExcluded, ProductInvalid:
	default:
		return &app.Error{Code: app.CodeInvalid, Field: "status", Message: "status must be published, excluded or invalid"}
	}
	if q.Page <= 0 {
		q.Page = 1
	}
	if q.Page > 100_000 {
		return &app.Error{Code: app.CodeInvalid, Field: "page", Message: "page is out of range"}
	}
	if q.PageSize <= 0 {
		q.PageSize = 25
	}
	q.PageSize = min(q.PageSize, MaxPageSize)
	return nil
}

// ProductRow is one product of the table with its feed status now (what
// the next build would do).
type ProductRow struct {
	Product     app.CatalogProduct
	Variants    []VariantRow
	Collections []app.CatalogCollection
	ImageURL    string
	Status      string
	Reasons     []string // why excluded or invalid, without repeats
	Checkout    bool     // at least one item is checkout-eligible
	Rule        *app.FeedRule
	MinPrice    int64
	MaxPrice    int64
	Currency    string
}

// VariantRow is a variant with its feed status.
type VariantRow struct {
	Variant  app.CatalogVariant
	Status   string
	Problems []feed.Problem
	Checkout bool
}

// ProductsPage is one page of the products table.
type ProductsPage struct {
	Query       ProductQuery
	Rows        []ProductRow
	Total       int64
	Collections []CollectionSummary
}

// Pages is the number of pages.
func (p *ProductsPage) Pages() int {
	return max(1, int((p.Total+int64(p.Query.PageSize)-1)/int64(p.Query.PageSize)))
}

// CollectionSummary is a collection with its product count and rule.
type CollectionSummary struct {
	CollectionID int64
	Title        string
	Products     int64
	Rule         *app.FeedRule
}

// Products reads a page of the products table, each with its feed status
// computed by the same mapping and validation as a build.
func (a *Admin) Products(ctx context.Context, shopID int64, q ProductQuery) (*ProductsPage, error) {
	if err := q.Normalize(); err != nil {
		return nil, err
	}
	if q.Status == ProductInvalid {
		if b, err := a.Store.LatestBuild(ctx, shopID, app.BuildPublished); err == nil {
			q.LastBuildID = b.ID
		} else if !errors.Is(err, app.ErrNotFound) {
			return nil, err
		}
	}
	page, total, err := a.Store.AdminProducts(ctx, shopID, q)
	if err != nil {
		return nil, err
	}
	rows, idx, err := a.productRows(ctx, shopID, page)
	if err != nil {
		return nil, err
	}
	cols, err := a.catalogCollections(ctx, shopID)
	if err != nil {
		return nil, err
	}
	for i := range cols {
		if r, ok := idx.CollectionRule(cols[i].CollectionID); ok {
			cols[i].Rule = &r
		}
	}
	return &ProductsPage{Query: q, Rows: rows, Total: total, Collections: cols}, nil
}

// Product is one product with its variants' feed status, for its page.
func (a *Admin) Product(ctx context.Context, shopID, productID int64) (*ProductRow, error) {
	page, _, err := a.Store.AdminProducts(ctx, shopID, ProductQuery{Page: 1, PageSize: 1, ProductID: productID})
	if err != nil {
		return nil, err
	}
	if len(page.Products) == 0 {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "no such product in this shop's catalog"}
	}
	rows, _, err := a.productRows(ctx, shopID, page)
	if err != nil {
		return nil, err
	}
	return &rows[0], nil
}

// productRows maps each product as a build would and sums up its status;
// it also gives the shop's rules it read, for the collections' decisions.
func (a *Admin) productRows(ctx context.Context, shopID int64, page *app.CatalogPage) ([]ProductRow, feeds.Rules, error) {
	sh, _, settings, fshop, idx, err := a.Feeds.FeedInputs(ctx, shopID)
	if err != nil {
		return nil, feeds.Rules{}, err
	}
	rows := make([]ProductRow, 0, len(page.Products))
	var items []feed.Item
	for _, p := range page.Products {
		ov := idx.Override(p.ProductID, page.Collections[p.ProductID])
		fp := feeds.ToFeedProduct(p, page, ov)
		row := ProductRow{Product: p, Collections: page.Collections[p.ProductID], Currency: sh.CurrencyCode}
		if r, ok := idx.ProductRule(p.ProductID); ok {
			row.Rule = &r
		}
		if m := page.Media[p.ProductID]; len(m) > 0 {
			row.ImageURL = m[0].URL
		}
		variants := page.Variants[p.ProductID]
		for i, v := range variants {
			if i == 0 || v.PriceMinor < row.MinPrice {
				row.MinPrice = v.PriceMinor
			}
			row.MaxPrice = max(row.MaxPrice, v.PriceMinor)
		}
		if ok, reason := feed.Eligibility(fp); !ok {
			row.Status, row.Reasons = ProductExcluded, []string{reason}
			for _, v := range variants {
				row.Variants = append(row.Variants, VariantRow{Variant: v, Status: ProductExcluded})
			}
			rows = append(rows, row)
			continue
		}
		items = feed.AppendItems(items[:0], fp, settings, fshop)
		published := 0
		for _, it := range items {
			vr := VariantRow{Status: ProductPublished, Checkout: it.IsEligibleCheckout}
			id, _ := strconv.ParseInt(it.ItemID, 10, 64)
			for _, v := range variants {
				if v.VariantID == id {
					vr.Variant = v
				}
			}
			vr.Problems = feed.Validate(it, settings.FieldNames)
			if feed.HasErrors(vr.Problems) {
				vr.Status, vr.Checkout = ProductInvalid, false
				for _, pr := range vr.Problems {
					if pr.Severity == feed.SeverityError {
						msg := pr.Field + ": " + pr.Message
						if !slices.Contains(row.Reasons, msg) {
							row.Reasons = append(row.Reasons, msg)
						}
					}
				}
			} else {
				published++
				row.Checkout = row.Checkout || vr.Checkout
			}
			row.Variants = append(row.Variants, vr)
		}
		if published > 0 {
			row.Status = ProductPublished
		} else {
			row.Status = ProductInvalid
		}
		rows = append(rows, row)
	}
	return rows, idx, nil
}

// MaxBulk caps how many products one bulk change may name.
const MaxBulk = 250

// ProductRuleChange is a merchant's include/exclude or checkout decision
// for several products or one collection. A nil field keeps the current
// decision; Clear removes the rule's decision (back to the default).
type ProductRuleChange struct {
	Scope    string
	IDs      []int64
	Exclude  *bool
	Checkout *bool
}

// ChangeRules applies one decision to each product (or collection) named,
// all or none.
func (a *Admin) ChangeRules(ctx context.Context, shopID int64, ch ProductRuleChange) error {
	if len(ch.IDs) == 0 {
		return &app.Error{Code: app.CodeInvalid, Field: "ids", Message: "select at least one product"}
	}
	if len(ch.IDs) > MaxBulk {
		return &app.Error{Code: app.CodeInvalid, Field: "ids", Message: fmt.Sprintf("at most %d products at once", MaxBulk)}
	}
	if ch.Exclude == nil && ch.Checkout == nil {
		return &app.Error{Code: app.CodeInvalid, Field: "exclude", Message: "choose include/exclude or checkout on/off"}
	}
	if ch.Scope != app.RuleProduct && ch.Scope != app.RuleCollection {
		return &app.Error{Code: app.CodeInvalid, Field: "scope", Message: `scope must be "product" or "collection"`}
	}
	known, err := a.Store.KnownTargets(ctx, shopID, ch.Scope, ch.IDs)
	if err != nil {
		return err
	}
	for _, id := range ch.IDs {
		if !known[id] {
			return &app.Error{Code: app.CodeNotFound, Field: "ids", Message: fmt.Sprintf("no %s %d in this shop's catalog", ch.Scope, id)}
		}
	}
	cur, err := a.Feeds.Store.FeedRules(ctx, shopID)
	if err != nil {
		return err
	}
	existing := map[int64]app.FeedRule{}
	for _, r := range cur {
		if r.Scope == ch.Scope {
			existing[r.TargetID] = r
		}
	}
	return a.Feeds.Store.InTx(ctx, func(ctx context.Context) error {
		for _, id := range ch.IDs {
			r, ok := existing[id]
			if !ok {
				r = app.FeedRule{ShopID: shopID, Scope: ch.Scope, TargetID: id}
			}
			if ch.Exclude != nil {
				r.Exclude = ch.Exclude
			}
			if ch.Checkout != nil {
				r.CheckoutEligible = ch.Checkout
			}
			r.UpdatedAt = a.now()
			if err := a.Feeds.SaveRule(ctx, r); err != nil {
				return err
			}
		}
		return a.Catalog.RequestBuild(ctx, shopID)
	})
}

// ProductOverrides are a product's field overrides; "" removes one.
type ProductOverrides struct {
	Title, Description, Category, GTIN, MPN string
}

// SaveOverrides replaces a product's field overrides, keeping its
// include/exclude and checkout decisions.
func (a *Admin) SaveOverrides(ctx context.Context, shopID, productID int64, o ProductOverrides) error {
	if _, err := a.Product(ctx, shopID, productID); err != nil {
		return err
	}
	cur, err := a.Feeds.Store.FeedRules(ctx, shopID)
	if err != nil {
		return err
	}
	r := app.FeedRule{ShopID: shopID, Scope: app.RuleProduct, TargetID: productID}
	for _, c := range cur {
		if c.Scope == app.RuleProduct && c.TargetID == productID {
			r = c
		}
	}
	opt := func(s string) *string {
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		return &s
	}
	r.Title, r.Description, r.Category, r.GTIN, r.MPN = opt(o.Title), opt(o.Description), opt(o.Category), opt(o.GTIN), opt(o.MPN)
	r.UpdatedAt = a.now()
	if err := a.Feeds.SaveRule(ctx, r); err != nil {
		return err
	}
	return a.Catalog.RequestBuild(ctx, shopID)
}
