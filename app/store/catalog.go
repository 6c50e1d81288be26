package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/app"
)

type catalogProductRow struct {
	ShopID           int64 `gorm:"primaryKey"`
	ProductID        int64 `gorm:"primaryKey"`
	Handle           string
	Title            string
	DescriptionHTML  string `gorm:"column:description_html"`
	Vendor           string
	ProductType      string
	Category         string
	Status           string
	OnlineStoreURL   string `gorm:"column:online_store_url"`
	Tags             string
	ShopifyUpdatedAt *time.Time
	Generation       int64
	SyncedAt         time.Time
}

func (catalogProductRow) TableName() string { return "catalog_products" }

type catalogVariantRow struct {
	ShopID            int64 `gorm:"primaryKey"`
	VariantID         int64 `gorm:"primaryKey"`
	ProductID         int64
	Position          int64
	InventoryItemID   int64
	Title             string
	SKU               string `gorm:"column:sku"`
	Barcode           string
	PriceMinor        int64
	CompareAtMinor    int64
	AvailableForSale  bool
	InventoryQuantity int64
	InventoryPolicy   string
	Tracked           bool
	RequiresShipping  bool
	Taxable           bool
	WeightValue       float64
	WeightUnit        string
	ImageURL          string `gorm:"column:image_url"`
	Options           string
	Generation        int64
}

func (catalogVariantRow) TableName() string { return "catalog_variants" }

type catalogMediaRow struct {
	ShopID     int64 `gorm:"primaryKey"`
	MediaID    int64 `gorm:"primaryKey"`
	ProductID  int64
	Position   int64
	URL        string `gorm:"column:url"`
	Alt        string
	Width      int
	Height     int
	Generation int64
}

func (catalogMediaRow) TableName() string { return "catalog_media" }

type catalogCollectionRow struct {
	ShopID       int64 `gorm:"primaryKey"`
	ProductID    int64 `gorm:"primaryKey"`
	CollectionID int64 `gorm:"primaryKey"`
	Title        string
	Generation   int64
}

func (catalogCollectionRow) TableName() string { return "catalog_collections" }

// UpsertCatalog writes a batch of catalog rows for the shop, marking them
// with the sync generation, in one transaction. A full sync writes through
// SaveSyncBatch instead.
func (s *Store) UpsertCatalog(ctx context.Context, shopID, generation int64, b *app.CatalogBatch) error {
	now := s.Now()
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.lockShopForCatalog(ctx, shopID); err != nil {
			return err
		}
		err := s.upsertRows(ctx, "catalog_products", productCols, []string{"shop_id", "product_id"}, len(b.Products), func(i int, dst []any) []any {
			p := &b.Products[i]
			tags, _ := json.Marshal(p.Tags)
			var updated any
			if p.ShopifyUpdatedAt != nil {
				updated = p.ShopifyUpdatedAt.UTC()
			}
			return append(dst, shopID, p.ProductID, p.Handle, p.Title, p.DescriptionHTML, p.Vendor, p.ProductType,
				p.Category, p.Status, p.OnlineStoreURL, string(tags), updated, generation, now)
		})
		if err != nil {
			return err
		}
		err = s.upsertRows(ctx, "catalog_variants", variantCols, []string{"shop_id", "variant_id"}, len(b.Variants), func(i int, dst []any) []any {
			v := &b.Variants[i]
			opts, _ := json.Marshal(v.Options)
			return append(dst, shopID, v.VariantID, v.ProductID, v.Position, v.InventoryItemID, v.Title, v.SKU, v.Barcode,
				v.PriceMinor, v.CompareAtMinor, v.AvailableForSale, v.InventoryQuantity, v.InventoryPolicy, v.Tracked,
				v.RequiresShipping, v.Taxable, v.WeightValue, v.WeightUnit, v.ImageURL, string(opts), generation)
		})
		if err != nil {
			return err
		}
		err = s.upsertRows(ctx, "catalog_media", mediaCols, []string{"shop_id", "media_id"}, len(b.Media), func(i int, dst []any) []any {
			m := &b.Media[i]
			return append(dst, shopID, m.MediaID, m.ProductID, m.Position, m.URL, m.Alt, m.Width, m.Height, generation)
		})
		if err != nil {
			return err
		}
		return s.upsertRows(ctx, "catalog_collections", collectionCols, []string{"shop_id", "product_id", "collection_id"}, len(b.Collections), func(i int, dst []any) []any {
			c := &b.Collections[i]
			return append(dst, shopID, c.ProductID, c.CollectionID, c.Title, generation)
		})
	})
}

