package catalog_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

const bulkJSONL = `{"id":"gid://shopify/Product/1","handle":"tee","title":"Tee","descriptionHtml":"<p>Soft</p>","vendor":"V","productType":"T-Shirts","status":"ACTIVE","onlineStoreUrl":"https://s.example/products/tee","updatedAt":"2026-01-02T03:04:05Z","tags":["a","b"],"category":{"fullName":"Apparel > Tops"}}
{"id":"gid://shopify/MediaImage/10","image":{"url":"https://cdn/1.jpg","altText":"front","width":800,"height":800},"__parentId":"gid://shopify/Product/1"}
{"id":"gid://shopify/Collection/7","title":"Summer","__parentId":"gid://shopify/Product/1"}
{"id":"gid://shopify/Product/2","handle":"ebook","title":"E-book","descriptionHtml":"","vendor":"P","productType":"Books","status":"DRAFT","onlineStoreUrl":null,"updatedAt":"2026-01-02T03:04:05Z","tags":[],"category":null}
{"id":"gid://shopify/ProductVariant/100","title":"S","sku":"TEE-S","barcode":null,"price":"19.99","compareAtPrice":"24.00","availableForSale":true,"inventoryQuantity":3,"inventoryPolicy":"DENY","taxable":true,"selectedOptions":[{"name":"Size","value":"S"}],"image":null,"inventoryItem":{"id":"gid://shopify/InventoryItem/500","tracked":true,"requiresShipping":true,"measurement":{"weight":{"unit":"GRAMS","value":180}}},"__parentId":"gid://shopify/Product/1"}
{"id":"gid://shopify/ProductVariant/200","title":"Default Title","sku":null,"barcode":"4006381333931","price":"9.00","compareAtPrice":null,"availableForSale":true,"inventoryQuantity":0,"inventoryPolicy":"DENY","taxable":false,"selectedOptions":[],"image":null,"inventoryItem":{"id":"gid://shopify/InventoryItem/501","tracked":false,"requiresShipping":false,"measurement":null},"__parentId":"gid://shopify/Product/2"}
`

func TestBulkReader(t *testing.T) {
	t.Parallel()
	rd := catalog.NewBulkReader(strings.NewReader(bulkJSONL), "USD")
	var all app.CatalogBatch
	var b app.CatalogBatch
	for {
		err := rd.Next(&b, 2) // small batches: a product's children span batches
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		all.Products = append(all.Products, b.Products...)
		all.Variants = append(all.Variants, b.Variants...)
		all.Media = append(all.Media, b.Media...)
		all.Collections = append(all.Collections, b.Collections...)
	}
	if len(all.Products) != 2 || len(all.Variants) != 2 || len(all.Media) != 1 || len(all.Collections) != 1 || rd.Lines() != 6 {
		t.Fatalf("read %d products %d variants %d media %d collections in %d lines", len(all.Products), len(all.Variants), len(all.Media), len(all.Collections), rd.Lines())
	}
	p := all.Products[0]
	if p.ProductID != 1 || p.Category != "Apparel > Tops" || p.OnlineStoreURL == "" || len(p.Tags) != 2 || p.ShopifyUpdatedAt == nil {
		t.Errorf("product = %+v", p)
	}
	if all.Products[1].Status != "DRAFT" || all.Products[1].OnlineStoreURL != "" {
		t.Errorf("draft product = %+v", all.Products[1])
	}
	v := all.Variants[0]
	if v.VariantID != 100 || v.ProductID != 1 || v.PriceMinor != 1999 || v.CompareAtMinor != 2400 || v.InventoryItemID != 500 ||
		v.WeightValue != 180 || v.WeightUnit != "GRAMS" || v.SKU != "TEE-S" || len(v.Options) != 1 {
		t.Errorf("variant = %+v", v)
	}
	if d := all.Variants[1]; d.Tracked || d.RequiresShipping || d.Barcode != "4006381333931" {
		t.Errorf("digital variant = %+v", d)
	}
	if m := all.Media[0]; m.ProductID != 1 || m.URL != "https://cdn/1.jpg" || m.Width != 800 {
		t.Errorf("media = %+v", m)
	}
	if c := all.Collections[0]; c.ProductID != 1 || c.CollectionID != 7 || c.Title != "Summer" {
		t.Errorf("collection = %+v", c)
	}
}

func TestBulkReaderRejectsBadFiles(t *testing.T) {
	t.Parallel()
	lines := strings.Split(strings.TrimSpace(bulkJSONL), "\n")
	tests := []struct {
		name, body, want string
	}{
		{"truncated last line", strings.Join(lines[:4], "\n") + "\n" + lines[4][:40], "line 5"},
		{"not JSON", lines[0] + "\n<html>oops</html>\n", "line 2"},
		{"bad id", `{"id":"Product/1"}`, "line 1"},
		{"child of a non-product", `{"id":"gid://shopify/ProductVariant/1","price":"1.00","__parentId":"gid://shopify/Collection/2"}`, "__parentId"},
		{"variant without parent", `{"id":"gid://shopify/ProductVariant/1","price":"1.00"}`, "without __parentId"},
		{"bad price", `{"id":"gid://shopify/ProductVariant/1","price":"1.001","__parentId":"gid://shopify/Product/1"}`, "price"},
		{"line too long", `{"id":"gid://shopify/Product/1","title":"` + strings.Repeat("x", catalog.MaxBulkLine) + `"}`, "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rd := catalog.NewBulkReader(strings.NewReader(tt.body), "USD")
			var b app.CatalogBatch
			var err error
			for err == nil {
				err = rd.Next(&b, 100)
			}
			if errors.Is(err, io.EOF) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}
