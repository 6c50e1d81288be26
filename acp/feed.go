package acp

import (
	"encoding/json"
	"time"
)

// This file holds the wire types of the ACP Feed API, version 2026-04-17
// (spec/2026-04-17/schema.feed.json and openapi.feed.yaml). The agent hosts
// the API and the merchant pushes to it:
//
//	POST  /feeds                → 201 FeedMetadata          (body CreateFeedRequest)
//	GET   /feeds/{id}           → 200 FeedMetadata | 404 Error (code "feed_not_found")
//	GET   /feeds/{id}/products  → 200 ProductsResponse
//	PATCH /feeds/{id}/products  → 200 UpsertProductsResponse (body UpsertProductsRequest)
//
// The same Product shape is used by file ingestion, which replaces the whole
// product set: metadata.json holds a FeedMetadata and products.jsonl one
// FeedProduct per line.
//
// Every type follows the schema field for field: a field the schema lists
// as required has no omitempty; an optional one does. Optional objects are
// pointers so that "absent" and "present but empty" stay distinct, and
// Availability.Available is a *bool because false is a meaningful value.
// The Feed API's Error object has exactly the shape of Error in acp.go, so
// that type is used for feed errors too.
//
// Gotcha: feed prices carry an UPPER-case ISO 4217 currency ("USD"), while
// the checkout API uses lower case ("usd").

// Feed error codes used by the Feed API examples.
const (
	FeedCodeNotFound              = "feed_not_found"
	FeedCodeInvalidTargetCountry  = "invalid_target_country"
	FeedCodeInvalidProductPayload = "invalid_product_payload"
)

// Known values of FeedAvailability.Status. The schema leaves the field open.
const (
	StockInStock      = "in_stock"
	StockLimited      = "limited_stock"
	StockBackorder    = "backorder"
	StockPreorder     = "preorder"
	StockOutOfStock   = "out_of_stock"
	StockDiscontinued = "discontinued"
)

// Known values of FeedLink.Type. The schema leaves the field open.
const (
	LinkPrivacyPolicy  = "privacy_policy"
	LinkTermsOfService = "terms_of_service"
	LinkRefundPolicy   = "refund_policy"
	LinkShippingPolicy = "shipping_policy"
	LinkFAQ            = "faq"
)

// Known values of FeedBarcode.Type, FeedMedia.Type and FeedCategory.Taxonomy.
const (
	BarcodeGTIN = "GTIN"
	BarcodeUPC  = "UPC"
	BarcodeEAN  = "EAN"

	MediaImage = "image"
	MediaVideo = "video"
	MediaModel = "model"

	TaxonomyGoogle   = "google_product_category"
	TaxonomyShopify  = "shopify"
	TaxonomyMerchant = "merchant"
)

// ConditionNew is the usual entry of FeedVariant.Condition.
const ConditionNew = "new"

// FeedDescription is long-form description content ($defs/Description). The
// schema requires at least one of the three fields; a caller that has no
// description leaves the pointer that holds it nil.
type FeedDescription struct {
	Plain    string `json:"plain,omitempty"`
	HTML     string `json:"html,omitempty"`
	Markdown string `json:"markdown,omitempty"`
}

// FeedPrice is an amount in ISO 4217 minor units ($defs/Price), for example
// {1999, "USD"} for $19.99. Amount must not be negative; Currency is UPPER case.
type FeedPrice struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// FeedMeasure is a measured quantity with a unit ($defs/Measure).
type FeedMeasure struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// FeedReferenceMeasure is the reference unit a unit price is normalised to
// ($defs/ReferenceMeasure), for example 100 ml.
type FeedReferenceMeasure struct {
	Value int64  `json:"value"`
	Unit  string `json:"unit"`
}

// FeedUnitPrice is a normalised price for goods sold by measure ($defs/UnitPrice).
type FeedUnitPrice struct {
	Amount    int64                `json:"amount"`
	Currency  string               `json:"currency"`
	Measure   FeedMeasure          `json:"measure"`
	Reference FeedReferenceMeasure `json:"reference"`
}

// FeedAvailability says whether a variant can be bought ($defs/Availability).
// Status is one of the Stock* constants or another extension value.
type FeedAvailability struct {
	Available *bool  `json:"available,omitempty"`
	Status    string `json:"status,omitempty"`
}

// FeedBarcode is a machine-readable identifier of a variant ($defs/Barcode).
type FeedBarcode struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// FeedMedia is an image, video or model ($defs/Media). Width and Height are
// pixels, 0 when unknown.
type FeedMedia struct {
	Type    string `json:"type"`
	URL     string `json:"url"`
	AltText string `json:"alt_text,omitempty"`
	Width   int    `json:"width,omitempty"`
	Height  int    `json:"height,omitempty"`
}