// lockShopForCatalog checks that the shop exists and keeps it from being
// deleted until the transaction ends: on PostgreSQL the catalog tables have
// no foreign key to shops (migration 00004), so this is the check the key
// made for every row, made once. SQLite keeps its foreign keys.
func (s *Store) lockShopForCatalog(ctx context.Context, shopID int64) error {
	if s.kind != app.DatabasePostgres {
		return nil
	}
	var n int64
	err := s.conn(ctx).Raw("SELECT 1 FROM shops WHERE id = ? FOR KEY SHARE", shopID).Scan(&n).Error
	if err == nil && n != 1 {
		err = errNotFound()
	}
	return translate(err, fmt.Sprintf("shop %d", shopID))
}

// PruneCatalog deletes the shop's rows a completed full sync did not see
// (older generations): products deleted in Shopify since the last sync.
func (s *Store) PruneCatalog(ctx context.Context, shopID, generation int64) (int64, error) {
	var deleted int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		for _, m := range []any{&catalogProductRow{}, &catalogVariantRow{}, &catalogMediaRow{}, &catalogCollectionRow{}} {
			res := s.conn(ctx).Where("shop_id = ? AND generation < ?", shopID, generation).Delete(m)
			if res.Error != nil {
				return translate(res.Error, "prune catalog")
			}
			deleted += res.RowsAffected
		}
		return nil
	})
	return deleted, err
}

// ReplaceProduct writes one product as Shopify has it now (a products/*
// webhook): the product's rows are replaced, so variants, media and
// collections it no longer has disappear.
func (s *Store) ReplaceProduct(ctx context.Context, shopID, generation int64, b *app.CatalogBatch) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, p := range b.Products {
			if err := s.deleteProductRows(ctx, shopID, p.ProductID); err != nil {
				return err
			}
		}
		return s.UpsertCatalog(ctx, shopID, generation, b)
	})
}

// DeleteProduct removes a product and its rows (products/delete).
func (s *Store) DeleteProduct(ctx context.Context, shopID, productID int64) error {
	return s.InTx(ctx, func(ctx context.Context) error { return s.deleteProductRows(ctx, shopID, productID) })
}

func (s *Store) deleteProductRows(ctx context.Context, shopID, productID int64) error {
	for _, m := range []any{&catalogVariantRow{}, &catalogMediaRow{}, &catalogCollectionRow{}, &catalogProductRow{}} {
		if err := s.conn(ctx).Where("shop_id = ? AND product_id = ?", shopID, productID).Delete(m).Error; err != nil {
			return translate(err, "delete product")
		}
	}
	return nil
}

// ProductOfInventoryItem finds the product whose variant has the inventory
// item (inventory_levels/update names only the item).
func (s *Store) ProductOfInventoryItem(ctx context.Context, shopID, inventoryItemID int64) (int64, error) {
	var r catalogVariantRow
	err := s.conn(ctx).Select("product_id").Where("shop_id = ? AND inventory_item_id = ?", shopID, inventoryItemID).Take(&r).Error
	if err != nil {
		return 0, translate(err, "inventory item")
	}
	return r.ProductID, nil
}

// stockRequestRow is the stock_requests table.
type stockRequestRow struct {
	ShopID          int64 `gorm:"primaryKey"`
	InventoryItemID int64 `gorm:"primaryKey"`
	ProductID       int64
	Version         int64
	RequestedAt     time.Time
}

func (stockRequestRow) TableName() string { return "stock_requests" }

// RequestStock records that the inventory item's stock is to be refreshed
// (inventory_levels/update), or, when it already is, moves the request's
// version, so that a refresh reading Shopify now does not delete it: one
// statement.
func (s *Store) RequestStock(ctx context.Context, shopID, inventoryItemID, productID int64) error {
	err := s.conn(ctx).Exec(`INSERT INTO stock_requests (shop_id, inventory_item_id, product_id, version, requested_at) VALUES (?, ?, ?, 1, ?)
ON CONFLICT (shop_id, inventory_item_id) DO UPDATE SET version = stock_requests.version + 1, product_id = excluded.product_id,
  requested_at = excluded.requested_at`,
		shopID, inventoryItemID, productID, s.Now()).Error
	return translate(err, "request stock")
}

// StockRequests returns up to limit of the shop's stock requests, oldest
// items first (by item id: there is no order to keep).
func (s *Store) StockRequests(ctx context.Context, shopID int64, limit int) ([]app.StockRequest, error) {
	var rows []stockRequestRow
	if err := s.conn(ctx).Where("shop_id = ?", shopID).Order("inventory_item_id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "stock requests")
	}
	out := make([]app.StockRequest, len(rows))
	for i, r := range rows {
		out[i] = app.StockRequest{InventoryItemID: r.InventoryItemID, ProductID: r.ProductID, Version: r.Version}
	}
	return out, nil
}

