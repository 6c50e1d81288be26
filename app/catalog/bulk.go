package catalog

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

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
	SelectedOptions  []app.VariantOption        `json:"selectedOptions"`
	Image            *struct {
		URL     string `json:"url"`
		AltText string `json:"altText"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
	} `json:"image"`
	// Media is a variant's media as CatalogProduct asks for it (the first
	// image): ProductVariant.image is deprecated in 2026-10. The bulk
	// export still selects image, since a variant's media would be a third
	// level of nested connections, which bulk operations refuse.
	Media *struct {
		Nodes []struct {
			Image *struct {
				URL string `json:"url"`
			} `json:"image"`
		} `json:"nodes"`
	} `json:"media"`
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
func (b *BulkReader) Next(batch *app.CatalogBatch, n int) error {
	*batch = app.CatalogBatch{Products: batch.Products[:0], Variants: batch.Variants[:0], Media: batch.Media[:0], Collections: batch.Collections[:0]}
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

func (b *BulkReader) add(batch *app.CatalogBatch, raw []byte) error {
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

func (b *BulkReader) addLine(batch *app.CatalogBatch, l bulkLine) error {
	kind, id, err := app.ParseGID(l.ID)
	if err != nil {
		return err
	}
	var parent int64
	if l.ParentID != "" {
		pk, pid, err := app.ParseGID(l.ParentID)
		if err != nil || pk != "Product" {
			return fmt.Errorf("__parentId %q is not a product", l.ParentID)
		}
		parent = pid
	}
	switch kind {
	case "Product":
		p := app.CatalogProduct{
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
		batch.Media = append(batch.Media, app.CatalogMedia{
			MediaID: id, ProductID: parent, Position: b.line, URL: l.Image.URL, Alt: l.Image.AltText,
			Width: l.Image.Width, Height: l.Image.Height,
		})
	case "Collection":
		batch.Collections = append(batch.Collections, app.CatalogCollection{ProductID: parent, CollectionID: id, Title: l.Title})
	default:
		// Video, 3D model and other media: not used by the feeds.
	}
	return nil
}

func (b *BulkReader) variant(l bulkLine, id, parent int64) (app.CatalogVariant, error) {
	if parent == 0 {
		return app.CatalogVariant{}, errors.New("variant without __parentId")
	}
	price, err := app.ParseMoney(l.Price, b.currency)
	if err != nil {
		return app.CatalogVariant{}, fmt.Errorf("variant %d price: %w", id, err)
	}
	v := app.CatalogVariant{
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
		if v.CompareAtMinor, err = app.ParseMoney(*l.CompareAtPrice, b.currency); err != nil {
			return app.CatalogVariant{}, fmt.Errorf("variant %d compareAtPrice: %w", id, err)
		}
	}
	if l.InventoryQty != nil {
		v.InventoryQuantity = *l.InventoryQty
	}
	switch {
	case l.Image != nil:
		v.ImageURL = l.Image.URL
	case l.Media != nil && len(l.Media.Nodes) > 0 && l.Media.Nodes[0].Image != nil:
		v.ImageURL = l.Media.Nodes[0].Image.URL
	}
	if it := l.InventoryItem; it != nil {
		if _, iid, err := app.ParseGID(it.ID); err == nil {
			v.InventoryItemID = iid
		}
		v.Tracked, v.RequiresShipping = it.Tracked, it.RequiresShipping
		if it.Measurement != nil && it.Measurement.Weight != nil {
			v.WeightValue, v.WeightUnit = it.Measurement.Weight.Value, it.Measurement.Weight.Unit
		}
	}
	return v, nil
}
