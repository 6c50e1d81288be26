package store

import (
	"context"
	"database/sql"

	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/app"
)

// CatalogOfVariants returns, as one catalog page, the products that hold
// the given variants (all of each product's variants, media and
// collections), so the checkout maps them exactly as a feed build would.
// It runs on every reload of a cart's items (checkout pricing, issue 17):
// on PostgreSQL it is one statement (catalogRowsSQL), on SQLite one
// per table, each finding the products by a subquery.
func (s *Store) CatalogOfVariants(ctx context.Context, shopID int64, variantIDs []int64) (*app.CatalogPage, error) {
	page := &app.CatalogPage{
		Variants:    map[int64][]app.CatalogVariant{},
		Media:       map[int64][]app.CatalogMedia{},
		Collections: map[int64][]app.CatalogCollection{},
	}
	if len(variantIDs) == 0 {
		return page, nil
	}
	var err error
	if s.kind == app.DatabaseSQLite {
		err = s.catalogOfVariantsByTable(ctx, shopID, variantIDs, page)
	} else {
		err = s.catalogRows(ctx, shopID, variantIDs, page, nil)
	}
	if err != nil {
		return nil, err
	}
	return page, nil
}

// productsOfVariants is the subquery of the products holding the variants
// (shop id and variant ids are its arguments).
const productsOfVariants = `SELECT product_id FROM catalog_variants WHERE shop_id = ? AND variant_id IN ?`

// catalogOfVariantsByTable reads the page with a statement per table.
func (s *Store) catalogOfVariantsByTable(ctx context.Context, shopID int64, variantIDs []int64, page *app.CatalogPage) error {
	in := func() *gorm.DB {
		return s.conn(ctx).Where("shop_id = ? AND product_id IN ("+productsOfVariants+")", shopID, shopID, variantIDs)
	}
	var prows []catalogProductRow
	if err := in().Order("product_id").Find(&prows).Error; err != nil {
		return translate(err, "catalog of variants: products")
	}
	if len(prows) == 0 {
		return nil
	}
	for _, r := range prows {
		page.Products = append(page.Products, toAppCatalogProduct(r))
	}
	var vrows []catalogVariantRow
	if err := in().Order("product_id, position, variant_id").Find(&vrows).Error; err != nil {
		return translate(err, "catalog of variants: variants")
	}
	for _, r := range vrows {
		page.Variants[r.ProductID] = append(page.Variants[r.ProductID], toAppCatalogVariant(r))
	}
	var mrows []catalogMediaRow
	if err := in().Order("product_id, position, media_id").Find(&mrows).Error; err != nil {
		return translate(err, "catalog of variants: media")
	}
	for _, r := range mrows {
		page.Media[r.ProductID] = append(page.Media[r.ProductID], toAppCatalogMedia(r))
	}
	var crows []catalogCollectionRow
	if err := in().Order("product_id, collection_id").Find(&crows).Error; err != nil {
		return translate(err, "catalog of variants: collections")
	}
	for _, r := range crows {
		page.Collections[r.ProductID] = append(page.Collections[r.ProductID], toAppCatalogCollection(r))
	}
	return nil
}

func toAppCatalogMedia(r catalogMediaRow) app.CatalogMedia {
	return app.CatalogMedia{MediaID: r.MediaID, ProductID: r.ProductID, Position: r.Position, URL: r.URL, Alt: r.Alt, Width: r.Width, Height: r.Height}
}

func toAppCatalogCollection(r catalogCollectionRow) app.CatalogCollection {
	return app.CatalogCollection{ProductID: r.ProductID, CollectionID: r.CollectionID, Title: r.Title}
}