// FinishStockRequests deletes the shop's requests as they were read (a
// request asked for again since has another version and stays), and
// reports whether any request of the shop is left.
func (s *Store) FinishStockRequests(ctx context.Context, shopID int64, done []app.StockRequest) (left bool, err error) {
	if len(done) > 0 {
		var b strings.Builder
		args := []any{shopID}
		// SQLite takes a row value's IN list only as a subquery: VALUES.
		b.WriteString("DELETE FROM stock_requests WHERE shop_id = ? AND (inventory_item_id, version) IN (VALUES ")
		for i, r := range done {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(CAST(? AS BIGINT), CAST(? AS BIGINT))")
			args = append(args, r.InventoryItemID, r.Version)
		}
		b.WriteString(")")
		if err := s.conn(ctx).Exec(b.String(), args...).Error; err != nil {
			return false, translate(err, "finish stock requests")
		}
	}
	var n int64
	if err := s.conn(ctx).Model(&stockRequestRow{}).Where("shop_id = ?", shopID).Limit(1).Count(&n).Error; err != nil {
		return false, translate(err, "finish stock requests: count")
	}
	return n > 0, nil
}

// ShopsWithStockRequests returns the domains of the active shops holding a
// stock request made before cutoff (which its window's job should have
// answered).
func (s *Store) ShopsWithStockRequests(ctx context.Context, cutoff time.Time) ([]string, error) {
	var domains []string
	err := s.conn(ctx).Raw(`SELECT DISTINCT shops.domain FROM stock_requests JOIN shops ON shops.id = stock_requests.shop_id
WHERE stock_requests.requested_at < ? AND shops.status = ? ORDER BY shops.domain`, cutoff.UTC(), string(app.ShopActive)).Scan(&domains).Error
	return domains, translate(err, "shops with stock requests")
}

// SetVariantsStock writes the variants' stock in one statement and returns
// the ids of the variants the shop's catalog has (the others are not
// ours, or no longer).
func (s *Store) SetVariantsStock(ctx context.Context, shopID int64, stock []app.VariantStock) ([]int64, error) {
	if len(stock) == 0 {
		return nil, nil
	}
	// A derived table of typed rows both dialects read alike (SQLite has
	// UPDATE … FROM since 3.33).
	var b strings.Builder
	args := make([]any, 0, 3*len(stock)+1)
	b.WriteString("UPDATE catalog_variants SET inventory_quantity = x.q, available_for_sale = x.a FROM (")
	for i, v := range stock {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		b.WriteString("SELECT CAST(? AS BIGINT) AS id, CAST(? AS BIGINT) AS q, CAST(? AS BOOLEAN) AS a")
		args = append(args, v.VariantID, v.Quantity, v.Available)
	}
	b.WriteString(") AS x WHERE catalog_variants.shop_id = ? AND catalog_variants.variant_id = x.id RETURNING catalog_variants.variant_id")
	args = append(args, shopID)
	var found []int64
	if err := s.conn(ctx).Raw(b.String(), args...).Scan(&found).Error; err != nil {
		return nil, translate(err, "set variants stock")
	}
	return found, nil
}

// CatalogCounts counts the shop's synced products and variants.
func (s *Store) CatalogCounts(ctx context.Context, shopID int64) (products, variants int64, err error) {
	if err = s.conn(ctx).Model(&catalogProductRow{}).Where("shop_id = ?", shopID).Count(&products).Error; err != nil {
		return 0, 0, translate(err, "count products")
	}
	if err = s.conn(ctx).Model(&catalogVariantRow{}).Where("shop_id = ?", shopID).Count(&variants).Error; err != nil {
		return 0, 0, translate(err, "count variants")
	}
	return products, variants, nil
}

