package feed

import (
	"net/url"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
)

// Item is one row of the OpenAI flat-file feed: one variant of a product.
// Its fields are those of the current (2026) spec that a Shopify catalog can
// fill, in the order of the feed columns; Fields and the writers render
// them under either naming.
//
// Items made from the same product may share the backing arrays of
// AdditionalImageURLs, VariantDict and TargetCountries: treat them as read-only.
type Item struct {
	ItemID               string // numeric variant id, also the checkout Item.id
	Title                string
	Description          string // plain text
	URL                  string
	Brand                string
	GTIN                 string
	MPN                  string
	ProductCategory      string // "A > B > C"
	Condition            string // always "new" for Shopify catalogs
	ImageURL             string
	AdditionalImageURLs  []string
	Price                Money // regular price: Shopify's compare-at price when the variant is on sale
	SalePrice            Money // zero unless on sale: then Shopify's price
	Availability         Availability
	InventoryQuantity    int // tracked quantity, 0 or more; -1 = not tracked (omitted)
	GroupID              string
	ListingHasVariations bool
	Color                string
	Size                 string
	VariantDict          []Option // every option of the variant, in Shopify's order
	Weight               float64  // 0 = unknown
	WeightUnit           string   // lb | oz | g | kg
	IsDigital            bool
	SellerName           string
	SellerURL            string
	SellerPrivacyPolicy  string
	SellerTOS            string
	ReturnPolicy         string
	AcceptsReturns       bool // false = unknown (omitted)
	ReturnDeadlineInDays int  // 0 = unknown (omitted)
	TargetCountries      []string
	StoreCountry         string
	IsEligibleSearch     bool
	IsEligibleCheckout   bool
}

// Reasons returned by Eligibility.
const (
	ReasonExcluded    = "excluded by the merchant"
	ReasonDraft       = "draft in Shopify"
	ReasonArchived    = "archived in Shopify"
	ReasonUnpublished = "not published to the Online Store sales channel"
	ReasonNoVariants  = "has no variants"
)

// Eligibility reports whether a product belongs in the feed at all, and if
// not, why. Excluded, draft, archived (or any other non-ACTIVE status) and
// unpublished products yield no items; the caller reports them as excluded
// with the reason.
func Eligibility(p Product) (ok bool, reason string) {
	switch {
	case p.Override.Exclude:
		return false, ReasonExcluded
	case p.Status == "DRAFT":
		return false, ReasonDraft
	case p.Status == "ARCHIVED":
		return false, ReasonArchived
	case p.Status != "ACTIVE":
		return false, "status " + p.Status + " is not ACTIVE"
	case !p.Published:
		return false, ReasonUnpublished
	case len(p.Variants) == 0:
		return false, ReasonNoVariants
	}
	return true, ""
}

// Map turns a product into one Item per variant, or nil when Eligibility
// rejects it. It does not validate: run Validate on each item.
func Map(p Product, s Settings, shop Shop) []Item {
	return AppendItems(nil, p, s, shop)
}

// AppendItems is Map appending to dst, so that a caller streaming a large
// catalog can reuse one slice.
func AppendItems(dst []Item, p Product, s Settings, shop Shop) []Item {
	if ok, _ := Eligibility(p); !ok {
		return dst
	}
	pc := newProductContext(&p, s, shop)
	for i := range p.Variants {
		dst = append(dst, pc.item(&p.Variants[i]))
	}
	return dst
}

// productContext holds what every variant of a product shares, computed once.
type productContext struct {
	multi        bool
	productID    string
	title        string
	description  string
	baseURL      string
	brand        string
	category     string
	taxonomy     string // of category, for ToACP
	featured     string
	additional   []string // product images after the featured one
	gtinOverride *string
	mpnOverride  *string
	checkoutOK   bool
	search       bool
	currency     string
	sellerName   string
	sellerURL    string
	privacy      string
	tos          string
	returnPolicy string
	returnDays   int
	targets      []string
	storeCountry string
}

// maxAdditionalImages caps additional_image_urls (Google's limit is 10).
const maxAdditionalImages = 10

