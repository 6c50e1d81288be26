package emulator

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// productKind is a template for seeded products.
type productKind struct {
	noun        string
	productType string
	vendors     []string
	category    *Category
	option      string   // "" means a single Default Title variant
	values      []string // option values, in order
	minCents    int64
	maxCents    int64
	grams       float64
	digital     bool
	tags        []string
	blurb       string // the description's first sentence, %s = title
}

// Taxonomy ids are taken from Shopify/product-taxonomy; products of other
// kinds stay uncategorized, as many real products are.
var (
	catTShirts = &Category{ID: "gid://shopify/TaxonomyCategory/aa-1-13-8", Name: "T-Shirts", FullName: "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts"}
	catHats    = &Category{ID: "gid://shopify/TaxonomyCategory/aa-2-17", Name: "Hats", FullName: "Apparel & Accessories > Clothing Accessories > Hats"}
	catSocks   = &Category{ID: "gid://shopify/TaxonomyCategory/aa-1-18", Name: "Socks", FullName: "Apparel & Accessories > Clothing > Socks"}
	catJackets = &Category{ID: "gid://shopify/TaxonomyCategory/aa-1-10-2", Name: "Coats & Jackets", FullName: "Apparel & Accessories > Clothing > Outerwear > Coats & Jackets"}
	catDogToys = &Category{ID: "gid://shopify/TaxonomyCategory/ap-2-3-7", Name: "Dog Toys", FullName: "Animals & Pet Supplies > Pet Supplies > Dog Supplies > Dog Toys"}
	catCatToys = &Category{ID: "gid://shopify/TaxonomyCategory/ap-2-2-5", Name: "Cat Toys", FullName: "Animals & Pet Supplies > Pet Supplies > Cat Supplies > Cat Toys"}
)

var (
	apparelVendors = []string{"Northwind Supply Co.", "Harbor & Pine", "Kestrel Goods"}
	homeVendors    = []string{"Harbor & Pine", "Fernhill Home", "Kestrel Goods"}
	petVendors     = []string{"Little Fox Pet Co.", "Good Boy Goods"}
	sizes          = []string{"S", "M", "L", "XL"}
)

// The first three kinds are the guaranteed products 0-2 of seedCatalog.
var kinds = []productKind{
	{noun: "Organic Cotton T-Shirt", productType: "T-Shirts", vendors: apparelVendors, category: catTShirts, option: "Size", values: sizes, minCents: 1800, maxCents: 3400, grams: 180, tags: []string{"apparel", "organic"}, blurb: "The %s is cut from soft, breathable organic cotton and pre-shrunk so it keeps its fit."},
	{noun: "Packable Rain Jacket", productType: "Jackets", vendors: apparelVendors, category: catJackets, option: "Size", values: sizes, minCents: 8900, maxCents: 14900, grams: 420, tags: []string{"apparel", "outerwear", "waterproof"}, blurb: "The %s is fully seam-taped, folds into its own pocket and shrugs off a downpour."},
	{noun: "Trail Field Guide (E-book)", productType: "E-books", vendors: []string{"Fieldnote Press"}, option: "Format", values: []string{"PDF", "EPUB"}, minCents: 999, maxCents: 1499, digital: true, tags: []string{"digital", "books"}, blurb: "The %s is a downloadable guide to 60 day hikes, with maps and packing lists."},
	{noun: "Ribbed Beanie", productType: "Hats", vendors: apparelVendors, category: catHats, option: "Color", values: []string{"Charcoal", "Mustard", "Forest", "Oat"}, minCents: 2200, maxCents: 3200, grams: 90, tags: []string{"apparel", "winter"}, blurb: "The %s is knitted from merino wool and folds up or slouches down."},
	{noun: "Merino Hiking Socks", productType: "Socks", vendors: apparelVendors, category: catSocks, option: "Size", values: []string{"S/M", "L/XL"}, minCents: 1600, maxCents: 2400, grams: 70, tags: []string{"apparel", "hiking"}, blurb: "The %s are cushioned where it counts and never itch."},
	{noun: "Stoneware Mug", productType: "Mugs", vendors: homeVendors, option: "Color", values: []string{"Sand", "Slate", "Sage"}, minCents: 1800, maxCents: 2800, grams: 380, tags: []string{"home", "kitchen"}, blurb: "The %s is thrown by hand, holds 12 oz and is dishwasher safe."},
	{noun: "Soy Candle", productType: "Candles", vendors: homeVendors, option: "Scent", values: []string{"Cedar", "Fig", "Sea Salt", "Amber"}, minCents: 2400, maxCents: 3800, grams: 300, tags: []string{"home", "gift"}, blurb: "The %s burns clean for about 45 hours in a reusable glass jar."},
	{noun: "Canvas Tote Bag", productType: "Bags", vendors: homeVendors, minCents: 2000, maxCents: 3600, grams: 250, tags: []string{"accessories"}, blurb: "The %s has a reinforced base and an inside pocket for keys."},
	{noun: "Insulated Water Bottle", productType: "Drinkware", vendors: homeVendors, option: "Color", values: []string{"Glacier", "Ember", "Moss"}, minCents: 2600, maxCents: 3900, grams: 340, tags: []string{"outdoors", "drinkware"}, blurb: "The %s keeps drinks cold for 24 hours and hot for 12."},
	{noun: "Rope Tug Toy", productType: "Dog Toys", vendors: petVendors, category: catDogToys, option: "Size", values: []string{"Small", "Large"}, minCents: 1200, maxCents: 1900, grams: 200, tags: []string{"pets", "dogs"}, blurb: "The %s is braided from untreated cotton and survives serious tugging."},
	{noun: "Feather Wand Toy", productType: "Cat Toys", vendors: petVendors, category: catCatToys, minCents: 900, maxCents: 1400, grams: 60, tags: []string{"pets", "cats"}, blurb: "The %s flutters like a bird and brings out the hunter in any cat."},
}