// CatalogPages walks the shop's catalog in product id order, a page of up
// to pageSize products at a time with their variants, media and
// collections, calling fn for each. Each page is four short queries (no
// open cursors across pages), so memory stays bounded by a page (three on
// PostgreSQL, which reads the next pages ahead while fn runs; see
// catalogPagesAhead) and the single SQLite connection is never held.
func (s *Store) CatalogPages(ctx context.Context, shopID int64, pageSize int, fn func(*app.CatalogPage) error) error {
	if _, inTx := SQLTx(ctx); s.kind == app.DatabasePostgres && !inTx {
		return s.catalogPagesAhead(ctx, shopID, pageSize, fn)
	}
	after := int64(0)
	for {
		var prows []catalogProductRow
		if err := s.conn(ctx).Where("shop_id = ? AND product_id > ?", shopID, after).
			Order("product_id").Limit(pageSize).Find(&prows).Error; err != nil {
			return translate(err, "catalog page")
		}
		if len(prows) == 0 {
			return nil
		}
		lo, hi := prows[0].ProductID, prows[len(prows)-1].ProductID
		page := &app.CatalogPage{
			Products:    make([]app.CatalogProduct, len(prows)),
			Variants:    map[int64][]app.CatalogVariant{},
			Media:       map[int64][]app.CatalogMedia{},
			Collections: map[int64][]app.CatalogCollection{},
		}
		for i, r := range prows {
			page.Products[i] = toAppCatalogProduct(r)
		}
		inRange := func(q *gorm.DB) *gorm.DB {
			return q.Where("shop_id = ? AND product_id BETWEEN ? AND ?", shopID, lo, hi)
		}
		if err := s.pageVariants(ctx, shopID, lo, hi, page.Variants); err != nil {
			return err
		}
		var mrows []catalogMediaRow
		if err := inRange(s.conn(ctx)).Order("product_id, position").Find(&mrows).Error; err != nil {
			return translate(err, "catalog page media")
		}
		for _, r := range mrows {
			page.Media[r.ProductID] = append(page.Media[r.ProductID], app.CatalogMedia{
				MediaID: r.MediaID, ProductID: r.ProductID, Position: r.Position, URL: r.URL, Alt: r.Alt, Width: r.Width, Height: r.Height,
			})
		}
		var crows []catalogCollectionRow
		if err := inRange(s.conn(ctx)).Order("product_id, collection_id").Find(&crows).Error; err != nil {
			return translate(err, "catalog page collections")
		}
		for _, r := range crows {
			page.Collections[r.ProductID] = append(page.Collections[r.ProductID], app.CatalogCollection{ProductID: r.ProductID, CollectionID: r.CollectionID, Title: r.Title})
		}
		if err := fn(page); err != nil {
			return err
		}
		after = hi
	}
}

// pageVariants reads a page's variants with database/sql: variants are most
// of a catalog's rows, and gorm's reflection per row was the largest cost of
// a feed build after compression.
func (s *Store) pageVariants(ctx context.Context, shopID, lo, hi int64, into map[int64][]app.CatalogVariant) error {
	const q = `SELECT variant_id, product_id, position, inventory_item_id, title, sku, barcode, price_minor,
  compare_at_minor, available_for_sale, inventory_quantity, inventory_policy, tracked, requires_shipping, taxable,
  weight_value, weight_unit, image_url, options
FROM catalog_variants WHERE shop_id = ? AND product_id BETWEEN ? AND ? ORDER BY product_id, position, variant_id`
	rows, err := s.queryer(ctx).QueryContext(ctx, s.rebind(q), shopID, lo, hi)
	if err != nil {
		return translate(err, "catalog page variants")
	}
	defer rows.Close()
	for rows.Next() {
		var v app.CatalogVariant
		var opts string
		if err := rows.Scan(&v.VariantID, &v.ProductID, &v.Position, &v.InventoryItemID, &v.Title, &v.SKU, &v.Barcode,
			&v.PriceMinor, &v.CompareAtMinor, &v.AvailableForSale, &v.InventoryQuantity, &v.InventoryPolicy, &v.Tracked,
			&v.RequiresShipping, &v.Taxable, &v.WeightValue, &v.WeightUnit, &v.ImageURL, &opts); err != nil {
			return translate(err, "catalog page variants")
		}
		v.Options = decodeOptions([]byte(opts))
		into[v.ProductID] = append(into[v.ProductID], v)
	}
	return translate(rows.Err(), "catalog page variants")
}

func toAppCatalogProduct(r catalogProductRow) app.CatalogProduct {
	p := app.CatalogProduct{
		ProductID: r.ProductID, Handle: r.Handle, Title: r.Title, DescriptionHTML: r.DescriptionHTML,
		Vendor: r.Vendor, ProductType: r.ProductType, Category: r.Category, Status: r.Status,
		OnlineStoreURL: r.OnlineStoreURL, ShopifyUpdatedAt: utcPtr(r.ShopifyUpdatedAt),
	}
	p.Tags = decodeTags([]byte(r.Tags))
	return p
}

func toAppCatalogVariant(r catalogVariantRow) app.CatalogVariant {
	v := app.CatalogVariant{
		VariantID: r.VariantID, ProductID: r.ProductID, Position: r.Position, InventoryItemID: r.InventoryItemID,
		Title: r.Title, SKU: r.SKU, Barcode: r.Barcode, PriceMinor: r.PriceMinor, CompareAtMinor: r.CompareAtMinor,
		AvailableForSale: r.AvailableForSale, InventoryQuantity: r.InventoryQuantity, InventoryPolicy: r.InventoryPolicy,
		Tracked: r.Tracked, RequiresShipping: r.RequiresShipping, Taxable: r.Taxable, WeightValue: r.WeightValue,
		WeightUnit: r.WeightUnit, ImageURL: r.ImageURL,
	}
	_ = json.Unmarshal([]byte(r.Options), &v.Options)
	return v
}
