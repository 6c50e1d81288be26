package app

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// CatalogProduct is a Shopify product as synced into our tables.
type CatalogProduct struct {
	ProductID        int64
	Handle           string
	Title            string
	DescriptionHTML  string
	Vendor           string
	ProductType      string
	Category         string   // Standard Product Taxonomy full name, "A > B > C"
	Status           string   // ACTIVE, DRAFT, ARCHIVED
	OnlineStoreURL   string   // empty when not published to the Online Store
	Tags             []string `json:"tags"`
	ShopifyUpdatedAt *time.Time
}

// CatalogVariant is a product variant with its inventory item folded in.
type CatalogVariant struct {
	VariantID         int64
	ProductID         int64
	Position          int64 // order within the product
	InventoryItemID   int64
	Title             string
	SKU               string
	Barcode           string
	PriceMinor        int64
	CompareAtMinor    int64 // 0: none
	AvailableForSale  bool
	InventoryQuantity int64
	InventoryPolicy   string // DENY or CONTINUE
	Tracked           bool
	RequiresShipping  bool
	Taxable           bool
	WeightValue       float64
	WeightUnit        string // GRAMS, KILOGRAMS, OUNCES, POUNDS
	ImageURL          string
	Options           []VariantOption
}

// VariantOption is a variant's value of a product option.
type VariantOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// CatalogMedia is a product image.
type CatalogMedia struct {
	MediaID   int64
	ProductID int64
	Position  int64
	URL       string
	Alt       string
	Width     int
	Height    int
}

// CatalogCollection is a product's membership of a collection.
type CatalogCollection struct {
	ProductID    int64
	CollectionID int64
	Title        string
}

// CatalogPage is one page of the catalog: products with their rows, by
// product id.
type CatalogPage struct {
	Products    []CatalogProduct
	Variants    map[int64][]CatalogVariant
	Media       map[int64][]CatalogMedia
	Collections map[int64][]CatalogCollection
}

// CatalogBatch is a group of rows written together.
type CatalogBatch struct {
	Products    []CatalogProduct
	Variants    []CatalogVariant
	Media       []CatalogMedia
	Collections []CatalogCollection
}

// Len counts the rows.
func (b *CatalogBatch) Len() int {
	return len(b.Products) + len(b.Variants) + len(b.Media) + len(b.Collections)
}

