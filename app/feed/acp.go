package feed

import (
	"net/url"

	"github.com/acpbridge/acpbridge/acp"
)

// ToACP builds the ACP Feed API (2026-04-17) shape of a product: the body
// element of PATCH /feeds/{id}/products and one line of products.jsonl.
//
// It shares Map's rules (titles, URLs, identifiers, availability,
// overrides) but follows the ACP conventions where they differ: prices are
// integers in minor units with an upper-case currency, price is what the
// buyer pays and list_price the compare-at price when higher (no swap as in
// the OpenAI sale_price convention), availability is {available, status}
// with status in_stock | backorder | out_of_stock, barcodes are
// [{type:"GTIN", value}], the category is tagged with taxonomy "shopify"
// (Standard Product Taxonomy) or "merchant" (product type or override), and
// the seller carries privacy_policy, terms_of_service and refund_policy
// links. Product.id is the numeric product id (the group_id of the flat
// feed) and Variant.id the numeric variant id (the checkout Item.id).
//
// ToACP does not check Eligibility: the caller leaves out the products that
// Eligibility rejects.
func ToACP(p Product, s Settings, shop Shop) acp.FeedProduct {
	pc := newProductContext(&p, s, shop)
	fp := acp.FeedProduct{
		ID:       pc.productID,
		Title:    pc.title,
		URL:      absURL(pc.baseURL),
		Variants: make([]acp.FeedVariant, 0, len(p.Variants)),
	}
	if pc.description != "" {
		fp.Description = &acp.FeedDescription{Plain: pc.description}
	}
	for _, img := range p.Images {
		if u := absURL(img.URL); u != "" {
			fp.Media = append(fp.Media, acpMedia(img))
		}
	}

	var seller *acp.FeedSeller
	if links := pc.sellerLinks(); pc.sellerName != "" || len(links) > 0 {
		seller = &acp.FeedSeller{Name: pc.sellerName, Links: links}
	}
	var categories []acp.FeedCategory
	if pc.category != "" {
		categories = []acp.FeedCategory{{Value: pc.category, Taxonomy: pc.taxonomy}}
	}

	for i := range p.Variants {
		v := &p.Variants[i]
		it := pc.item(v)
		fv := acp.FeedVariant{
			ID:         it.ItemID,
			Title:      it.Title,
			URL:        absURL(it.URL),
			Categories: categories,
			Condition:  []string{acp.ConditionNew},
			Seller:     seller,
		}
		if it.GTIN != "" && allDigits(it.GTIN) && len(it.GTIN) >= 8 && len(it.GTIN) <= 14 {
			fv.Barcodes = []acp.FeedBarcode{{Type: acp.BarcodeGTIN, Value: it.GTIN}}
		}
		cur := it.Price.Currency
		if validCurrency(cur) && v.PriceMinor >= 0 {
			fv.Price = &acp.FeedPrice{Amount: v.PriceMinor, Currency: cur}
			if v.CompareAtMinor > v.PriceMinor {
				fv.ListPrice = &acp.FeedPrice{Amount: v.CompareAtMinor, Currency: cur}
			}
		}
		fv.Availability = &acp.FeedAvailability{
			Available: new(it.Availability != OutOfStock),
			Status:    acpStatus(it.Availability),
		}
		for _, o := range it.VariantDict {
			fv.VariantOptions = append(fv.VariantOptions, acp.FeedVariantOption{Name: o.Name, Value: o.Value})
		}
		if u := absURL(v.ImageURL); u != "" {
			img := Image{URL: u}
			for _, pi := range p.Images {
				if pi.URL == v.ImageURL {
					img = pi
					break
				}
			}
			fv.Media = []acp.FeedMedia{acpMedia(img)}
		}
		fp.Variants = append(fp.Variants, fv)
	}
	return fp
}

func (pc *productContext) sellerLinks() []acp.FeedLink {
	var links []acp.FeedLink
	for _, l := range [...]acp.FeedLink{
		{Type: acp.LinkPrivacyPolicy, Title: "Privacy Policy", URL: pc.privacy},
		{Type: acp.LinkTermsOfService, Title: "Terms of Service", URL: pc.tos},
		{Type: acp.LinkRefundPolicy, Title: "Return Policy", URL: pc.returnPolicy},
	} {
		if l.URL = absURL(l.URL); l.URL != "" {
			links = append(links, l)
		}
	}
	return links
}

func acpMedia(img Image) acp.FeedMedia {
	return acp.FeedMedia{
		Type:    acp.MediaImage,
		URL:     img.URL,
		AltText: CleanTitle(img.Alt, 0),
		Width:   max(img.Width, 0),
		Height:  max(img.Height, 0),
	}
}

func acpStatus(a Availability) string {
	switch a {
	case InStock:
		return acp.StockInStock
	case Backorder:
		return acp.StockBackorder
	case PreOrder:
		return acp.StockPreorder
	case OutOfStock:
		return acp.StockOutOfStock
	}
	return string(a)
}

// absURL returns u when it is an absolute URL with a host (the schema's
// "uri" format), else "".
func absURL(u string) string {
	if u == "" {
		return ""
	}
	pu, err := url.Parse(u)
	if err != nil || !pu.IsAbs() || pu.Host == "" {
		return ""
	}
	return u
}
