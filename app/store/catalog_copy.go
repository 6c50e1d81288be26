package store

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/acpbridge/acpbridge/app"
)

// The catalog tables' columns, in the order UpsertCatalog and the COPY
// path write them.
var (
	productCols = []string{"shop_id", "product_id", "handle", "title", "description_html", "vendor", "product_type", "category",
		"status", "online_store_url", "tags", "shopify_updated_at", "generation", "synced_at"}
	variantCols = []string{"shop_id", "variant_id", "product_id", "position", "inventory_item_id", "title", "sku", "barcode",
		"price_minor", "compare_at_minor", "available_for_sale", "inventory_quantity", "inventory_policy", "tracked",
		"requires_shipping", "taxable", "weight_value", "weight_unit", "image_url", "options", "generation"}
	mediaCols      = []string{"shop_id", "media_id", "product_id", "position", "url", "alt", "width", "height", "generation"}
	collectionCols = []string{"shop_id", "product_id", "collection_id", "title", "generation"}
)

// SaveSyncBatch writes one batch of a full sync, its rows marked with the
// sync's generation, and the sync's progress (sy as given) in one
// transaction: the progress a sync reports is always what it has written.
// replace says that rows with the batch's keys may exist (the shop had a
// catalog when the sync began); without it they are only inserted.
//
// On PostgreSQL the rows go in with COPY: per table, with replace, one
// DELETE of the batch's keys (rows an earlier sync wrote), then one COPY
// of the batch. That is what a multi-row INSERT … ON CONFLICT DO UPDATE
// does, row for row, without binding tens of thousands of parameters per
// statement; see docs/benchmarks.md. Should a row with one of the batch's
// keys exist after all (a product refresh by webhook wrote it meanwhile),
// the COPY fails on the key and the batch is written again through
// UpsertCatalog, which merges. SQLite, and a call inside a transaction,
// use UpsertCatalog.
func (s *Store) SaveSyncBatch(ctx context.Context, sy *app.CatalogSync, b *app.CatalogBatch, replace bool) error {
	if _, inTx := SQLTx(ctx); s.kind == app.DatabasePostgres && !inTx {
		err := s.copyBatch(ctx, sy, b, replace)
		if !isUniqueViolation(err) {
			return err
		}
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.UpsertCatalog(ctx, sy.ShopID, sy.Generation, b); err != nil {
			return err
		}
		return s.UpdateSync(ctx, sy)
	})
}