// FeedVariantOption is one selected option of a variant ($defs/VariantOption),
// for example Color: Red.
type FeedVariantOption struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// FeedCategory places a product in a taxonomy ($defs/Category). Value is
// usually a path such as "Apparel > Shirts".
type FeedCategory struct {
	Value    string `json:"value"`
	Taxonomy string `json:"taxonomy,omitempty"`
}

// FeedLink is an informational or policy link of a seller ($defs/Link).
type FeedLink struct {
	Type  string `json:"type"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url"`
}

// FeedSeller is the merchant of record or a marketplace ($defs/Seller).
type FeedSeller struct {
	Name  string     `json:"name,omitempty"`
	Links []FeedLink `json:"links,omitempty"`
}

// FeedVariant is one purchasable variant ($defs/Variant). Its ID should be
// accepted as a checkout Item.id.
type FeedVariant struct {
	ID             string              `json:"id"`
	Title          string              `json:"title"`
	Description    *FeedDescription    `json:"description,omitempty"`
	URL            string              `json:"url,omitempty"`
	Barcodes       []FeedBarcode       `json:"barcodes,omitempty"`
	Price          *FeedPrice          `json:"price,omitempty"`
	ListPrice      *FeedPrice          `json:"list_price,omitempty"`
	UnitPrice      *FeedUnitPrice      `json:"unit_price,omitempty"`
	Availability   *FeedAvailability   `json:"availability,omitempty"`
	Categories     []FeedCategory      `json:"categories,omitempty"`
	Condition      []string            `json:"condition,omitempty"`
	VariantOptions []FeedVariantOption `json:"variant_options,omitempty"`
	Media          []FeedMedia         `json:"media,omitempty"`
	Seller         *FeedSeller         `json:"seller,omitempty"`
	Marketplace    *FeedSeller         `json:"marketplace,omitempty"`
}

// FeedProduct groups the variants of one product ($defs/Product). Variants
// is required: a nil slice is written as [] (the OpenAPI document further
// asks for at least one variant).
type FeedProduct struct {
	ID          string           `json:"id"`
	Title       string           `json:"title,omitempty"`
	Description *FeedDescription `json:"description,omitempty"`
	URL         string           `json:"url,omitempty"`
	Media       []FeedMedia      `json:"media,omitempty"`
	Variants    []FeedVariant    `json:"variants"`
}

// MarshalJSON writes a nil Variants as [] rather than null.
func (p FeedProduct) MarshalJSON() ([]byte, error) {
	type plain FeedProduct
	if p.Variants == nil {
		p.Variants = []FeedVariant{}
	}
	return json.Marshal(plain(p))
}

// FeedMetadata is the server-managed description of a feed ($defs/FeedMetadata),
// returned by POST /feeds and GET /feeds/{id} and used as metadata.json in
// file ingestion. TargetCountry is ISO 3166-1 alpha-2, upper case.
type FeedMetadata struct {
	ID            string    `json:"id"`
	TargetCountry string    `json:"target_country,omitempty"`
	UpdatedAt     time.Time `json:"updated_at,omitzero"`
}

// CreateFeedRequest is the body of POST /feeds ($defs/CreateFeedRequest).
type CreateFeedRequest struct {
	TargetCountry string `json:"target_country,omitempty"`
}

// ProductsResponse is the body of GET /feeds/{id}/products ($defs/ProductsResponse).
type ProductsResponse struct {
	Products []FeedProduct `json:"products"`
}

// MarshalJSON writes a nil Products as [] rather than null.
func (r ProductsResponse) MarshalJSON() ([]byte, error) {
	type plain ProductsResponse
	if r.Products == nil {
		r.Products = []FeedProduct{}
	}
	return json.Marshal(plain(r))
}

// UpsertProductsRequest is the body of PATCH /feeds/{id}/products
// ($defs/UpsertProductsRequest). Products are matched by FeedProduct.ID;
// products left out stay as they are (the API has no delete).
type UpsertProductsRequest struct {
	Products []FeedProduct `json:"products"`
}

// MarshalJSON writes a nil Products as [] rather than null.
func (r UpsertProductsRequest) MarshalJSON() ([]byte, error) {
	type plain UpsertProductsRequest
	if r.Products == nil {
		r.Products = []FeedProduct{}
	}
	return json.Marshal(plain(r))
}

// UpsertProductsResponse acknowledges a PATCH /feeds/{id}/products. It is
// defined only in openapi.feed.yaml, not in schema.feed.json: ID is the
// feed's id and Accepted whether the payload was accepted for processing.
type UpsertProductsResponse struct {
	ID       string `json:"id"`
	Accepted bool   `json:"accepted"`
}