func newProductContext(p *Product, s Settings, shop Shop) (pc productContext) {
	pc.multi = len(p.Variants) > 1
	pc.productID = numericID(p.ID, p.GID)

	title := p.Title
	if o := p.Override.Title; o != nil {
		title = *o
	}
	pc.title = CleanTitle(title, 0)

	if o := p.Override.Description; o != nil {
		pc.description = PlainText(*o, MaxDescription)
	} else {
		pc.description = PlainText(p.DescriptionHTML, MaxDescription)
	}

	pc.baseURL = p.URL
	if pc.baseURL == "" && p.Handle != "" && shop.PrimaryURL != "" {
		pc.baseURL = strings.TrimRight(shop.PrimaryURL, "/") + "/products/" + url.PathEscape(p.Handle)
	}

	pc.brand = CleanTitle(p.Vendor, 0)
	if pc.brand == "" {
		pc.brand = CleanTitle(s.BrandFallback, 0)
	}

	pc.category, pc.taxonomy = p.Category, acp.TaxonomyShopify
	if o := p.Override.Category; o != nil {
		pc.category, pc.taxonomy = *o, acp.TaxonomyMerchant
	} else if pc.category == "" {
		pc.category, pc.taxonomy = p.ProductType, acp.TaxonomyMerchant // the merchant's own type beats nothing
	}
	pc.category = CleanTitle(pc.category, 0)

	for _, img := range p.Images {
		if img.URL == "" {
			continue
		}
		if pc.featured == "" {
			pc.featured = img.URL
			continue
		}
		if len(pc.additional) < maxAdditionalImages {
			pc.additional = append(pc.additional, img.URL)
		}
	}

	pc.gtinOverride = p.Override.GTIN
	pc.mpnOverride = p.Override.MPN
	pc.search = s.EligibleSearch
	pc.checkoutOK = s.EligibleCheckout && s.EligibleSearch &&
		(p.Override.CheckoutEligible == nil || *p.Override.CheckoutEligible)

	pc.currency = shop.Currency
	pc.sellerName = CleanTitle(s.SellerName, 0)
	if pc.sellerName == "" {
		pc.sellerName = CleanTitle(shop.Name, 0)
	}
	pc.sellerURL = s.SellerURL
	if pc.sellerURL == "" {
		pc.sellerURL = shop.PrimaryURL
	}
	pc.privacy = s.PrivacyPolicyURL
	pc.tos = s.TermsURL
	pc.returnPolicy = s.ReturnPolicyURL
	pc.returnDays = max(s.ReturnWindowDays, 0)

	pc.storeCountry = strings.ToUpper(strings.TrimSpace(s.StoreCountry))
	if pc.storeCountry == "" {
		pc.storeCountry = strings.ToUpper(strings.TrimSpace(shop.Country))
	}
	pc.targets = upperAll(s.TargetCountries)
	if len(pc.targets) == 0 && pc.storeCountry != "" {
		pc.targets = []string{pc.storeCountry}
	}
	return pc
}

func (pc *productContext) item(v *Variant) Item {
	it := Item{
		ItemID:               numericID(v.ID, v.GID),
		Description:          pc.description,
		Brand:                pc.brand,
		ProductCategory:      pc.category,
		Condition:            "new",
		GroupID:              pc.productID,
		ListingHasVariations: pc.multi,
		IsDigital:            !v.RequiresShipping,
		SellerName:           pc.sellerName,
		SellerURL:            pc.sellerURL,
		SellerPrivacyPolicy:  pc.privacy,
		SellerTOS:            pc.tos,
		ReturnPolicy:         pc.returnPolicy,
		AcceptsReturns:       pc.returnDays > 0,
		ReturnDeadlineInDays: pc.returnDays,
		TargetCountries:      pc.targets,
		StoreCountry:         pc.storeCountry,
		IsEligibleSearch:     pc.search,
	}

	it.Title = pc.variantTitle(v)
	it.URL = pc.variantURL(it.ItemID)

	// Identifiers: a barcode that is a GTIN (8–14 digits, separators
	// ignored) is the gtin; otherwise the SKU stands in as mpn.
	if pc.gtinOverride != nil {
		it.GTIN = CleanTitle(*pc.gtinOverride, 0)
	} else if g, ok := gtinOf(v.Barcode); ok {
		it.GTIN = g
	}
	if pc.mpnOverride != nil {
		it.MPN = CleanTitle(*pc.mpnOverride, 0)
	} else if it.GTIN == "" {
		it.MPN = CleanTitle(v.SKU, 0)
	}

	// Images: the variant's own image first, else the featured one.
	it.ImageURL = pc.featured
	it.AdditionalImageURLs = pc.additional
	if v.ImageURL != "" && v.ImageURL != pc.featured {
		it.ImageURL = v.ImageURL
		extra := make([]string, 0, min(len(pc.additional)+1, maxAdditionalImages))
		if pc.featured != "" {
			extra = append(extra, pc.featured)
		}
		for _, u := range pc.additional {
			if u != v.ImageURL && len(extra) < maxAdditionalImages {
				extra = append(extra, u)
			}
		}
		it.AdditionalImageURLs = extra
	}

	// Prices. Shopify's price is what the buyer pays; its compare-at price
	// is the "was" price. The feed convention (Google, OpenAI) is the other
	// way round: price is the regular price and sale_price the discounted
	// one. So a variant on sale gets price = compare-at, sale_price = price.
	cur := v.Currency
	if cur == "" {
		cur = pc.currency
	}
	cur = strings.ToUpper(cur)
	it.Price = Money{Minor: v.PriceMinor, Currency: cur}
	if v.CompareAtMinor > v.PriceMinor && v.PriceMinor > 0 {
		it.Price = Money{Minor: v.CompareAtMinor, Currency: cur}
		it.SalePrice = Money{Minor: v.PriceMinor, Currency: cur}
	}

	it.Availability = availabilityOf(v)
	it.InventoryQuantity = -1
	if v.Tracked {
		it.InventoryQuantity = max(v.InventoryQuantity, 0)
	}
	it.IsEligibleCheckout = pc.checkoutOK && it.Availability != OutOfStock

	// Options.
	if !isDefaultOnly(v) {
		it.VariantDict = v.Options
		for _, o := range v.Options {
			switch {
			case it.Color == "" && isColorOption(o.Name):
				it.Color = CleanTitle(o.Value, 0)
			case it.Size == "" && isSizeOption(o.Name):
				it.Size = CleanTitle(o.Value, 0)
			}
		}
	}

	// Weight matters for shipped goods only.
	if v.RequiresShipping && v.WeightValue > 0 {
		if u := weightUnit(v.WeightUnit); u != "" {
			it.Weight, it.WeightUnit = v.WeightValue, u
		}
	}
	return it
}