// HasCatalog reports whether the shop has any catalog rows.
func (s *Store) HasCatalog(ctx context.Context, shopID int64) (bool, error) {
	var has bool
	err := s.conn(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM catalog_products WHERE shop_id = ?)
  OR EXISTS (SELECT 1 FROM catalog_variants WHERE shop_id = ?)
  OR EXISTS (SELECT 1 FROM catalog_media WHERE shop_id = ?)
  OR EXISTS (SELECT 1 FROM catalog_collections WHERE shop_id = ?)`, shopID, shopID, shopID, shopID).Scan(&has).Error
	return has, translate(err, "has catalog")
}

func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// copyBufs recycles the COPY payloads (a batch is a few MB).
var copyBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// copyBatch is SaveSyncBatch on PostgreSQL: everything runs on one pgx
// connection taken from the pool, in a pgx transaction.
func (s *Store) copyBatch(ctx context.Context, sy *app.CatalogSync, b *app.CatalogBatch, replace bool) error {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return translate(err, "catalog batch")
	}
	defer conn.Close()
	buf := copyBufs.Get().(*bytes.Buffer)
	defer copyBufs.Put(buf)
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not pgx", dc)
		}
		return pgx.BeginFunc(ctx, sc.Conn(), func(tx pgx.Tx) error {
			return s.copyBatchTx(ctx, tx, buf, sy, b, replace)
		})
	})
	return translate(err, "catalog batch")
}

func (s *Store) copyBatchTx(ctx context.Context, tx pgx.Tx, buf *bytes.Buffer, sy *app.CatalogSync, b *app.CatalogBatch, replace bool) error {
	shopID, gen := sy.ShopID, sy.Generation
	if err := lockShopForBatch(ctx, tx, shopID); err != nil {
		return err
	}
	del := func(q string) string {
		if replace {
			return q
		}
		return ""
	}

	ids := make([]int64, 0, len(b.Variants))
	if len(b.Products) > 0 {
		buf.Reset()
		ids = productCopyRows(buf, ids[:0], shopID, gen, s.Now(), b.Products)
		if err := copyTable(ctx, tx, "catalog_products", productCols, buf,
			del("DELETE FROM catalog_products WHERE shop_id = $1 AND product_id = ANY($2)"), shopID, ids); err != nil {
			return err
		}
	}
	if len(b.Variants) > 0 {
		buf.Reset()
		ids = variantCopyRows(buf, ids[:0], shopID, gen, b.Variants)
		if err := copyTable(ctx, tx, "catalog_variants", variantCols, buf,
			del("DELETE FROM catalog_variants WHERE shop_id = $1 AND variant_id = ANY($2)"), shopID, ids); err != nil {
			return err
		}
	}
	if len(b.Media) > 0 {
		buf.Reset()
		ids = mediaCopyRows(buf, ids[:0], shopID, gen, b.Media)
		if err := copyTable(ctx, tx, "catalog_media", mediaCols, buf,
			del("DELETE FROM catalog_media WHERE shop_id = $1 AND media_id = ANY($2)"), shopID, ids); err != nil {
			return err
		}
	}
	if len(b.Collections) > 0 {
		buf.Reset()
		var cids []int64
		ids, cids = collectionCopyRows(buf, ids[:0], shopID, gen, b.Collections)
		if err := copyTable(ctx, tx, "catalog_collections", collectionCols, buf,
			del(`DELETE FROM catalog_collections WHERE shop_id = $1
  AND (product_id, collection_id) IN (SELECT * FROM unnest($2::bigint[], $3::bigint[]))`), shopID, ids, cids); err != nil {
			return err
		}
	}

	sy.UpdatedAt = s.Now()
	_, err := tx.Exec(ctx, `UPDATE catalog_syncs SET status = $1, bulk_operation_id = $2, rows_expected = $3, rows_done = $4,
  products = $5, variants = $6, error = $7, updated_at = $8, finished_at = $9 WHERE id = $10`,
		sy.Status, sy.BulkOperationID, sy.RowsExpected, sy.RowsDone, sy.Products, sy.Variants, sy.Error,
		sy.UpdatedAt, sy.FinishedAt, sy.ID)
	return err
}

// lockShopForBatch prepares the batch's transaction, in one round trip:
//   - the check the foreign keys made per row (migration 00004), once:
//     a shop being deleted waits for this batch, a deleted one fails it;
//   - the batch is replayed from the export if lost in a crash (the
//     sync starts over), so its commit need not wait for the WAL flush;
//   - the DELETEs look their keys up in the index whatever the
//     planner's statistics say: planned for a table that was small or
//     had no statistics yet (autovacuum may not have analyzed it), or
//     for 2,000 keys, they scanned the whole table per batch, which
//     made a re-sync quadratic in the catalog's size.
func lockShopForBatch(ctx context.Context, tx pgx.Tx, shopID int64) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM shops, set_config('synchronous_commit', 'off', true) a,
  set_config('enable_seqscan', 'off', true) b WHERE id = $1 FOR KEY SHARE OF shops`, shopID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("shop %d: %w", shopID, app.ErrNotFound)
	}
	return err
}

// productCopyRows writes the products to buf as COPY rows (productCols)
// and appends their ids to ids.
func productCopyRows(buf *bytes.Buffer, ids []int64, shopID, gen int64, now time.Time, ps []app.CatalogProduct) []int64 {
	for i := range ps {
		p := &ps[i]
		ids = append(ids, p.ProductID)
		w := copyRow{b: buf.AvailableBuffer()}
		w.int(shopID)
		w.int(p.ProductID)
		w.str(p.Handle)
		w.str(p.Title)
		w.str(p.DescriptionHTML)
		w.str(p.Vendor)
		w.str(p.ProductType)
		w.str(p.Category)
		w.str(p.Status)
		w.str(p.OnlineStoreURL)
		tags, _ := json.Marshal(p.Tags)
		w.raw(tags)
		w.time(p.ShopifyUpdatedAt)
		w.int(gen)
		w.time(&now)
		buf.Write(w.end())
	}
	return ids
}

// variantCopyRows writes the variants to buf as COPY rows (variantCols)
// and appends their ids to ids.
func variantCopyRows(buf *bytes.Buffer, ids []int64, shopID, gen int64, vs []app.CatalogVariant) []int64 {
	for i := range vs {
		v := &vs[i]
		ids = append(ids, v.VariantID)
		w := copyRow{b: buf.AvailableBuffer()}
		w.int(shopID)
		w.int(v.VariantID)
		w.int(v.ProductID)
		w.int(v.Position)
		w.int(v.InventoryItemID)
		w.str(v.Title)
		w.str(v.SKU)
		w.str(v.Barcode)
		w.int(v.PriceMinor)
		w.int(v.CompareAtMinor)
		w.bool(v.AvailableForSale)
		w.int(v.InventoryQuantity)
		w.str(v.InventoryPolicy)
		w.bool(v.Tracked)
		w.bool(v.RequiresShipping)
		w.bool(v.Taxable)
		w.float(v.WeightValue)
		w.str(v.WeightUnit)
		w.str(v.ImageURL)
		opts, _ := json.Marshal(v.Options)
		w.raw(opts)
		w.int(gen)
		buf.Write(w.end())
	}
	return ids
}