// catalogRowsSQL reads the four tables' rows of the products holding the
// variants in one statement, as typed rows of one shape (kind 0 products,
// 1 variants, 2 media, 3 collections; a column a kind lacks is NULL), in
// the order the page lists them. Measured against a statement per table,
// it costs PostgreSQL less than half the CPU per read (TestCatalogOfVariantsCPU,
// docs/benchmarks.md): one parse, plan and round trip instead of four or
// five, the products found once, and less than json aggregation would.
// Its arguments: the shop id and the variant ids, then the shop id four
// times.
const catalogRowsSQL = `WITH p AS (` + productsOfVariants + `)
SELECT 0 AS kind, product_id, 0 AS id, 0 AS position, NULL::bigint AS n1, NULL::bigint AS n2, NULL::bigint AS n3, NULL::bigint AS n4,
  handle AS t1, title AS t2, description_html AS t3, vendor AS t4, product_type AS t5, category AS t6, status AS t7,
  online_store_url AS t8, tags AS t9, NULL::text AS t10, NULL::boolean AS b1, NULL::boolean AS b2, NULL::boolean AS b3,
  NULL::boolean AS b4, NULL::double precision AS f, shopify_updated_at AS ts
FROM catalog_products WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)
UNION ALL
SELECT 1, product_id, variant_id, position, inventory_item_id, price_minor, compare_at_minor, inventory_quantity,
  title, sku, barcode, inventory_policy, weight_unit, image_url, options, NULL, NULL, NULL,
  available_for_sale, tracked, requires_shipping, taxable, weight_value, NULL
FROM catalog_variants WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)
UNION ALL
SELECT 2, product_id, media_id, position, width, height, NULL, NULL,
  url, alt, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM catalog_media WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)
UNION ALL
SELECT 3, product_id, collection_id, 0, NULL, NULL, NULL, NULL,
  title, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM catalog_collections WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)`

// catalogRowsOrder orders catalogRowsSQL's rows as a page lists them.
const catalogRowsOrder = `
ORDER BY kind, product_id, position, id`

// feedRowsSQL adds to catalogRowsSQL the shop's feed settings (kind 4, no
// row when none are saved) and rules (kind 5): what mapping the items
// needs besides the shop. Its arguments: the shop id twice.
const feedRowsSQL = `
UNION ALL
SELECT 4, 0, 0, 0, return_window_days, NULL, NULL, NULL,
  seller_name, seller_url, store_country, target_countries, return_policy_url, privacy_policy_url, terms_url, brand_fallback,
  field_names, feed_token_hash, eligible_search, eligible_checkout, NULL, NULL, NULL, updated_at
FROM feed_settings WHERE shop_id = ?
UNION ALL
SELECT 5, 0, target_id, 0, NULL, NULL, NULL, NULL,
  scope, title, description, category, gtin, mpn, NULL, NULL, NULL, NULL, exclude, checkout_eligible, NULL, NULL, NULL, updated_at
FROM feed_rules WHERE shop_id = ?`

