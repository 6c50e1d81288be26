package store

import (
	"context"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"

	"github.com/acpbridge/acpbridge/app"
)

// CountStatements counts the statements st sends through gorm from now on
// (BEGIN and COMMIT are not counted): gorm traces each once. Call it
// before st is in use by other goroutines.
func CountStatements(st *Store) *atomic.Int64 {
	n := &atomic.Int64{}
	st.db.Logger = countingLogger{Interface: st.db.Logger, n: n}
	return n
}

type countingLogger struct {
	gormlogger.Interface
	n *atomic.Int64
}

func (l countingLogger) LogMode(level gormlogger.LogLevel) gormlogger.Interface {
	return countingLogger{l.Interface.LogMode(level), l.n}
}

func (l countingLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	l.n.Add(1)
	l.Interface.Trace(ctx, begin, fc, err)
}

func (l countingLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := l.Interface.(interface {
		ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any)
	}); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, nil
}

// CatalogOfVariantsByTable is CatalogOfVariants as SQLite reads it (a
// statement per table), for comparing its cost on PostgreSQL.
func CatalogOfVariantsByTable(st *Store, ctx context.Context, shopID int64, variantIDs []int64) (*app.CatalogPage, error) {
	page := &app.CatalogPage{Variants: map[int64][]app.CatalogVariant{}, Media: map[int64][]app.CatalogMedia{}, Collections: map[int64][]app.CatalogCollection{}}
	return page, st.catalogOfVariantsByTable(ctx, shopID, variantIDs, page)
}

// CatalogOfVariantsBefore is CatalogOfVariants as it was before issue 17's
// change (the products found first, then a statement per table), for
// comparing its cost.
func CatalogOfVariantsBefore(s *Store, ctx context.Context, shopID int64, variantIDs []int64) (*app.CatalogPage, error) {
	page := &app.CatalogPage{Variants: map[int64][]app.CatalogVariant{}, Media: map[int64][]app.CatalogMedia{}, Collections: map[int64][]app.CatalogCollection{}}
	var productIDs []int64
	if err := s.conn(ctx).Model(&catalogVariantRow{}).Distinct("product_id").
		Where("shop_id = ? AND variant_id IN ?", shopID, variantIDs).Pluck("product_id", &productIDs).Error; err != nil {
		return nil, err
	}
	if len(productIDs) == 0 {
		return page, nil
	}
	in := func() *gorm.DB { return s.conn(ctx).Where("shop_id = ? AND product_id IN ?", shopID, productIDs) }
	var prows []catalogProductRow
	if err := in().Order("product_id").Find(&prows).Error; err != nil {
		return nil, err
	}
	for _, r := range prows {
		page.Products = append(page.Products, toAppCatalogProduct(r))
	}
	var vrows []catalogVariantRow
	if err := in().Order("product_id, position, variant_id").Find(&vrows).Error; err != nil {
		return nil, err
	}
	for _, r := range vrows {
		page.Variants[r.ProductID] = append(page.Variants[r.ProductID], toAppCatalogVariant(r))
	}
	var mrows []catalogMediaRow
	if err := in().Order("product_id, position").Find(&mrows).Error; err != nil {
		return nil, err
	}
	for _, r := range mrows {
		page.Media[r.ProductID] = append(page.Media[r.ProductID], toAppCatalogMedia(r))
	}
	var crows []catalogCollectionRow
	if err := in().Order("product_id, collection_id").Find(&crows).Error; err != nil {
		return nil, err
	}
	for _, r := range crows {
		page.Collections[r.ProductID] = append(page.Collections[r.ProductID], toAppCatalogCollection(r))
	}
	return page, nil
}

// CatalogOfVariantsJSONText runs the json aggregation alternative to
// catalogOfVariantsSQL on PostgreSQL and returns its text undecoded: only
// its cost to the database is compared.
func CatalogOfVariantsJSONText(s *Store, ctx context.Context, shopID int64, variantIDs []int64) (string, error) {
	const q = `WITH p AS (` + productsOfVariants + `)
SELECT json_build_object(
 'products', (SELECT json_agg(r ORDER BY product_id) FROM (SELECT product_id, handle, title, description_html, vendor, product_type, category,
   status, online_store_url, tags, shopify_updated_at FROM catalog_products WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)) r),
 'variants', (SELECT json_agg(r ORDER BY product_id, position, variant_id) FROM (SELECT variant_id, product_id, position, inventory_item_id, title, sku,
   barcode, price_minor, compare_at_minor, available_for_sale, inventory_quantity, inventory_policy, tracked, requires_shipping, taxable,
   weight_value, weight_unit, image_url, options FROM catalog_variants WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)) r),
 'media', (SELECT json_agg(r ORDER BY product_id, position, media_id) FROM (SELECT media_id, product_id, position, url, alt, width, height
   FROM catalog_media WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)) r),
 'collections', (SELECT json_agg(r ORDER BY product_id, collection_id) FROM (SELECT product_id, collection_id, title
   FROM catalog_collections WHERE shop_id = ? AND product_id IN (SELECT product_id FROM p)) r))::text`
	var out string
	err := s.conn(ctx).Raw(q, shopID, variantIDs, shopID, shopID, shopID, shopID).Row().Scan(&out)
	return out, err
}

// KeyedStatements are the statements that find a session or cart by its
// key (byShopKey), by name, for checking PostgreSQL's plans of them.
func KeyedStatements() map[string]string {
	return map[string]string{
		"beginCompletionSQL":   beginCompletionSQL,
		"recordCompletionSQL":  recordCompletionSQL(true, true),
		"claimBeginSQL":        claimBeginSQL,
		"claimAndReadSQL":      claimAndReadSQL,
		"claimAndSaveSQL":      claimAndSaveSQL,
		"saveAnsweredSQL":      saveAnsweredSQL,
		"a session by its key": "SELECT * FROM checkout_sessions WHERE " + byShopKey,
		"a cart by its key":    "UPDATE carts SET row_version = row_version + 1 WHERE " + byShopKey,
	}
}
