package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Product is a product of an emulated shop, in Shopify's product model
// (docs/shopify.md §4.5). Prices are in the shop's currency (USD).
type Product struct {
	ID              int64
	Title           string
	Handle          string
	DescriptionHTML string
	Vendor          string
	ProductType     string
	Status          string // ACTIVE, DRAFT or ARCHIVED
	Tags            []string
	Category        *Category // nil when uncategorized
	Images          []Image   // product media in position order; the first is featured
	Options         []Option
	Variants        []Variant
	SEOTitle        string
	SEODescription  string
	// Collections are the (manual) collections the product belongs to.
	Collections []Collection
	// Published says whether the product is on the Online Store channel;
	// Shopify's onlineStoreUrl is null otherwise.
	Published bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Collection is a collection of products.
type Collection struct {
	ID            int64
	Handle, Title string
}

// GID is the collection's Admin API id.
func (c Collection) GID() string { return gid("Collection", c.ID) }

// Category is a node of Shopify's Standard Product Taxonomy.
type Category struct {
	ID       string // full GID, e.g. gid://shopify/TaxonomyCategory/aa-1-13-8
	Name     string
	FullName string
}

// Image is a MediaImage of a product.
type Image struct {
	ID            int64
	URL           string
	AltText       string
	Width, Height int
}

// Option is a product option such as Size, with its values in order.
type Option struct {
	Name   string
	Values []string
}

// SelectedOption is a variant's value for one product option.
type SelectedOption struct {
	Name, Value string
}

// Variant is a product variant with its inventory item folded in.
type Variant struct {
	ID              int64
	InventoryItemID int64
	Title           string
	SKU             string
	Barcode         string
	// PriceCents and CompareAtPriceCents are minor units; a zero
	// CompareAtPriceCents means no compare-at price.
	PriceCents          int64
	CompareAtPriceCents int64
	InventoryQuantity   int
	InventoryPolicy     string // DENY or CONTINUE
	Tracked             bool
	RequiresShipping    bool
	Taxable             bool
	WeightGrams         float64
	SelectedOptions     []SelectedOption
	ImageID             int64 // one of the product's Images, 0 for none
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// AvailableForSale is Shopify's rule: untracked, sold past zero, or in stock.
func (v *Variant) AvailableForSale() bool {
	return !v.Tracked || v.InventoryPolicy == "CONTINUE" || v.InventoryQuantity > 0
}

// GID is the product's Admin API id.
func (p *Product) GID() string { return gid("Product", p.ID) }

// GID is the variant's Admin API id.
func (v *Variant) GID() string { return gid("ProductVariant", v.ID) }

// clone deep-copies a product so callers never share the store's slices.
func (p *Product) clone() *Product {
	c := *p
	c.Tags = slices.Clone(p.Tags)
	if p.Category != nil {
		cat := *p.Category
		c.Category = &cat
	}
	c.Images = slices.Clone(p.Images)
	c.Collections = slices.Clone(p.Collections)
	c.Options = make([]Option, len(p.Options))
	for i, o := range p.Options {
		c.Options[i] = Option{Name: o.Name, Values: slices.Clone(o.Values)}
	}
	c.Variants = make([]Variant, len(p.Variants))
	for i, v := range p.Variants {
		v.SelectedOptions = slices.Clone(v.SelectedOptions)
		c.Variants[i] = v
	}
	return &c
}

// image returns the product image with that id, or nil.
func (p *Product) image(id int64) *Image {
	for i := range p.Images {
		if p.Images[i].ID == id {
			return &p.Images[i]
		}
	}
	return nil
}

// formatMoney renders minor units as Shopify's Money scalar, e.g. "19.99".
func formatMoney(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d.%02d", sign, cents/100, cents%100)
}

// gid builds a Shopify global id.
func gid(kind string, id int64) string {
	return "gid://shopify/" + kind + "/" + strconv.FormatInt(id, 10)
}

// parseGID reads the numeric id of a GID of the given kind; a bare number is
// accepted too, as the test helpers take either.
func parseGID(s, kind string) (int64, bool) {
	s = strings.TrimPrefix(s, "gid://shopify/"+kind+"/")
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i]
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

// gidKind returns the type part of a GID ("Product"), or "".
func gidKind(s string) string {
	rest, ok := strings.CutPrefix(s, "gid://shopify/")
	if !ok {
		return ""
	}
	kind, _, _ := strings.Cut(rest, "/")
	return kind
}