var adjectives = []string{"Harbor", "Alpine", "Everyday", "Cedar", "Coastal", "Midnight", "Trailhead", "Sunday", "Heritage", "Meadow", "Summit", "Driftwood", "Juniper", "Northern"}

// seedCatalog makes n products for a shop, deterministic for a seed. The first
// five are the ones tests and the demo rely on:
//
//	0: a T-shirt with 4 sizes, XL out of stock (0, DENY), L with 2 left
//	1: a rain jacket with a compare-at price above the price on every variant
//	2: a digital e-book, no shipping and no inventory tracking
//	3: a DRAFT product, 4: an ARCHIVED product (neither on the Online Store)
func seedCatalog(shopIndex, n int, seed int64, now time.Time) []*Product {
	rng := rand.New(rand.NewPCG(uint64(seed), uint64(shopIndex)+1))
	ids := &idSeq{shop: int64(shopIndex)}
	used := map[string]bool{}
	products := make([]*Product, 0, n)
	for i := range n {
		kind := kinds[rng.IntN(len(kinds))]
		switch i {
		case 0, 1, 2:
			kind = kinds[i]
		}
		title := uniqueTitle(rng, kind.noun, used)
		created := now.Add(-time.Duration(n-i) * 6 * time.Hour)
		p := &Product{
			ID:              ids.next(8_000_000_000_000),
			Title:           title,
			Handle:          slugify(title),
			DescriptionHTML: describe(kind, title),
			Vendor:          kind.vendors[rng.IntN(len(kind.vendors))],
			ProductType:     kind.productType,
			Status:          "ACTIVE",
			Tags:            append([]string{strings.ToLower(strings.Fields(title)[0])}, kind.tags...),
			Category:        kind.category,
			Published:       true,
			CreatedAt:       created,
			UpdatedAt:       created.Add(time.Duration(rng.IntN(300)) * time.Minute),
		}
		p.SEOTitle = title
		p.SEODescription = fmt.Sprintf(kind.blurb, title)
		for k := range 1 + rng.IntN(3) {
			p.Images = append(p.Images, Image{
				ID:      ids.next(30_000_000_000_000),
				URL:     fmt.Sprintf("https://cdn.shopify.com/s/files/1/%04d/%04d/%04d/files/%s-%d.jpg?v=%d", 600+shopIndex, rng.IntN(10000), rng.IntN(10000), p.Handle, k+1, created.Unix()),
				AltText: fmt.Sprintf("%s, view %d", title, k+1),
				Width:   2048, Height: 2048,
			})
		}
		seedVariants(rng, ids, p, kind, i)
		p.Collections = seedCollections(p)
		switch i {
		case 3:
			p.Status, p.Published = "DRAFT", false
		case 4:
			p.Status, p.Published = "ARCHIVED", false
		}
		products = append(products, p)
	}
	return products
}

