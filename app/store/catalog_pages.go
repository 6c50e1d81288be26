package store

import (
	"cmp"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/acpbridge/acpbridge/app"
)

// The catalog page queries on PostgreSQL. Each selects the products of the
// page by its product id range, so the four run independently. The rows of
// the range queries are ordered here, not by the database: they mostly
// come in order already (a sync writes them in the export's order, and the
// scan follows the table), and sorting them was a sixth of the server's
// work for a build.
const (
	pageProductsSQL = `SELECT product_id, handle, title, description_html, vendor, product_type, category, status,
  online_store_url, tags, shopify_updated_at
FROM catalog_products WHERE shop_id = $1 AND product_id > $2 ORDER BY product_id LIMIT $3`
	pageVariantsSQL = `SELECT variant_id, product_id, position, inventory_item_id, title, sku, barcode, price_minor,
  compare_at_minor, available_for_sale, inventory_quantity, inventory_policy, tracked, requires_shipping, taxable,
  weight_value, weight_unit, image_url, options
FROM catalog_variants WHERE shop_id = $1 AND product_id BETWEEN $2 AND $3`
	pageMediaSQL = `SELECT media_id, product_id, position, url, alt, width, height
FROM catalog_media WHERE shop_id = $1 AND product_id BETWEEN $2 AND $3`
	pageCollectionsSQL = `SELECT product_id, collection_id, title
FROM catalog_collections WHERE shop_id = $1 AND product_id BETWEEN $2 AND $3`
)

// pageResult is a page read ahead, or the error that ended the reading.
type pageResult struct {
	page *app.CatalogPage
	err  error
}

// catalogPagesAhead is CatalogPages on PostgreSQL outside a transaction: a
// goroutine reads the next page, on a connection of its own and straight
// through pgx, while fn works on the current one, so the database and the
// caller's mapping run at the same time. At most three pages exist at once:
// the one fn holds, one waiting and one being read.
func (s *Store) catalogPagesAhead(ctx context.Context, shopID int64, pageSize int, fn func(*app.CatalogPage) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan pageResult, 1)
	go s.readPages(ctx, shopID, pageSize, pages)
	defer func() {
		cancel()
		for range pages { // wait for the reader to let go of its connection
		}
	}()
	for r := range pages {
		if r.err != nil {
			return r.err
		}
		if err := fn(r.page); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// readPages sends the shop's pages to out until the catalog ends, an error
// (sent) or ctx is done; then it closes out.
func (s *Store) readPages(ctx context.Context, shopID int64, pageSize int, out chan<- pageResult) {
	defer close(out)
	send := func(r pageResult) bool {
		select {
		case out <- r:
			return true
		case <-ctx.Done():
			return false
		}
	}
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		send(pageResult{err: translate(err, "catalog page")})
		return
	}
	defer conn.Close()
	var rd pageReader
	after := int64(0)
	for {
		var page *app.CatalogPage
		err := conn.Raw(func(dc any) error {
			sc, ok := dc.(*stdlib.Conn)
			if !ok {
				return fmt.Errorf("driver connection is %T, not pgx", dc)
			}
			var err error
			page, err = rd.read(ctx, sc.Conn(), shopID, after, pageSize)
			return err
		})
		if err != nil {
			send(pageResult{err: translate(err, "catalog page")})
			return
		}
		if page == nil || !send(pageResult{page: page}) {
			return
		}
		after = page.Products[len(page.Products)-1].ProductID
	}
}

// pageReader reads pages with pgx, scanning positionally (no reflection).
type pageReader struct{}

