package app

import (
	"fmt"
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

// StockRequest is an inventory item whose stock an inventory_levels/update
// asked to refresh (the stock_requests table): Version moves with each new
// request for the item, so the refresh that read it deletes only the
// request it answered.
type StockRequest struct {
	InventoryItemID int64
	ProductID       int64
	Version         int64
}

// VariantStock is a variant's stock as Shopify reports it.
type VariantStock struct {
	VariantID int64
	Quantity  int64
	Available bool
}
