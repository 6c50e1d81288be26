package catalog_test

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

// FuzzBulkReader feeds arbitrary bytes to the bulk JSONL reader (files come
// from Shopify's storage, so they are external input): it must return rows
// or an error, never panic, and never report more lines than it was given.
func FuzzBulkReader(f *testing.F) {
	for _, l := range strings.Split(bulkJSONL, "\n") {
		f.Add(l)
	}
	f.Add(bulkJSONL)
	f.Add(`{"id":"gid://shopify/ProductVariant/1","price":"1.0","__parentId":"gid://shopify/Product/1","inventoryItem":null}`)
	f.Add("{}\n\n{\"id\":null}")
	f.Fuzz(func(t *testing.T, data string) {
		rd := catalog.NewBulkReader(strings.NewReader(data), "USD")
		var b app.CatalogBatch
		for range 10_000 {
			err := rd.Next(&b, 3)
			if errors.Is(err, io.EOF) || err != nil {
				break
			}
			for _, v := range b.Variants {
				if v.ProductID <= 0 || v.VariantID <= 0 || v.PriceMinor < 0 {
					t.Fatalf("variant with impossible ids or price: %+v", v)
				}
			}
		}
		if lines := int64(strings.Count(data, "\n") + 1); rd.Lines() > lines {
			t.Fatalf("read %d lines from %d", rd.Lines(), lines)
		}
	})
}