// seedVariants gives p 1-4 variants of kind (all four sizes for product 0)
// and applies the guaranteed stock and price cases.
func seedVariants(rng *rand.Rand, ids *idSeq, p *Product, kind productKind, index int) {
	values := []string{"Default Title"}
	optName := "Title"
	if kind.option != "" {
		optName = kind.option
		count := 1 + rng.IntN(min(4, len(kind.values)))
		if index <= 2 {
			count = len(kind.values)
		}
		values = kind.values[:count]
	}
	p.Options = []Option{{Name: optName, Values: values}}
	base := kind.minCents + rng.Int64N(kind.maxCents-kind.minCents+1)
	base = base/100*100 + 99 // prices end in .99, as shops like them
	for j, val := range values {
		price := base
		if optName == "Size" && (val == "XL" || val == "L/XL") {
			price += 200
		}
		v := Variant{
			ID:                ids.next(44_000_000_000_000),
			InventoryItemID:   ids.next(46_000_000_000_000),
			Title:             val,
			SKU:               fmt.Sprintf("%s-%d-%s", skuPrefix(p.Vendor), p.ID%100000, strings.ToUpper(strings.NewReplacer("/", "", " ", "").Replace(val))),
			Barcode:           gtin13(rng),
			PriceCents:        price,
			InventoryQuantity: 5 + rng.IntN(120),
			InventoryPolicy:   "DENY",
			Tracked:           true,
			RequiresShipping:  !kind.digital,
			Taxable:           true,
			WeightGrams:       kind.grams,
			SelectedOptions:   []SelectedOption{{Name: optName, Value: val}},
			CreatedAt:         p.CreatedAt,
			UpdatedAt:         p.UpdatedAt,
		}
		if len(p.Images) > 0 {
			v.ImageID = p.Images[j%len(p.Images)].ID
		}
		if kind.digital {
			v.Tracked, v.InventoryQuantity, v.WeightGrams = false, 0, 0
		}
		switch {
		case index == 0 && val == "XL":
			v.InventoryQuantity, v.InventoryPolicy = 0, "DENY"
		case index == 0 && val == "L":
			v.InventoryQuantity = 2
		case index == 1:
			v.CompareAtPriceCents = price + 3000
		case index > 4 && rng.IntN(5) == 0:
			v.CompareAtPriceCents = price + int64(1+rng.IntN(4))*500
		case index > 4 && rng.IntN(10) == 0:
			v.InventoryPolicy = "CONTINUE"
		}
		p.Variants = append(p.Variants, v)
	}
}

// idSeq hands out numeric ids that look like Shopify's and differ per shop.
type idSeq struct {
	shop int64
	seq  int64
}

func (s *idSeq) next(base int64) int64 {
	s.seq++
	return base + s.shop*100_000_000 + s.seq
}

// uniqueTitle picks "<adjective> <noun>" not used yet in this shop.
func uniqueTitle(rng *rand.Rand, noun string, used map[string]bool) string {
	for range 20 {
		t := adjectives[rng.IntN(len(adjectives))] + " " + noun
		if !used[t] {
			used[t] = true
			return t
		}
	}
	for i := 2; ; i++ {
		t := fmt.Sprintf("%s %s No. %d", adjectives[rng.IntN(len(adjectives))], noun, i)
		if !used[t] {
			used[t] = true
			return t
		}
	}
}

// describe writes a product's descriptionHtml.
func describe(kind productKind, title string) string {
	ship := "Ships in recyclable packaging within two business days."
	if kind.digital {
		ship = "Delivered instantly by email as a download link; nothing is shipped."
	}
	return fmt.Sprintf("<p>%s</p><ul><li>Designed in Portland, Oregon.</li><li>%s</li></ul>", fmt.Sprintf(kind.blurb, title), ship)
}

// slugify makes a Shopify-style handle from a title.
func slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}

// skuPrefix abbreviates a vendor name, "Harbor & Pine" -> "HP".
func skuPrefix(vendor string) string {
	var b strings.Builder
	for _, w := range strings.Fields(vendor) {
		if c := w[0]; c >= 'A' && c <= 'Z' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// gtin13 returns a random EAN-13 with a valid check digit, so feed
// validators that check GTINs accept it.
func gtin13(rng *rand.Rand) string {
	d := make([]byte, 13)
	sum := 0
	for i := range 12 {
		n := rng.IntN(10)
		if i == 0 {
			n = 8 + rng.IntN(2) // 8x/9x prefixes, like many retail barcodes
		}
		d[i] = byte('0' + n)
		if i%2 == 1 {
			n *= 3
		}
		sum += n
	}
	d[12] = byte('0' + (10-sum%10)%10)
	return string(d)
}

// stripTags turns descriptionHtml into Shopify's plain-text description.
func stripTags(html string) string {
	var b strings.Builder
	in := false
	for _, r := range html {
		switch {
		case r == '<':
			in = true
			b.WriteByte(' ')
		case r == '>':
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// seedCollections puts a product in the collection of its product type,
// and in "Sale" when any variant has a compare-at price.
func seedCollections(p *Product) []Collection {
	cs := []Collection{collectionNamed(p.ProductType)}
	for _, v := range p.Variants {
		if v.CompareAtPriceCents > v.PriceCents {
			cs = append(cs, collectionNamed("Sale"))
			break
		}
	}
	return cs
}

// collectionNamed derives a stable collection from its title.
func collectionNamed(title string) Collection {
	var h int64 = 7
	for _, r := range title {
		h = (h*31 + int64(r)) % 1_000_000
	}
	return Collection{ID: 400_000_000_000 + h, Handle: slugify(title), Title: title}
}
