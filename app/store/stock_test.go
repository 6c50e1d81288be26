package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestStockRequests: a stock request is recorded once per item and its
// version moves when it is asked for again; finishing deletes only the
// requests as they were read (one asked for again since stays) and says
// whether any is left; another shop's requests are never touched; the
// sweep sees the active shops holding a request older than its cutoff.
func TestStockRequests(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := catalogShop(t, st, "stock-a.myshopify.com")
		b := catalogShop(t, st, "stock-b.myshopify.com")
		for _, r := range []struct{ shop, item, product int64 }{{a.ID, 11, 1}, {a.ID, 12, 1}, {a.ID, 11, 1}, {b.ID, 11, 9}} {
			if err := st.RequestStock(ctx, r.shop, r.item, r.product); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.StockRequests(ctx, a.ID, 10)
		want := []app.StockRequest{{InventoryItemID: 11, ProductID: 1, Version: 2}, {InventoryItemID: 12, ProductID: 1, Version: 1}}
		if err != nil || !slices.Equal(got, want) {
			t.Fatalf("requests of a = %+v, %v; want %+v", got, err, want)
		}
		if one, err := st.StockRequests(ctx, a.ID, 1); err != nil || len(one) != 1 || one[0].InventoryItemID != 11 {
			t.Fatalf("one request of a = %+v, %v", one, err)
		}

		// Item 12 is asked for again while a refresh reads Shopify: its
		// request outlives the refresh.
		if err := st.RequestStock(ctx, a.ID, 12, 1); err != nil {
			t.Fatal(err)
		}
		left, err := st.FinishStockRequests(ctx, a.ID, got)
		if err != nil || !left {
			t.Fatalf("finish = %v, %v; want one left", left, err)
		}
		if rest, err := st.StockRequests(ctx, a.ID, 10); err != nil || !slices.Equal(rest, []app.StockRequest{{InventoryItemID: 12, ProductID: 1, Version: 2}}) {
			t.Fatalf("after the finish: %+v, %v; want item 12 at version 2", rest, err)
		}
		if left, err := st.FinishStockRequests(ctx, a.ID, []app.StockRequest{{InventoryItemID: 12, ProductID: 1, Version: 2}}); err != nil || left {
			t.Fatalf("second finish = %v, %v; want none left", left, err)
		}
		if rest, err := st.StockRequests(ctx, b.ID, 10); err != nil || !slices.Equal(rest, []app.StockRequest{{InventoryItemID: 11, ProductID: 9, Version: 1}}) {
			t.Fatalf("b's requests = %+v, %v; want untouched", rest, err)
		}

		// The sweep: b's request is older than a cutoff in the future, not
		// than one in the past; an uninstalled shop's are not swept.
		if shops, err := st.ShopsWithStockRequests(ctx, time.Now().Add(time.Hour)); err != nil || !slices.Equal(shops, []string{b.Domain}) {
			t.Fatalf("overdue shops = %v, %v; want [%s]", shops, err, b.Domain)
		}
		if shops, err := st.ShopsWithStockRequests(ctx, time.Now().Add(-time.Hour)); err != nil || len(shops) != 0 {
			t.Fatalf("overdue shops an hour ago = %v, %v; want none", shops, err)
		}
		if err := st.UninstallShop(ctx, b.Domain); err != nil {
			t.Fatal(err)
		}
		if shops, err := st.ShopsWithStockRequests(ctx, time.Now().Add(time.Hour)); err != nil || len(shops) != 0 {
			t.Fatalf("overdue shops after b's uninstall = %v, %v; want none", shops, err)
		}
	})
}

// TestSetVariantsStock: the stock of several variants is written in one
// statement, which reports the variants the shop's catalog has; another
// shop's variant of the same id, and the rows' other columns, are left
// as they were.
func TestSetVariantsStock(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a := catalogShop(t, st, "vstock-a.myshopify.com")
		b := catalogShop(t, st, "vstock-b.myshopify.com")
		for _, sh := range []*app.Shop{a, b} {
			sy, err := st.CreateSync(ctx, sh.ID, "test")
			if err != nil {
				t.Fatal(err)
			}
			batch := &app.CatalogBatch{Products: []app.CatalogProduct{{ProductID: 5, Title: "P"}}, Variants: []app.CatalogVariant{
				{VariantID: 51, ProductID: 5, Position: 1, Title: "S", PriceMinor: 1000, InventoryQuantity: 4, AvailableForSale: true},
				{VariantID: 52, ProductID: 5, Position: 2, Title: "M", PriceMinor: 1000, InventoryQuantity: 0, AvailableForSale: false},
				{VariantID: 53, ProductID: 5, Position: 3, Title: "L", PriceMinor: 1000, InventoryQuantity: 9, AvailableForSale: true},
			}}
			if err := st.SaveSyncBatch(ctx, sy, batch, false); err != nil {
				t.Fatal(err)
			}
		}
		found, err := st.SetVariantsStock(ctx, a.ID, []app.VariantStock{
			{VariantID: 51, Quantity: 0, Available: false}, {VariantID: 52, Quantity: 7, Available: true}, {VariantID: 99, Quantity: 1, Available: true},
		})
		slices.Sort(found)
		if err != nil || !slices.Equal(found, []int64{51, 52}) {
			t.Fatalf("found = %v, %v; want [51 52]", found, err)
		}
		stock := func(sh *app.Shop) map[int64][2]any {
			page, err := st.CatalogOfVariants(ctx, sh.ID, []int64{51})
			if err != nil {
				t.Fatal(err)
			}
			out := map[int64][2]any{}
			for _, v := range page.Variants[5] {
				if v.Title == "" || v.PriceMinor != 1000 {
					t.Errorf("variant %d's other columns changed: %+v", v.VariantID, v)
				}
				out[v.VariantID] = [2]any{v.InventoryQuantity, v.AvailableForSale}
			}
			return out
		}
		if got, want := stock(a), map[int64][2]any{51: {int64(0), false}, 52: {int64(7), true}, 53: {int64(9), true}}; !mapsEqual(got, want) {
			t.Errorf("a's stock = %v, want %v", got, want)
		}
		if got, want := stock(b), map[int64][2]any{51: {int64(4), true}, 52: {int64(0), false}, 53: {int64(9), true}}; !mapsEqual(got, want) {
			t.Errorf("b's stock = %v, want %v (untouched)", got, want)
		}
		if found, err := st.SetVariantsStock(ctx, a.ID, nil); err != nil || len(found) != 0 {
			t.Errorf("nothing to write = %v, %v", found, err)
		}
	})
}

func mapsEqual(a, b map[int64][2]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