// read returns the page of products after the id, nil past the end.
func (rd *pageReader) read(ctx context.Context, pc *pgx.Conn, shopID, after int64, pageSize int) (*app.CatalogPage, error) {
	products, err := pageProducts(ctx, pc, shopID, after, pageSize)
	if err != nil || len(products) == 0 {
		return nil, err
	}
	lo, hi := products[0].ProductID, products[len(products)-1].ProductID
	page := &app.CatalogPage{
		Products:    products,
		Variants:    make(map[int64][]app.CatalogVariant, len(products)),
		Media:       make(map[int64][]app.CatalogMedia, len(products)),
		Collections: make(map[int64][]app.CatalogCollection, len(products)),
	}

	// Rows come ordered by product: each product's rows are a sub-slice of
	// one array per page (capacity cut, so an append cannot spill over).
	variants, err := pageVariants(ctx, pc, shopID, lo, hi, 4*len(products))
	if err != nil {
		return nil, err
	}
	sortRows(variants, func(a, b *app.CatalogVariant) int {
		return cmp.Or(cmp.Compare(a.ProductID, b.ProductID), cmp.Compare(a.Position, b.Position), cmp.Compare(a.VariantID, b.VariantID))
	})
	groupBy(variants, page.Variants, func(v *app.CatalogVariant) int64 { return v.ProductID })

	media, err := pageMedia(ctx, pc, shopID, lo, hi, 2*len(products))
	if err != nil {
		return nil, err
	}
	sortRows(media, func(a, b *app.CatalogMedia) int {
		return cmp.Or(cmp.Compare(a.ProductID, b.ProductID), cmp.Compare(a.Position, b.Position), cmp.Compare(a.MediaID, b.MediaID))
	})
	groupBy(media, page.Media, func(m *app.CatalogMedia) int64 { return m.ProductID })

	cols, err := pageCollections(ctx, pc, shopID, lo, hi, len(products))
	if err != nil {
		return nil, err
	}
	sortRows(cols, func(a, b *app.CatalogCollection) int {
		return cmp.Or(cmp.Compare(a.ProductID, b.ProductID), cmp.Compare(a.CollectionID, b.CollectionID))
	})
	groupBy(cols, page.Collections, func(c *app.CatalogCollection) int64 { return c.ProductID })
	return page, nil
}

