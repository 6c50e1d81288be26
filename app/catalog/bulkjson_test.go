package catalog

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// bulkLineSeeds are lines in the shapes of a real export, and awkward ones.
var bulkLineSeeds = []string{
	`{"id":"gid://shopify/Product/8000000001","handle":"classic-tee-kalo-1","title":"Classic Tee Kalo – Limited Edition","descriptionHtml":"<p class=\"lead\">kalo miter</p><ul><li>Care &amp; materials: see label</li></ul>","vendor":"Acme Apparel","productType":"T-Shirts","status":"ACTIVE","onlineStoreUrl":"https://perf-shop.example/products/classic-tee-kalo-1","updatedAt":"2026-01-02T03:04:06Z","tags":["new","gift","eco"],"category":{"fullName":"Apparel & Accessories > Clothing > Shirts & Tops"}}`,
	`{"id":"gid://shopify/MediaImage/30000000002","image":{"url":"https://cdn.shopify.com/s/files/1/a.jpg?v=1767323045","altText":"Classic Tee in Red","width":2048,"height":2048},"__parentId":"gid://shopify/Product/8000000001"}`,
	`{"id":"gid://shopify/Collection/400000001","title":"Collection 1 eco","__parentId":"gid://shopify/Product/8000000001"}`,
	`{"id":"gid://shopify/ProductVariant/45000000004","title":"Red / S","sku":"SKU-X-RED-S","barcode":null,"price":"25.00","compareAtPrice":"31.25","availableForSale":true,"inventoryQuantity":12,"inventoryPolicy":"DENY","taxable":true,"selectedOptions":[{"name":"Color","value":"Red"},{"name":"Size","value":"S"}],"image":{"url":"https://cdn.shopify.com/a.jpg"},"inventoryItem":{"id":"gid://shopify/InventoryItem/47000000004","tracked":true,"requiresShipping":true,"measurement":{"weight":{"unit":"GRAMS","value":180.0}}},"__parentId":"gid://shopify/Product/8000000001"}`,
	`{"id":"gid://shopify/ProductVariant/1","price":"1.0","__parentId":"gid://shopify/Product/1","inventoryItem":null,"image":null,"category":null,"tags":null,"selectedOptions":[],"sku":null}`,
	` { "id" : "x\u00e9\ud83d\ude00\ud800\n\"\\\/" , "tags" : [ ] , "inventoryQuantity" : -0 } `,
	`{"id":"a","id":"b"}`,
	`{"ID":"a"}`,
	`{"id":"a","extra":1}`,
	`{"inventoryQuantity":1.5}`,
	`{"inventoryQuantity":1e3}`,
	`{"inventoryItem":{"measurement":{"weight":{"value":1e400}}}}`,
	`{"inventoryItem":{"measurement":{"weight":{"value":-1.25e-3,"unit":null}},"tracked":null}}`,
	`{"image":{"width":null,"height":99999999999999999999}}`,
	`{"title":"\xff"}`,
	`{"title":"a"}x`,
	`{"title":"a",}`,
	`{"category":{"FullName":"x"}}`,
	`{"category":{}}`,
	`null`,
	`[]`,
	`{}`,
	`{"price":5}`,
	`{"availableForSale":"true"}`,
	`{"selectedOptions":[{"name":"a","value":"b"},{"value":"c"}]}`,
}

// FuzzBulkLineDecoder: whatever decodeBulkLine accepts, it decodes exactly
// as encoding/json does.
func FuzzBulkLineDecoder(f *testing.F) {
	for _, s := range bulkLineSeeds {
		f.Add(s)
	}
	for _, l := range strings.Split(testBulkLines, "\n") {
		f.Add(l)
	}
	f.Fuzz(func(t *testing.T, data string) {
		var got bulkLine
		if !decodeBulkLine([]byte(data), &got) {
			return
		}
		var want bulkLine
		if err := json.Unmarshal([]byte(data), &want); err != nil {
			t.Fatalf("decodeBulkLine accepted %q, which encoding/json rejects: %v", data, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("decodeBulkLine(%q)\n got %#v\nwant %#v", data, got, want)
		}
	})
}

func TestBulkLineDecoderTakesShopifyLines(t *testing.T) {
	for _, s := range bulkLineSeeds[:6] {
		var l bulkLine
		if !decodeBulkLine([]byte(s), &l) {
			t.Errorf("fast decoder gave up on %s", s)
		}
	}
}

const testBulkLines = `{"id":"gid://shopify/Product/1","title":"T","tags":["a","b"],"category":{"fullName":"Apparel > Tops"},"onlineStoreUrl":"https://x/p","updatedAt":"2026-01-01T00:00:00Z","status":"ACTIVE"}
{"id":"gid://shopify/ProductVariant/100","price":"19.99","compareAtPrice":"24.00","sku":"TEE-S","inventoryItem":{"id":"gid://shopify/InventoryItem/500","tracked":true,"requiresShipping":true,"measurement":{"weight":{"unit":"GRAMS","value":180}}},"selectedOptions":[{"name":"Size","value":"S"}],"__parentId":"gid://shopify/Product/1"}`