// mediaCopyRows writes the media to buf as COPY rows (mediaCols) and
// appends their ids to ids.
func mediaCopyRows(buf *bytes.Buffer, ids []int64, shopID, gen int64, ms []app.CatalogMedia) []int64 {
	for i := range ms {
		m := &ms[i]
		ids = append(ids, m.MediaID)
		w := copyRow{b: buf.AvailableBuffer()}
		w.int(shopID)
		w.int(m.MediaID)
		w.int(m.ProductID)
		w.int(m.Position)
		w.str(m.URL)
		w.str(m.Alt)
		w.int(int64(m.Width))
		w.int(int64(m.Height))
		w.int(gen)
		buf.Write(w.end())
	}
	return ids
}

// collectionCopyRows writes the product–collection links to buf as COPY
// rows (collectionCols); it appends their product ids to ids and returns
// their collection ids alongside.
func collectionCopyRows(buf *bytes.Buffer, ids []int64, shopID, gen int64, cs []app.CatalogCollection) ([]int64, []int64) {
	cids := make([]int64, 0, len(cs))
	for i := range cs {
		c := &cs[i]
		ids, cids = append(ids, c.ProductID), append(cids, c.CollectionID)
		w := copyRow{b: buf.AvailableBuffer()}
		w.int(shopID)
		w.int(c.ProductID)
		w.int(c.CollectionID)
		w.str(c.Title)
		w.int(gen)
		buf.Write(w.end())
	}
	return ids, cids
}

// copyTable deletes the rows the batch replaces (del, unless empty), then
// copies the batch in.
func copyTable(ctx context.Context, tx pgx.Tx, table string, cols []string, data *bytes.Buffer, del string, args ...any) error {
	if del != "" {
		if _, err := tx.Exec(ctx, del, args...); err != nil {
			return fmt.Errorf("%s: %w", table, err)
		}
	}
	q := "COPY " + table + " (" + strings.Join(cols, ", ") + ") FROM STDIN"
	if _, err := tx.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(data.Bytes()), q); err != nil {
		return fmt.Errorf("%s: %w", table, err)
	}
	return nil
}

// copyRow appends one row in COPY's text format: values separated by
// tabs, \N for NULL, backslash escapes for backslash, tab and line breaks.
type copyRow struct {
	b []byte
	n int // values so far
}

func (w *copyRow) sep() {
	if w.n > 0 {
		w.b = append(w.b, '\t')
	}
	w.n++
}

func (w *copyRow) end() []byte { return append(w.b, '\n') }

func (w *copyRow) int(v int64) {
	w.sep()
	w.b = strconv.AppendInt(w.b, v, 10)
}

func (w *copyRow) bool(v bool) {
	w.sep()
	if v {
		w.b = append(w.b, 't')
	} else {
		w.b = append(w.b, 'f')
	}
}

func (w *copyRow) float(v float64) {
	w.sep()
	w.b = strconv.AppendFloat(w.b, v, 'g', -1, 64)
}

// time writes a timestamp in UTC to the microsecond (PostgreSQL's
// precision; like pgx, it truncates).
func (w *copyRow) time(t *time.Time) {
	w.sep()
	if t == nil {
		w.b = append(w.b, `\N`...)
		return
	}
	w.b = t.UTC().AppendFormat(w.b, "2006-01-02 15:04:05.999999Z07:00")
}

func (w *copyRow) str(s string) {
	w.sep()
	w.b = appendCopyText(w.b, s)
}

func (w *copyRow) raw(b []byte) {
	w.sep()
	w.b = appendCopyText(w.b, b)
}

func appendCopyText[T string | []byte](dst []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); i++ {
		var esc byte
		switch s[i] {
		case '\\':
			esc = '\\'
		case '\t':
			esc = 't'
		case '\n':
			esc = 'n'
		case '\r':
			esc = 'r'
		default:
			continue
		}
		dst = append(dst, s[start:i]...)
		dst = append(dst, '\\', esc)
		start = i + 1
	}
	return append(dst, s[start:]...)
}