// bulkLine is the union of the objects a catalog bulk export holds, one per
// JSONL line: products, and as their children (with __parentId) variants,
// media images and collections.
type bulkLine struct {
	ID               string                     `json:"id"`
	ParentID         string                     `json:"__parentId"`
	Handle           string                     `json:"handle"`
	Title            string                     `json:"title"`
	DescriptionHTML  string                     `json:"descriptionHtml"`
	Vendor           string                     `json:"vendor"`
	ProductType      string                     `json:"productType"`
	Status           string                     `json:"status"`
	OnlineStoreURL   *string                    `json:"onlineStoreUrl"`
	UpdatedAt        string                     `json:"updatedAt"`
	Tags             []string                   `json:"tags"`
	Category         *struct{ FullName string } `json:"category"`
	SKU              *string                    `json:"sku"`
	Barcode          *string                    `json:"barcode"`
	Price            string                     `json:"price"`
	CompareAtPrice   *string                    `json:"compareAtPrice"`
	AvailableForSale bool                       `json:"availableForSale"`
	InventoryQty     *int64                     `json:"inventoryQuantity"`
	InventoryPolicy  string                     `json:"inventoryPolicy"`
	Taxable          bool                       `json:"taxable"`
	SelectedOptions  []VariantOption            `json:"selectedOptions"`
	Image            *struct {
		URL     string `json:"url"`
		AltText string `json:"altText"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
	} `json:"image"`
	InventoryItem *struct {
		ID               string `json:"id"`
		Tracked          bool   `json:"tracked"`
		RequiresShipping bool   `json:"requiresShipping"`
		Measurement      *struct {
			Weight *struct {
				Unit  string  `json:"unit"`
				Value float64 `json:"value"`
			} `json:"weight"`
		} `json:"measurement"`
	} `json:"inventoryItem"`
}

// CatalogBulkQuery is the bulk operation that exports a whole catalog: every
// product in any status (the feed decides what to publish), with its
// variants, media and collections. Four connections, two levels: inside
// Shopify's bulk limits. Validated against the Admin schema by the emulator.
const CatalogBulkQuery = `{ products { edges { node {
  id handle title descriptionHtml vendor productType status onlineStoreUrl updatedAt tags
  category { fullName }
  media { edges { node { ... on MediaImage { id image { url altText width height } } } } }
  collections { edges { node { id title } } }
  variants { edges { node {
    id title sku barcode price compareAtPrice availableForSale inventoryQuantity inventoryPolicy taxable
    selectedOptions { name value }
    image { url }
    inventoryItem { id tracked requiresShipping measurement { weight { unit value } } }
  } } }
} } } }`

// MaxBulkLine bounds one JSONL line (a product with a very long
// description is the largest).
const MaxBulkLine = 4 << 20

// BulkReader streams a catalog bulk export (JSONL) into batches, never
// holding the whole file. Lines are numbered; the number orders a
// product's children as Shopify wrote them.
type BulkReader struct {
	sc       *bufio.Scanner
	currency string
	line     int64
}

// NewBulkReader reads r; prices are read in the shop's currency.
func NewBulkReader(r io.Reader, currency string) *BulkReader {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxBulkLine)
	return &BulkReader{sc: sc, currency: currency}
}

// Lines reports how many lines were read.
func (b *BulkReader) Lines() int64 { return b.line }

// Next fills batch with up to n rows; io.EOF once the file is exhausted. A
// malformed line (truncated file, unexpected object) is an error naming the
// line: the caller abandons the sync and keeps the previous catalog.
func (b *BulkReader) Next(batch *CatalogBatch, n int) error {
	*batch = CatalogBatch{Products: batch.Products[:0], Variants: batch.Variants[:0], Media: batch.Media[:0], Collections: batch.Collections[:0]}
	for batch.Len() < n {
		if !b.sc.Scan() {
			if err := b.sc.Err(); err != nil {
				return fmt.Errorf("bulk line %d: %w", b.line+1, err)
			}
			if batch.Len() > 0 {
				return nil
			}
			return io.EOF
		}
		b.line++
		raw := bytes.TrimSpace(b.sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		if err := b.add(batch, raw); err != nil {
			return fmt.Errorf("bulk line %d: %w", b.line, err)
		}
	}
	return nil
}

func (b *BulkReader) add(batch *CatalogBatch, raw []byte) error {
	var l bulkLine
	// The fast decoder takes the lines Shopify writes; anything else (a
	// malformed line included) is encoding/json's, as before.
	if !decodeBulkLine(raw, &l) {
		l = bulkLine{}
		if err := json.Unmarshal(raw, &l); err != nil {
			return fmt.Errorf("not a JSON object: %w", err)
		}
	}
	return b.addLine(batch, l)
}

func (b *BulkReader) addLine(batch *CatalogBatch, l bulkLine) error {
	kind, id, err := ParseGID(l.ID)
	if err != nil {
		return err
	}
	var parent int64
	if l.ParentID != "" {
		pk, pid, err := ParseGID(l.ParentID)
		if err != nil || pk != "Product" {
			return fmt.Errorf("__parentId %q is not a product", l.ParentID)
		}
		parent = pid
	}
	switch kind {
	case "Product":
		p := CatalogProduct{
			ProductID: id, Handle: l.Handle, Title: l.Title, DescriptionHTML: l.DescriptionHTML,
			Vendor: l.Vendor, ProductType: l.ProductType, Status: l.Status, Tags: l.Tags,
		}
		if l.OnlineStoreURL != nil {
			p.OnlineStoreURL = *l.OnlineStoreURL
		}
		if l.Category != nil {
			p.Category = l.Category.FullName
		}
		if t, err := time.Parse(time.RFC3339, l.UpdatedAt); err == nil {
			t = t.UTC()
			p.ShopifyUpdatedAt = &t
		}
		batch.Products = append(batch.Products, p)
	case "ProductVariant":
		v, err := b.variant(l, id, parent)
		if err != nil {
			return err
		}
		batch.Variants = append(batch.Variants, v)
	case "MediaImage":
		if l.Image == nil || parent == 0 {
			return nil // a media image still processing has no image yet
		}
		batch.Media = append(batch.Media, CatalogMedia{
			MediaID: id, ProductID: parent, Position: b.line, URL: l.Image.URL, Alt: l.Image.AltText,
			Width: l.Image.Width, Height: l.Image.Height,
		})
	case "Collection":
		batch.Collections = append(batch.Collections, CatalogCollection{ProductID: parent, CollectionID: id, Title: l.Title})
	default:
		// Video, 3D model and other media: not used by the feeds.
	}
	return nil
}

func (b *BulkReader) variant(l bulkLine, id, parent int64) (CatalogVariant, error) {
	if parent == 0 {
		return CatalogVariant{}, errors.New("variant without __parentId")
	}
	price, err := ParseMoney(l.Price, b.currency)
	if err != nil {
		return CatalogVariant{}, fmt.Errorf("variant %d price: %w", id, err)
	}
	v := CatalogVariant{
		VariantID: id, ProductID: parent, Position: b.line, Title: l.Title,
		PriceMinor: price, AvailableForSale: l.AvailableForSale, InventoryPolicy: l.InventoryPolicy,
		Taxable: l.Taxable, Options: l.SelectedOptions, Tracked: true, RequiresShipping: true,
	}
	if l.SKU != nil {
		v.SKU = *l.SKU
	}
	if l.Barcode != nil {
		v.Barcode = *l.Barcode
	}
	if l.CompareAtPrice != nil && *l.CompareAtPrice != "" {
		if v.CompareAtMinor, err = ParseMoney(*l.CompareAtPrice, b.currency); err != nil {
			return CatalogVariant{}, fmt.Errorf("variant %d compareAtPrice: %w", id, err)
		}
	}
	if l.InventoryQty != nil {
		v.InventoryQuantity = *l.InventoryQty
	}
	if l.Image != nil {
		v.ImageURL = l.Image.URL
	}
	if it := l.InventoryItem; it != nil {
		if _, iid, err := ParseGID(it.ID); err == nil {
			v.InventoryItemID = iid
		}
		v.Tracked, v.RequiresShipping = it.Tracked, it.RequiresShipping
		if it.Measurement != nil && it.Measurement.Weight != nil {
			v.WeightValue, v.WeightUnit = it.Measurement.Weight.Value, it.Measurement.Weight.Unit
		}
	}
	return v, nil
}

// ParseGID splits "gid://shopify/Kind/123" (a query string may follow).
func ParseGID(gid string) (kind string, id int64, err error) {
	rest, ok := strings.CutPrefix(gid, "gid://shopify/")
	if !ok {
		return "", 0, fmt.Errorf("%q is not a Shopify id", gid)
	}
	rest, _, _ = strings.Cut(rest, "?")
	kind, num, ok := strings.Cut(rest, "/")
	if !ok || kind == "" {
		return "", 0, fmt.Errorf("%q is not a Shopify id", gid)
	}
	id, err = strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return "", 0, fmt.Errorf("%q is not a Shopify id", gid)
	}
	return kind, id, nil
}

// CurrencyExponent is the number of minor-unit digits of an ISO 4217
// currency (2 unless listed).
func CurrencyExponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	default:
		return 2
	}
}

// ParseMoney turns a decimal amount such as "19.99" into integer minor
// units of the currency, exactly (no floating point). More decimals than
// the currency has, a sign, or anything else is an error.
func ParseMoney(s, currency string) (int64, error) {
	exp := CurrencyExponent(currency)
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(whole) > 15 || strings.TrimLeft(whole, "0123456789") != "" || strings.TrimLeft(frac, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > exp {
		return 0, fmt.Errorf("%q has more decimals than %s allows", s, currency)
	}
	frac += strings.Repeat("0", exp-len(frac))
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an amount", s)
	}
	return n, nil
}
