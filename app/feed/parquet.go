package feed

import (
	"io"
	"slices"
	"sync"
	"unicode/utf8"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Parquet is the format OpenAI's file upload prefers. A Parquet feed has
// the columns of the JSONL feed, in the same order and under the same
// names, and a row reads back as the item's JSONL line does:
//
//   - text columns (ids, titles, URLs, prices "12.34 USD", availability, …)
//     are optional UTF-8 strings, null where the JSONL line leaves the key
//     out;
//   - additional_image_urls and target_countries are optional LISTs of
//     strings, where the JSONL line has arrays;
//   - variant_dict is an optional string holding the very JSON object the
//     JSONL line has, as the CSV cell does (a Parquet MAP would lose the
//     options' order through Go's maps, and with it a byte-stable file; the
//     JSON logical type reads back as bytes, not text, in Arrow);
//   - booleans are booleans; weight a double (a string such as "1.5 lb" in
//     the 2025 naming, as its JSONL has it); inventory_quantity and the
//     return window int64.
//
// The values come from the same appendValue as every other format, so no
// format can drift from the others.
const (
	// parquetRowGroup bounds the rows a writer holds before it writes a
	// row group: parquet-go keeps a row group's compressed pages in memory
	// until the group is complete. At about 140 compressed bytes per item
	// that is some 4.5 MB (some 50 MB of text before compression), still
	// a large enough group for readers to scan efficiently; a 500,000-item
	// shard has 16 groups. At 1M items, 16k, 32k and 64k rows gave files
	// within 0.6% of each other and the same CPU time within the noise.
	parquetRowGroup = 32 << 10
	// parquetBatch is how many rows are handed to parquet-go at once.
	parquetBatch = 256
)

// pqCurrent is a row under NamesCurrent.
type pqCurrent struct {
	ItemID               string   `parquet:"item_id,optional"`
	Title                string   `parquet:"title,optional"`
	Description          string   `parquet:"description,optional"`
	URL                  string   `parquet:"url,optional"`
	Brand                string   `parquet:"brand,optional,dict"`
	GTIN                 string   `parquet:"gtin,optional"`
	MPN                  string   `parquet:"mpn,optional"`
	ProductCategory      string   `parquet:"product_category,optional,dict"`
	Condition            string   `parquet:"condition,optional,dict"`
	ImageURL             string   `parquet:"image_url,optional"`
	AdditionalImageURLs  []string `parquet:"additional_image_urls,optional,list"`
	Price                string   `parquet:"price,optional"`
	SalePrice            string   `parquet:"sale_price,optional"`
	Availability         string   `parquet:"availability,optional,dict"`
	GroupID              string   `parquet:"group_id,optional"`
	ListingHasVariations bool     `parquet:"listing_has_variations"`
	Color                string   `parquet:"color,optional,dict"`
	Size                 string   `parquet:"size,optional,dict"`
	VariantDict          string   `parquet:"variant_dict,optional"`
	Weight               float64  `parquet:"weight,optional"`
	ItemWeightUnit       string   `parquet:"item_weight_unit,optional,dict"`
	IsDigital            bool     `parquet:"is_digital"`
	SellerName           string   `parquet:"seller_name,optional,dict"`
	SellerURL            string   `parquet:"seller_url,optional,dict"`
	SellerPrivacyPolicy  string   `parquet:"seller_privacy_policy,optional,dict"`
	SellerTOS            string   `parquet:"seller_tos,optional,dict"`
	ReturnPolicy         string   `parquet:"return_policy,optional,dict"`
	AcceptsReturns       bool     `parquet:"accepts_returns,optional"`
	ReturnDeadlineInDays int64    `parquet:"return_deadline_in_days,optional"`
	TargetCountries      []string `parquet:"target_countries,optional,list"`
	StoreCountry         string   `parquet:"store_country,optional,dict"`
	IsEligibleSearch     bool     `parquet:"is_eligible_search"`
	IsEligibleCheckout   bool     `parquet:"is_eligible_checkout"`
}

// pq2025 is a row under Names2025.
type pq2025 struct {
	ID                     string   `parquet:"id,optional"`
	Title                  string   `parquet:"title,optional"`
	Description            string   `parquet:"description,optional"`
	Link                   string   `parquet:"link,optional"`
	Brand                  string   `parquet:"brand,optional,dict"`
	GTIN                   string   `parquet:"gtin,optional"`
	MPN                    string   `parquet:"mpn,optional"`
	ProductCategory        string   `parquet:"product_category,optional,dict"`
	Condition              string   `parquet:"condition,optional,dict"`
	ImageLink              string   `parquet:"image_link,optional"`
	AdditionalImageLink    []string `parquet:"additional_image_link,optional,list"`
	Price                  string   `parquet:"price,optional"`
	SalePrice              string   `parquet:"sale_price,optional"`
	Availability           string   `parquet:"availability,optional,dict"`
	InventoryQuantity      *int64   `parquet:"inventory_quantity,optional"`
	ItemGroupID            string   `parquet:"item_group_id,optional"`
	Color                  string   `parquet:"color,optional,dict"`
	Size                   string   `parquet:"size,optional,dict"`
	CustomVariant1Category string   `parquet:"custom_variant1_category,optional,dict"`
	CustomVariant1Option   string   `parquet:"custom_variant1_option,optional,dict"`
	CustomVariant2Category string   `parquet:"custom_variant2_category,optional,dict"`
	CustomVariant2Option   string   `parquet:"custom_variant2_option,optional,dict"`
	CustomVariant3Category string   `parquet:"custom_variant3_category,optional,dict"`
	CustomVariant3Option   string   `parquet:"custom_variant3_option,optional,dict"`
	Weight                 string   `parquet:"weight,optional"`
	SellerName             string   `parquet:"seller_name,optional,dict"`
	SellerURL              string   `parquet:"seller_url,optional,dict"`
	SellerPrivacyPolicy    string   `parquet:"seller_privacy_policy,optional,dict"`
	SellerTOS              string   `parquet:"seller_tos,optional,dict"`
	ReturnPolicy           string   `parquet:"return_policy,optional,dict"`
	ReturnWindow           int64    `parquet:"return_window,optional"`
	EnableSearch           bool     `parquet:"enable_search"`
	EnableCheckout         bool     `parquet:"enable_checkout"`
}

// pqSink is a Parquet writer of either naming.
type pqSink interface {
	write(it *Item) error
	close() error
}

// pqWriter batches rows of type T and hands them to parquet-go.
type pqWriter[T any] struct {
	w     *parquet.GenericWriter[T]
	fill  func(row *T, it *Item, v *pqValues)
	batch []T
	vals  pqValues
}

func newParquet(w io.Writer, names FieldNames) pqSink {
	opts := []parquet.WriterOption{
		parquet.Compression(&zstdCodec{}),
		parquet.MaxRowsPerRowGroup(parquetRowGroup),
		parquet.CreatedBy("acpbridge", "", ""),
	}
	if names.legacy() {
		return newPQWriter(w, fill2025, opts)
	}
	return newPQWriter(w, fillCurrent, opts)
}

func newPQWriter[T any](w io.Writer, fill func(*T, *Item, *pqValues), opts []parquet.WriterOption) *pqWriter[T] {
	return &pqWriter[T]{w: parquet.NewGenericWriter[T](w, opts...), fill: fill, batch: make([]T, 0, parquetBatch)}
}

func (p *pqWriter[T]) write(it *Item) error {
	p.batch = p.batch[:len(p.batch)+1]
	row := &p.batch[len(p.batch)-1]
	p.fill(row, it, &p.vals)
	if len(p.batch) == cap(p.batch) {
		return p.flush()
	}
	return nil
}

func (p *pqWriter[T]) flush() error {
	_, err := p.w.Write(p.batch)
	clear(p.batch) // drop the strings: the items are the caller's
	p.batch = p.batch[:0]
	return err
}

func (p *pqWriter[T]) close() error {
	if err := p.flush(); err != nil {
		return err
	}
	return p.w.Close()
}

// pqValues renders the columns that are not an Item field as they stand,
// with appendValue, the function every format uses; it keeps the last
// rendering of each, since neighbouring items (a product's variants)
// mostly repeat them.
type pqValues struct {
	buf  []byte
	last [numCols]struct {
		in  []byte
		out string
	}
}

// text returns column c of it as a delimited file holds it ("" when the
// item has no value).
func (v *pqValues) text(it *Item, c col, legacy bool) string {
	var ok bool
	v.buf, ok = it.appendValue(v.buf[:0], c, legacy, false)
	if !ok {
		return ""
	}
	l := &v.last[c]
	if string(l.in) != string(v.buf) {
		l.in = append(l.in[:0], v.buf...)
		l.out = utf8Text(string(v.buf))
	}
	return l.out
}

// utf8Text is s as its JSON encoding reads back: each byte of invalid
// UTF-8 becomes U+FFFD, as appendJSONString writes it (Parquet's strings
// must be UTF-8, and the rows must read as the JSONL lines do).
func utf8Text(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// list is a list column: nil (null) when empty, as JSONL leaves it out.
func list(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	if !slices.ContainsFunc(l, func(e string) bool { return !utf8.ValidString(e) }) {
		return l
	}
	c := make([]string, len(l))
	for i, e := range l {
		c[i] = utf8Text(e)
	}
	return c
}

func fillCurrent(r *pqCurrent, it *Item, v *pqValues) {
	*r = pqCurrent{
		ItemID: utf8Text(it.ItemID), Title: utf8Text(it.Title), Description: utf8Text(it.Description), URL: utf8Text(it.URL), Brand: utf8Text(it.Brand),
		GTIN: utf8Text(it.GTIN), MPN: utf8Text(it.MPN), ProductCategory: utf8Text(it.ProductCategory), Condition: utf8Text(it.Condition),
		ImageURL: utf8Text(it.ImageURL), AdditionalImageURLs: list(it.AdditionalImageURLs),
		Price: v.text(it, cPrice, false), SalePrice: v.text(it, cSalePrice, false),
		Availability: string(it.Availability), GroupID: utf8Text(it.GroupID), ListingHasVariations: it.ListingHasVariations,
		Color: utf8Text(it.Color), Size: utf8Text(it.Size), VariantDict: v.text(it, cVariantDict, false),
		IsDigital: it.IsDigital, SellerName: utf8Text(it.SellerName), SellerURL: utf8Text(it.SellerURL),
		SellerPrivacyPolicy: utf8Text(it.SellerPrivacyPolicy), SellerTOS: utf8Text(it.SellerTOS), ReturnPolicy: utf8Text(it.ReturnPolicy),
		AcceptsReturns: it.AcceptsReturns, TargetCountries: list(it.TargetCountries), StoreCountry: utf8Text(it.StoreCountry),
		IsEligibleSearch: it.IsEligibleSearch, IsEligibleCheckout: it.IsEligibleCheckout,
	}
	if hasWeight(it) {
		r.Weight, r.ItemWeightUnit = it.Weight, utf8Text(it.WeightUnit)
	}
	if it.ReturnDeadlineInDays > 0 {
		r.ReturnDeadlineInDays = int64(it.ReturnDeadlineInDays)
	}
}

func fill2025(r *pq2025, it *Item, v *pqValues) {
	*r = pq2025{
		ID: utf8Text(it.ItemID), Title: utf8Text(it.Title), Description: utf8Text(it.Description), Link: utf8Text(it.URL), Brand: utf8Text(it.Brand),
		GTIN: utf8Text(it.GTIN), MPN: utf8Text(it.MPN), ProductCategory: utf8Text(it.ProductCategory), Condition: utf8Text(it.Condition),
		ImageLink: utf8Text(it.ImageURL), AdditionalImageLink: list(it.AdditionalImageURLs),
		Price: v.text(it, cPrice, true), SalePrice: v.text(it, cSalePrice, true),
		Availability: v.text(it, cAvailability, true), ItemGroupID: utf8Text(it.GroupID), Color: utf8Text(it.Color), Size: utf8Text(it.Size),
		CustomVariant1Category: v.text(it, cCustom1Category, true), CustomVariant1Option: v.text(it, cCustom1Option, true),
		CustomVariant2Category: v.text(it, cCustom2Category, true), CustomVariant2Option: v.text(it, cCustom2Option, true),
		CustomVariant3Category: v.text(it, cCustom3Category, true), CustomVariant3Option: v.text(it, cCustom3Option, true),
		Weight: v.text(it, cWeight, true), SellerName: utf8Text(it.SellerName), SellerURL: utf8Text(it.SellerURL),
		SellerPrivacyPolicy: utf8Text(it.SellerPrivacyPolicy), SellerTOS: utf8Text(it.SellerTOS), ReturnPolicy: utf8Text(it.ReturnPolicy),
		EnableSearch: it.IsEligibleSearch, EnableCheckout: it.IsEligibleCheckout,
	}
	if it.InventoryQuantity >= 0 {
		q := int64(it.InventoryQuantity)
		r.InventoryQuantity = &q
	}
	if it.ReturnDeadlineInDays > 0 {
		r.ReturnWindow = int64(it.ReturnDeadlineInDays)
	}
}

// zstdCodec is Parquet's ZSTD codec over klauspost's zstd at its fastest
// level (a build's budget is CPU, and the fastest level already
// compresses feed text better than gzip's BestSpeed) with one encoder per
// writer and a window no larger than a page: parquet-go's own codec keeps
// a pool of encoders with the level's default window (8 MB of history
// each), which was most of a Parquet build's heap.
type zstdCodec struct {
	mu  sync.Mutex
	enc *zstd.Encoder
	dec *zstd.Decoder
}

// zstdWindow covers a page: parquet-go's page buffers are 256 KiB.
const zstdWindow = 256 << 10

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.enc == nil {
		enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return dst, err
		}
		c.enc = enc
	}
	return c.enc.EncodeAll(src, dst[:0]), nil
}

// Decode is the Codec interface's other half; the app never reads its
// Parquet files back.
func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.dec == nil {
		dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
		if err != nil {
			return dst, err
		}
		c.dec = dec
	}
	return c.dec.DecodeAll(src, dst[:0])
}
