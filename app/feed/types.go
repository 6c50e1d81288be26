// Package feed turns a Shopify catalog into the product feeds that AI agents
// read: the OpenAI flat-file feed (parquet, jsonl.gz, csv.gz or tsv.gz;
// current 2026 field names or the 2025 launch names) and the ACP Feed API products
// (products.jsonl of file ingestion, or PATCH /feeds/{id}/products).
//
// The package is pure: no database, no network; standard library only, but
// for compression (klauspost/compress) and Parquet (parquet-go). The
// catalog side fills Product, Settings and Shop; Map turns one product into
// one Item per variant, Validate reports what keeps an item out of the feed,
// and Writer streams items to a gzip'd or Parquet file without holding the
// feed in memory; Shards names the files of a feed split for OpenAI's
// file upload. ToACP builds the ACP Feed API shape of a product.
//
// A typical build:
//
//	w, _ := feed.NewWriter(out, feed.FormatJSONL, s.FieldNames)
//	for p := range products {
//		if ok, reason := feed.Eligibility(p); !ok {
//			report(p, reason)
//			continue
//		}
//		for _, it := range feed.Map(p, s, shop) {
//			probs := feed.Validate(it, s.FieldNames)
//			record(probs)
//			if !feed.HasErrors(probs) {
//				w.Write(it)
//			}
//		}
//	}
//	w.Close()
package feed

// Shop is the shop-level data of the store.
type Shop struct {
	Domain     string // myshopify domain, e.g. "example.myshopify.com"
	Name       string
	Currency   string // ISO 4217, upper case
	Country    string // ISO 3166-1 alpha-2
	PrimaryURL string // e.g. "https://example.com", no trailing slash needed
}

// FieldNames selects the naming of the OpenAI flat-file feed.
type FieldNames string

const (
	// NamesCurrent is the 2026 file-upload spec: item_id, url, image_url,
	// group_id, is_eligible_search, is_eligible_checkout, … The zero value
	// "" means NamesCurrent as well.
	NamesCurrent FieldNames = "current"
	// Names2025 is the launch spec of September 2025: id, link, image_link,
	// item_group_id, enable_search, enable_checkout, return_window, …
	Names2025 FieldNames = "2025"
)

// Valid reports whether n is a known naming ("" counts as NamesCurrent).
func (n FieldNames) Valid() bool {
	return n == "" || n == NamesCurrent || n == Names2025
}

func (n FieldNames) legacy() bool { return n == Names2025 }

// Settings are the merchant's feed settings, edited in the app.
type Settings struct {
	SellerName       string // defaults to Shop.Name
	SellerURL        string // defaults to Shop.PrimaryURL
	StoreCountry     string // ISO 3166-1 alpha-2; defaults to Shop.Country
	TargetCountries  []string
	ReturnPolicyURL  string
	ReturnWindowDays int // 0 = not set
	PrivacyPolicyURL string
	TermsURL         string
	BrandFallback    string // used when a product has no vendor
	EligibleSearch   bool
	EligibleCheckout bool
	FieldNames       FieldNames
}

// Product is one Shopify product with its variants.
type Product struct {
	ID              string // numeric product id; derived from GID when empty
	GID             string // gid://shopify/Product/…
	Handle          string
	Title           string
	DescriptionHTML string
	Vendor          string
	ProductType     string
	Category        string // Shopify Standard Product Taxonomy full name, "A > B > C"
	Status          string // ACTIVE | DRAFT | ARCHIVED (anything but ACTIVE is left out)
	URL             string // onlineStoreUrl, "" when not published to the Online Store
	Tags            []string
	Images          []Image // the first is the featured image
	Variants        []Variant
	Published       bool     // published to the Online Store
	Override        Override // the merchant's decisions, already merged by the caller
}

// Image is a product image.
type Image struct {
	URL    string
	Alt    string
	Width  int
	Height int
}

// Variant is one purchasable variant of a Product.
type Variant struct {
	ID                string // numeric variant id; derived from GID when empty
	GID               string // gid://shopify/ProductVariant/…
	Title             string // "Default Title" for the only variant of an option-less product
	SKU               string
	Barcode           string
	PriceMinor        int64  // in minor units of Currency (see CurrencyExponent)
	CompareAtMinor    int64  // 0 = no compare-at price
	Currency          string // defaults to Shop.Currency
	AvailableForSale  bool
	InventoryQuantity int
	InventoryPolicy   string // DENY | CONTINUE
	Tracked           bool
	RequiresShipping  bool
	WeightValue       float64
	WeightUnit        string // GRAMS | KILOGRAMS | OUNCES | POUNDS
	ImageURL          string
	Options           []Option
}

// Option is one selected option of a variant, such as Color: Red.
type Option struct {
	Name  string
	Value string
}

// Override holds the merchant's per-product (or per-collection) decisions.
// A nil pointer means "no override"; a non-nil one replaces the Shopify value.
type Override struct {
	Exclude          bool
	CheckoutEligible *bool
	Title            *string
	Description      *string // plain text or HTML
	Category         *string
	GTIN             *string
	MPN              *string
}

// Availability is the availability value of an Item.
type Availability string

// Availability values of the current spec. The 2025 spec knows only
// in_stock, out_of_stock and preorder; see Item.Fields for the mapping.
const (
	InStock    Availability = "in_stock"
	OutOfStock Availability = "out_of_stock"
	Backorder  Availability = "backorder"
	PreOrder   Availability = "pre_order"
	Unknown    Availability = "unknown"
)

// Money is an amount in minor units of an ISO 4217 currency. The zero value
// means "no price".
type Money struct {
	Minor    int64
	Currency string
}

// IsZero reports whether m holds no price.
func (m Money) IsZero() bool { return m.Minor == 0 && m.Currency == "" }

// String formats m as the feed expects it, e.g. "12.34 USD".
func (m Money) String() string {
	if m.IsZero() {
		return ""
	}
	return FormatPrice(m.Minor, m.Currency)
}
