package emulator_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify/emulator"
)

func TestSeededCatalogGuarantees(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	products := b.emu.Products(testShop)
	if len(products) != 25 {
		t.Fatalf("%d products, want 25", len(products))
	}
	checks := map[string]bool{}
	for _, p := range products {
		if n := len(p.Variants); n < 1 || n > 4 {
			t.Errorf("%s has %d variants, want 1-4", p.Title, n)
		}
		if len(p.Variants) >= 3 {
			checks["several variants"] = true
		}
		digital := true
		for _, v := range p.Variants {
			if v.InventoryQuantity == 0 && v.InventoryPolicy == "DENY" && v.Tracked && !v.AvailableForSale() {
				checks["out of stock"] = true
			}
			if v.Tracked && v.InventoryQuantity >= 1 && v.InventoryQuantity <= 3 {
				checks["low stock"] = true
			}
			if v.CompareAtPriceCents > v.PriceCents {
				checks["compare-at"] = true
			}
			digital = digital && !v.RequiresShipping
			if v.PriceCents <= 0 || v.SKU == "" || len(v.Barcode) != 13 {
				t.Errorf("variant %s: price %d sku %q barcode %q", v.Title, v.PriceCents, v.SKU, v.Barcode)
			}
		}
		if digital {
			checks["digital"] = true
		}
		checks[p.Status] = true
		for _, img := range p.Images {
			if !strings.HasPrefix(img.URL, "https://cdn.shopify.com/s/files/") {
				t.Errorf("image URL %q", img.URL)
			}
		}
	}
	for _, want := range []string{"several variants", "out of stock", "low stock", "compare-at", "digital", "ACTIVE", "DRAFT", "ARCHIVED"} {
		if !checks[want] {
			t.Errorf("catalog has no %s product", want)
		}
	}
	data := b.mustData(t, testShop, b.emu.StaffToken(testShop), `{ products(first: 1) { nodes { onlineStoreUrl handle } } }`, nil)
	url, _ := dig(data, "products", "nodes", 0, "onlineStoreUrl").(string)
	if want := "https://demo-shop.example/products/" + dig(data, "products", "nodes", 0, "handle").(string); url != want {
		t.Errorf("onlineStoreUrl=%q, want %q", url, want)
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) }
	catalog := func(seed int64) []*emulator.Product {
		e, err := emulator.New(emulator.Config{APIKey: testKey, APISecret: testSecret, Seed: seed, Now: now, Products: 40})
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		return e.Products(testShop)
	}
	a, b, c := catalog(1), catalog(1), catalog(2)
	if !reflect.DeepEqual(a, b) {
		t.Error("same seed, different catalogs")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("different seeds, same catalog")
	}
	if len(a) != 40 {
		t.Errorf("%d products, want 40", len(a))
	}
}

func TestSchemaLoadTime(t *testing.T) {
	t.Parallel()
	if err := emulator.LoadSchema(); err != nil {
		t.Fatal(err)
	}
	t.Logf("embedded Admin schema gunzip+parse took %v (once per process)", emulator.SchemaLoadTime())
}