// catalogRows reads the rows of catalogRowsSQL, and of feedRowsSQL when
// fs is not nil, into page and fs (fs.set: a settings row came).
func (s *Store) catalogRows(ctx context.Context, shopID int64, variantIDs []int64, page *app.CatalogPage, fs *feedRows) error {
	q, args := catalogRowsSQL, []any{shopID, variantIDs, shopID, shopID, shopID, shopID}
	if fs != nil {
		q, args = q+feedRowsSQL, append(args, shopID, shopID)
	}
	rows, err := s.conn(ctx).Raw(q+catalogRowsOrder, args...).Rows()
	if err != nil {
		return translate(err, "catalog of variants")
	}
	defer rows.Close()
	var (
		kind, productID, id, position int64
		n                             [4]sql.NullInt64
		t                             [10]sql.NullString
		b                             [4]sql.NullBool
		f                             sql.NullFloat64
		ts                            sql.NullTime
	)
	dst := []any{&kind, &productID, &id, &position, &n[0], &n[1], &n[2], &n[3],
		&t[0], &t[1], &t[2], &t[3], &t[4], &t[5], &t[6], &t[7], &t[8], &t[9], &b[0], &b[1], &b[2], &b[3], &f, &ts}
	str := func(v sql.NullString) *string {
		if !v.Valid {
			return nil
		}
		return &v.String
	}
	boolean := func(v sql.NullBool) *bool {
		if !v.Valid {
			return nil
		}
		return &v.Bool
	}
	for rows.Next() {
		if err := rows.Scan(dst...); err != nil {
			return translate(err, "catalog of variants")
		}
		switch kind {
		case 0:
			r := catalogProductRow{ProductID: productID, Handle: t[0].String, Title: t[1].String, DescriptionHTML: t[2].String,
				Vendor: t[3].String, ProductType: t[4].String, Category: t[5].String, Status: t[6].String,
				OnlineStoreURL: t[7].String, Tags: t[8].String}
			if ts.Valid {
				at := ts.Time
				r.ShopifyUpdatedAt = &at
			}
			page.Products = append(page.Products, toAppCatalogProduct(r))
		case 1:
			r := catalogVariantRow{VariantID: id, ProductID: productID, Position: position, InventoryItemID: n[0].Int64,
				PriceMinor: n[1].Int64, CompareAtMinor: n[2].Int64, InventoryQuantity: n[3].Int64,
				Title: t[0].String, SKU: t[1].String, Barcode: t[2].String, InventoryPolicy: t[3].String, WeightUnit: t[4].String,
				ImageURL: t[5].String, Options: t[6].String,
				AvailableForSale: b[0].Bool, Tracked: b[1].Bool, RequiresShipping: b[2].Bool, Taxable: b[3].Bool, WeightValue: f.Float64}
			page.Variants[productID] = append(page.Variants[productID], toAppCatalogVariant(r))
		case 2:
			r := catalogMediaRow{MediaID: id, ProductID: productID, Position: position, Width: int(n[0].Int64), Height: int(n[1].Int64),
				URL: t[0].String, Alt: t[1].String}
			page.Media[productID] = append(page.Media[productID], toAppCatalogMedia(r))
		case 3:
			page.Collections[productID] = append(page.Collections[productID],
				toAppCatalogCollection(catalogCollectionRow{ProductID: productID, CollectionID: id, Title: t[0].String}))
		case 4:
			fs.set = true
			fs.settings = feedSettingsRow{ShopID: shopID, ReturnWindowDays: int(n[0].Int64),
				SellerName: t[0].String, SellerURL: t[1].String, StoreCountry: t[2].String, TargetCountries: t[3].String,
				ReturnPolicyURL: t[4].String, PrivacyPolicyURL: t[5].String, TermsURL: t[6].String, BrandFallback: t[7].String,
				FieldNames: t[8].String, FeedTokenHash: t[9].String, EligibleSearch: b[0].Bool, EligibleCheckout: b[1].Bool,
				UpdatedAt: ts.Time}
		case 5:
			fs.rules = append(fs.rules, feedRuleRow{ShopID: shopID, Scope: t[0].String, TargetID: id,
				Title: str(t[1]), Description: str(t[2]), Category: str(t[3]), GTIN: str(t[4]), MPN: str(t[5]),
				Exclude: boolean(b[0]), CheckoutEligible: boolean(b[1]), UpdatedAt: ts.Time})
		}
	}
	return translate(rows.Err(), "catalog of variants")
}

// feedRows are the feed settings and rules rows read with a catalog.
type feedRows struct {
	set      bool
	settings feedSettingsRow
	rules    []feedRuleRow
}

// result is the settings (nil when the shop saved none) and rules.
func (r *feedRows) result() (*app.FeedSettings, []app.FeedRule) {
	var fs *app.FeedSettings
	if r.set {
		fs = toAppFeedSettings(r.settings)
	}
	out := make([]app.FeedRule, len(r.rules))
	for i, fr := range r.rules {
		out[i] = toAppFeedRule(fr)
	}
	return fs, out
}

// CheckoutCatalog is what checkout pricing maps a cart's items from (issue
// 17: it runs on every reload of a cart's items): CatalogOfVariants' page,
// and the shop's feed settings (nil when it saved none) and rules. On
// PostgreSQL it is one statement; on SQLite CatalogOfVariants' statements
// and FeedSettingsAndRules'.
func (s *Store) CheckoutCatalog(ctx context.Context, shopID int64, variantIDs []int64) (*app.CatalogPage, *app.FeedSettings, []app.FeedRule, error) {
	page := &app.CatalogPage{
		Variants:    map[int64][]app.CatalogVariant{},
		Media:       map[int64][]app.CatalogMedia{},
		Collections: map[int64][]app.CatalogCollection{},
	}
	if s.kind == app.DatabaseSQLite {
		if len(variantIDs) > 0 {
			if err := s.catalogOfVariantsByTable(ctx, shopID, variantIDs, page); err != nil {
				return nil, nil, nil, err
			}
		}
		fs, rules, err := s.FeedSettingsAndRules(ctx, shopID)
		if err != nil {
			return nil, nil, nil, err
		}
		return page, fs, rules, nil
	}
	if len(variantIDs) == 0 {
		variantIDs = []int64{0} // no variant has id 0: the settings and rules alone
	}
	var fr feedRows
	if err := s.catalogRows(ctx, shopID, variantIDs, page, &fr); err != nil {
		return nil, nil, nil, err
	}
	fs, rules := fr.result()
	return page, fs, rules, nil
}