// pageProducts reads up to pageSize products after the id.
func pageProducts(ctx context.Context, pc *pgx.Conn, shopID, after int64, pageSize int) ([]app.CatalogProduct, error) {
	rows, err := pc.Query(ctx, pageProductsSQL, shopID, after, pageSize)
	if err != nil {
		return nil, err
	}
	products := make([]app.CatalogProduct, 0, pageSize)
	for rows.Next() {
		var p app.CatalogProduct
		var updated *time.Time
		if err := rows.Scan(&p.ProductID, &p.Handle, &p.Title, &p.DescriptionHTML, &p.Vendor, &p.ProductType, &p.Category,
			&p.Status, &p.OnlineStoreURL, nil, &updated); err != nil {
			rows.Close()
			return nil, fmt.Errorf("products: %w", err)
		}
		p.Tags = decodeTags(rows.RawValues()[9])
		p.ShopifyUpdatedAt = utcPtr(updated)
		products = append(products, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("products: %w", err)
	}
	return products, nil
}

// pageVariants reads the variants of the products lo to hi (capacity n),
// decoding the binary rows directly when their columns allow.
func pageVariants(ctx context.Context, pc *pgx.Conn, shopID, lo, hi int64, n int) ([]app.CatalogVariant, error) {
	rows, err := pc.Query(ctx, pageVariantsSQL, shopID, lo, hi)
	if err != nil {
		return nil, err
	}
	variants := make([]app.CatalogVariant, 0, n)
	raw := binaryColumns(rows.FieldDescriptions(), variantOIDs)
	for rows.Next() {
		var v app.CatalogVariant
		if raw && decodeVariant(rows.RawValues(), &v) {
			variants = append(variants, v)
			continue
		}
		if err := rows.Scan(&v.VariantID, &v.ProductID, &v.Position, &v.InventoryItemID, &v.Title, &v.SKU, &v.Barcode,
			&v.PriceMinor, &v.CompareAtMinor, &v.AvailableForSale, &v.InventoryQuantity, &v.InventoryPolicy, &v.Tracked,
			&v.RequiresShipping, &v.Taxable, &v.WeightValue, &v.WeightUnit, &v.ImageURL, nil); err != nil {
			rows.Close()
			return nil, fmt.Errorf("variants: %w", err)
		}
		v.Options = decodeOptions(rows.RawValues()[18])
		variants = append(variants, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("variants: %w", err)
	}
	return variants, nil
}

// pageMedia reads the media of the products lo to hi (capacity n).
func pageMedia(ctx context.Context, pc *pgx.Conn, shopID, lo, hi int64, n int) ([]app.CatalogMedia, error) {
	rows, err := pc.Query(ctx, pageMediaSQL, shopID, lo, hi)
	if err != nil {
		return nil, err
	}
	media := make([]app.CatalogMedia, 0, n)
	for rows.Next() {
		var m app.CatalogMedia
		var w, h int32
		if err := rows.Scan(&m.MediaID, &m.ProductID, &m.Position, &m.URL, &m.Alt, &w, &h); err != nil {
			rows.Close()
			return nil, fmt.Errorf("media: %w", err)
		}
		m.Width, m.Height = int(w), int(h)
		media = append(media, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("media: %w", err)
	}
	return media, nil
}

// pageCollections reads the collections of the products lo to hi
// (capacity n).
func pageCollections(ctx context.Context, pc *pgx.Conn, shopID, lo, hi int64, n int) ([]app.CatalogCollection, error) {
	rows, err := pc.Query(ctx, pageCollectionsSQL, shopID, lo, hi)
	if err != nil {
		return nil, err
	}
	cols := make([]app.CatalogCollection, 0, n)
	for rows.Next() {
		var c app.CatalogCollection
		if err := rows.Scan(&c.ProductID, &c.CollectionID, &c.Title); err != nil {
			rows.Close()
			return nil, fmt.Errorf("collections: %w", err)
		}
		cols = append(cols, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("collections: %w", err)
	}
	return cols, nil
}

// The types of pageVariantsSQL's columns.
var variantOIDs = []uint32{
	pgtype.Int8OID, pgtype.Int8OID, pgtype.Int8OID, pgtype.Int8OID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID,
	pgtype.Int8OID, pgtype.Int8OID, pgtype.BoolOID, pgtype.Int8OID, pgtype.TextOID, pgtype.BoolOID, pgtype.BoolOID,
	pgtype.BoolOID, pgtype.Float8OID, pgtype.TextOID, pgtype.TextOID, pgtype.TextOID,
}

// binaryColumns reports whether the result's columns have the types and
// come in the binary format (text is the same bytes in either), so that
// rows can be decoded from their raw values without pgx's scan plans.
func binaryColumns(fds []pgconn.FieldDescription, oids []uint32) bool {
	if len(fds) != len(oids) {
		return false
	}
	for i, fd := range fds {
		if fd.DataTypeOID != oids[i] || (fd.Format != pgx.BinaryFormatCode && oids[i] != pgtype.TextOID) {
			return false
		}
	}
	return true
}

// decodeVariant reads a pageVariantsSQL row from its binary values; false
// (v untouched but for what it set) if a value is not as expected, for
// rows.Scan to read instead.
func decodeVariant(vals [][]byte, v *app.CatalogVariant) bool {
	if len(vals) != len(variantOIDs) {
		return false
	}
	ok := true
	i8 := func(b []byte) int64 {
		if len(b) != 8 {
			ok = false
			return 0
		}
		return int64(binary.BigEndian.Uint64(b))
	}
	bl := func(b []byte) bool {
		if len(b) != 1 {
			ok = false
			return false
		}
		return b[0] != 0
	}
	str := func(b []byte) string {
		if b == nil {
			ok = false
		}
		return string(b)
	}
	v.VariantID, v.ProductID, v.Position, v.InventoryItemID = i8(vals[0]), i8(vals[1]), i8(vals[2]), i8(vals[3])
	v.Title, v.SKU, v.Barcode = str(vals[4]), str(vals[5]), str(vals[6])
	v.PriceMinor, v.CompareAtMinor, v.AvailableForSale, v.InventoryQuantity = i8(vals[7]), i8(vals[8]), bl(vals[9]), i8(vals[10])
	v.InventoryPolicy, v.Tracked, v.RequiresShipping, v.Taxable = enumStr(vals[11]), bl(vals[12]), bl(vals[13]), bl(vals[14])
	if len(vals[15]) != 8 {
		return false
	}
	v.WeightValue = math.Float64frombits(binary.BigEndian.Uint64(vals[15]))
	v.WeightUnit, v.ImageURL = enumStr(vals[16]), str(vals[17])
	if vals[18] == nil {
		return false
	}
	v.Options = decodeOptions(vals[18])
	return ok
}

// sortRows sorts rows unless they are in order already (the check compares
// in place: it runs for every page, the sort seldom).
func sortRows[T any](rows []T, compare func(a, b *T) int) {
	for i := 1; i < len(rows); i++ {
		if compare(&rows[i-1], &rows[i]) > 0 {
			slices.SortFunc(rows, func(a, b T) int { return compare(&a, &b) })
			return
		}
	}
}

// enumStr returns the value of an enum column (Shopify's inventory
// policies and weight units) without allocating for the usual values.
func enumStr(b []byte) string {
	switch string(b) {
	case "DENY":
		return "DENY"
	case "CONTINUE":
		return "CONTINUE"
	case "GRAMS":
		return "GRAMS"
	case "KILOGRAMS":
		return "KILOGRAMS"
	case "OUNCES":
		return "OUNCES"
	case "POUNDS":
		return "POUNDS"
	case "":
		return ""
	}
	return string(b)
}

// groupBy files rows ordered by product into m, as sub-slices of rows.
func groupBy[T any](rows []T, m map[int64][]T, product func(*T) int64) {
	for i := 0; i < len(rows); {
		id, j := product(&rows[i]), i+1
		for j < len(rows) && product(&rows[j]) == id {
			j++
		}
		m[id] = rows[i:j:j]
		i = j
	}
}

// decodeTags reads the tags column: json.Marshal of a []string. The plain
// case (no escapes) is split by hand; anything else goes to encoding/json.
func decodeTags(raw []byte) []string {
	s := string(raw)
	if s == "null" || s == "" {
		return nil
	}
	if s == "[]" {
		return []string{}
	}
	if tags, ok := splitPlainJSONStrings(s); ok {
		return tags
	}
	var tags []string
	_ = json.Unmarshal(raw, &tags)
	return tags
}

// splitPlainJSONStrings parses `["a","b"]` when no string holds an escape.
func splitPlainJSONStrings(s string) ([]string, bool) {
	if len(s) < 4 || s[0] != '[' || s[1] != '"' || s[len(s)-2] != '"' || s[len(s)-1] != ']' {
		return nil, false
	}
	n := 1
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			return nil, false
		case ',':
			n++
		}
	}
	out := make([]string, 0, n)
	rest := s[1 : len(s)-1]
	for {
		if len(rest) < 2 || rest[0] != '"' {
			return nil, false
		}
		end := 1
		for end < len(rest) && rest[end] != '"' {
			end++
		}
		if end == len(rest) {
			return nil, false
		}
		out = append(out, rest[1:end])
		rest = rest[end+1:]
		if rest == "" {
			return out, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = rest[1:]
	}
}

// decodeOptions reads the options column: json.Marshal of a
// []app.VariantOption, `[{"name":"Color","value":"Red"},…]`. "[]" and
// "null" hold none (nil, as pageVariants has it). The plain shape is
// parsed by hand; anything else goes to encoding/json.
func decodeOptions(raw []byte) []app.VariantOption {
	if len(raw) <= 2 || string(raw) == "null" {
		return nil
	}
	if opts, ok := parsePlainOptions(string(raw)); ok {
		return opts
	}
	var opts []app.VariantOption
	_ = json.Unmarshal(raw, &opts)
	return opts
}

// parsePlainOptions parses `[{"name":"A","value":"B"},…]` when no string
// holds an escape.
func parsePlainOptions(s string) ([]app.VariantOption, bool) {
	const name, value, sep = `{"name":"`, `","value":"`, `"}`
	n := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			return nil, false
		case '{':
			n++
		}
	}
	if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
		return nil, false
	}
	out := make([]app.VariantOption, 0, n)
	rest := s[1 : len(s)-1]
	for {
		if len(rest) < len(name) || rest[:len(name)] != name {
			return nil, false
		}
		rest = rest[len(name):]
		i := indexQuote(rest)
		if i < 0 || len(rest) < i+len(value) || rest[i:i+len(value)] != value {
			return nil, false
		}
		o := app.VariantOption{Name: rest[:i]}
		rest = rest[i+len(value):]
		j := indexQuote(rest)
		if j < 0 || len(rest) < j+len(sep) || rest[j:j+len(sep)] != sep {
			return nil, false
		}
		o.Value = rest[:j]
		out = append(out, o)
		rest = rest[j+len(sep):]
		if rest == "" {
			return out, true
		}
		if rest[0] != ',' {
			return nil, false
		}
		rest = rest[1:]
	}
}

func indexQuote(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			return i
		}
	}
	return -1
}