// variantTitle is the product title, plus " - " and the variant title when
// the variant has a meaningful one, cut to MaxTitle characters. When the
// whole is too long the product title gives way, so that variants stay
// distinguishable.
func (pc *productContext) variantTitle(v *Variant) string {
	vt := ""
	if !isDefaultTitle(v.Title) {
		vt = CleanTitle(v.Title, 0)
	}
	if vt == "" || strings.EqualFold(vt, pc.title) {
		return truncate(pc.title, MaxTitle)
	}
	suffix := " - " + vt
	n := runeCount(suffix)
	if runeCount(pc.title)+n <= MaxTitle {
		return pc.title + suffix
	}
	if n > MaxTitle/2 {
		return truncate(pc.title+suffix, MaxTitle)
	}
	return truncate(pc.title, MaxTitle-n) + suffix
}

// variantURL is the product URL with ?variant=ID for multi-variant products
// (a Shopify theme preselects that variant).
func (pc *productContext) variantURL(id string) string {
	if !pc.multi || pc.baseURL == "" || id == "" {
		return pc.baseURL
	}
	base, frag, hasFrag := strings.Cut(pc.baseURL, "#")
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	u := base + sep + "variant=" + id
	if hasFrag {
		u += "#" + frag
	}
	return u
}

// availabilityOf applies the Shopify rules:
//   - not availableForSale → out_of_stock (Shopify will not sell it);
//   - inventory not tracked → in_stock;
//   - quantity above 0 → in_stock (however few are left);
//   - quantity 0 or less with policy CONTINUE → backorder (sellable, ships later);
//   - otherwise (DENY) → out_of_stock.
func availabilityOf(v *Variant) Availability {
	switch {
	case !v.AvailableForSale:
		return OutOfStock
	case !v.Tracked, v.InventoryQuantity > 0:
		return InStock
	case strings.EqualFold(v.InventoryPolicy, "CONTINUE"):
		return Backorder
	}
	return OutOfStock
}

func isDefaultTitle(t string) bool { return t == "" || t == "Default Title" }

// isDefaultOnly reports whether v is the placeholder variant of a product
// without options (Shopify's "Title: Default Title").
func isDefaultOnly(v *Variant) bool {
	if len(v.Options) == 0 {
		return true
	}
	return len(v.Options) == 1 && v.Options[0].Name == "Title" && v.Options[0].Value == "Default Title"
}

func isColorOption(name string) bool {
	for _, n := range [...]string{"color", "colour", "colors", "colours", "couleur", "farbe", "colore", "kleur", "cor"} {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return true
		}
	}
	return false
}

func isSizeOption(name string) bool {
	for _, n := range [...]string{"size", "sizes", "taille", "größe", "grösse", "talla", "taglia", "maat", "tamanho"} {
		if strings.EqualFold(strings.TrimSpace(name), n) {
			return true
		}
	}
	return false
}

// weightUnit maps Shopify's WeightUnit enum to the feed's units.
func weightUnit(u string) string {
	switch strings.ToUpper(u) {
	case "GRAMS":
		return "g"
	case "KILOGRAMS":
		return "kg"
	case "OUNCES":
		return "oz"
	case "POUNDS":
		return "lb"
	}
	return ""
}

// numericID returns id, or the last path segment of a Shopify GID
// ("gid://shopify/ProductVariant/123" → "123") when id is empty.
func numericID(id, gid string) string {
	if id != "" {
		return id
	}
	if i := strings.LastIndexByte(gid, '/'); i >= 0 {
		gid = gid[i+1:]
	}
	if q := strings.IndexByte(gid, '?'); q >= 0 {
		gid = gid[:q]
	}
	return gid
}

// gtinOf returns the barcode as a GTIN when, separators (spaces, hyphens)
// removed, it is 8 to 14 digits.
func gtinOf(barcode string) (string, bool) {
	var buf [14]byte
	n := 0
	for i := 0; i < len(barcode); i++ {
		c := barcode[i]
		switch {
		case c == ' ' || c == '-':
			continue
		case c < '0' || c > '9' || n == len(buf):
			return "", false
		}
		buf[n] = c
		n++
	}
	if n < 8 {
		return "", false
	}
	if n == len(barcode) {
		return barcode, true
	}
	return string(buf[:n]), true
}

func upperAll(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		if s = strings.ToUpper(strings.TrimSpace(s)); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func runeCount(s string) int {
	n := 0
	for range s {
		n++
	}
	return n
}
