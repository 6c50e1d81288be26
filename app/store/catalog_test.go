package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
)

// catalogShop installs a shop for catalog tests.
func catalogShop(t *testing.T, st *store.Store, domain string) *app.Shop {
	t.Helper()
	sh, err := st.SaveShopInstall(context.Background(), app.Shop{Domain: domain, Name: "Shop", Scopes: "read_products", AccessTokenSealed: "v1:k1:x"})
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// awkwardBatch is a batch whose text holds everything a COPY payload must
// escape, and values at the edges (NULL times, empty lists).
func awkwardBatch(title string) *app.CatalogBatch {
	updated := time.Date(2026, 3, 4, 5, 6, 7, 891234000, time.UTC)
	return &app.CatalogBatch{
		Products: []app.CatalogProduct{
			{ProductID: 11, Handle: "tab\there", Title: title, DescriptionHTML: "<p>line\nbreak\r\nand \\ backslash, \\N, \\t, é 漢字 🙂</p>",
				Vendor: "V", ProductType: "T", Category: "A > B", Status: "ACTIVE", OnlineStoreURL: "https://x.example/p",
				Tags: []string{"a\tb", `quote "q"`, "<html>&"}, ShopifyUpdatedAt: &updated},
			{ProductID: 12, Title: "", Status: "DRAFT"},
		},
		Variants: []app.CatalogVariant{
			{VariantID: 101, ProductID: 11, Position: 3, InventoryItemID: 9, Title: "Red / S", SKU: `SKU\1`, Barcode: "4006381333931",
				PriceMinor: 1999, CompareAtMinor: 2499, AvailableForSale: true, InventoryQuantity: -2, InventoryPolicy: "CONTINUE",
				Tracked: true, RequiresShipping: true, Taxable: true, WeightValue: 0.1 + 0.2, WeightUnit: "KILOGRAMS",
				ImageURL: "https://cdn.example/a.jpg?v=1", Options: []app.VariantOption{{Name: "Color", Value: "Red\tdark"}, {Name: "Size", Value: "S"}}},
			{VariantID: 102, ProductID: 11, Position: 4, Title: "Default Title", PriceMinor: 5, InventoryPolicy: "DENY"},
			{VariantID: 103, ProductID: 12, Position: 1, Title: "x", PriceMinor: 1e12, WeightValue: 1e21},
		},
		Media: []app.CatalogMedia{
			{MediaID: 201, ProductID: 11, Position: 2, URL: "https://cdn.example/m.jpg", Alt: "alt\nline", Width: 10, Height: 20},
		},
		Collections: []app.CatalogCollection{
			{ProductID: 11, CollectionID: 301, Title: "Summer\\Sale"},
			{ProductID: 12, CollectionID: 301, Title: "Summer\\Sale"},
		},
	}
}

// catalogPages reads back the shop's whole catalog.
func catalogPages(t *testing.T, st *store.Store, shopID int64, pageSize int) []*app.CatalogPage {
	t.Helper()
	var pages []*app.CatalogPage
	err := st.CatalogPages(context.Background(), shopID, pageSize, func(p *app.CatalogPage) error {
		pages = append(pages, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// TestSaveSyncBatch: a full sync's batches (COPY on PostgreSQL) come back
// from CatalogPages value for value, a re-sync replaces rows and prunes
// what it did not see, and the sync's progress commits with its rows.
func TestSaveSyncBatch(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := catalogShop(t, st, "cat.myshopify.com")
		other := catalogShop(t, st, "other.myshopify.com")

		sy, err := st.CreateSync(ctx, sh.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		b := awkwardBatch("Tee")
		sy.Status, sy.RowsDone, sy.Products, sy.Variants = app.SyncIngesting, 8, 2, 3
		if err := st.SaveSyncBatch(ctx, sy, b, false); err != nil {
			t.Fatalf("SaveSyncBatch: %v", err)
		}
		// Another shop's rows with the same ids are its own.
		osy, _ := st.CreateSync(ctx, other.ID, "test")
		if err := st.SaveSyncBatch(ctx, osy, awkwardBatch("Other"), false); err != nil {
			t.Fatalf("SaveSyncBatch other shop: %v", err)
		}
		got, err := st.Sync(ctx, sy.ID)
		if err != nil || got.RowsDone != 8 || got.Variants != 3 || got.Status != app.SyncIngesting {
			t.Fatalf("sync after batch = %+v, %v", got, err)
		}

		pages := catalogPages(t, st, sh.ID, 1)
		if len(pages) != 2 {
			t.Fatalf("%d pages of 1 product, want 2", len(pages))
		}
		p := pages[0]
		want := b.Products[0]
		want.ShopifyUpdatedAt = ptr(want.ShopifyUpdatedAt.Truncate(time.Microsecond))
		if !reflect.DeepEqual(p.Products[0], want) {
			t.Errorf("product\n got %#v\nwant %#v", p.Products[0], want)
		}
		if !reflect.DeepEqual(p.Variants[11], b.Variants[:2]) {
			t.Errorf("variants\n got %#v\nwant %#v", p.Variants[11], b.Variants[:2])
		}
		if !reflect.DeepEqual(p.Media[11], b.Media) || !reflect.DeepEqual(p.Collections[11], b.Collections[:1]) {
			t.Errorf("media %#v, collections %#v", p.Media[11], p.Collections[11])
		}
		if q := pages[1]; q.Products[0].ProductID != 12 || q.Products[0].ShopifyUpdatedAt != nil ||
			!reflect.DeepEqual(q.Variants[12], b.Variants[2:]) {
			t.Errorf("second page %#v", q)
		}

		// A re-sync: product 11 changes, variant 102 and product 12 are gone.
		sy2, err := st.CreateSync(ctx, sh.ID, "test")
		if err != nil || sy2.Generation != sy.Generation+1 {
			t.Fatalf("second sync %+v, %v", sy2, err)
		}
		b2 := awkwardBatch("Tee v2")
		b2.Products = b2.Products[:1]
		b2.Variants = b2.Variants[:1]
		b2.Variants[0].PriceMinor = 1499
		b2.Collections = b2.Collections[:1]
		if err := st.SaveSyncBatch(ctx, sy2, b2, true); err != nil {
			t.Fatalf("SaveSyncBatch again: %v", err)
		}
		if n, v, _ := st.CatalogCounts(ctx, sh.ID); n != 2 || v != 3 {
			t.Fatalf("before prune: %d products, %d variants; want 2, 3", n, v)
		}
		pruned, err := st.PruneCatalog(ctx, sh.ID, sy2.Generation)
		if err != nil || pruned != 4 { // product 12, variants 102 and 103, a collection
			t.Fatalf("pruned %d, %v; want 4", pruned, err)
		}
		pages = catalogPages(t, st, sh.ID, 10)
		if len(pages) != 1 || len(pages[0].Products) != 1 || pages[0].Products[0].Title != "Tee v2" ||
			len(pages[0].Variants[11]) != 1 || pages[0].Variants[11][0].PriceMinor != 1499 {
			t.Fatalf("after re-sync: %#v", pages)
		}
		if n, v, _ := st.CatalogCounts(ctx, other.ID); n != 2 || v != 3 {
			t.Fatalf("the other shop's catalog: %d products, %d variants; want 2, 3", n, v)
		}

		// Deleting a shop deletes its catalog.
		if err := st.UninstallShop(ctx, "other.myshopify.com"); err != nil {
			t.Fatal(err)
		}
		if got, err := st.DeleteShopData(ctx, "other.myshopify.com", time.Now().Add(time.Minute), ""); err != nil || got["shops"] != 1 {
			t.Fatalf("delete shop data = %v, %v", got, err)
		}
		if n, v, _ := st.CatalogCounts(ctx, other.ID); n != 0 || v != 0 {
			t.Fatalf("deleted shop keeps %d products, %d variants", n, v)
		}
		// ... and a batch for a deleted shop fails.
		err = st.SaveSyncBatch(ctx, &app.CatalogSync{ID: osy.ID, ShopID: other.ID, Generation: 9}, awkwardBatch("x"), true)
		if err == nil {
			t.Fatal("batch of a deleted shop was written")
		}
		if n, _, _ := st.CatalogCounts(ctx, other.ID); n != 0 {
			t.Fatalf("a deleted shop got %d products", n)
		}
	})
}

// TestSaveSyncBatchRace: a product refresh that writes one of a batch's
// rows first (a webhook during a sync) does not fail the batch.
func TestSaveSyncBatchRace(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := catalogShop(t, st, "race.myshopify.com")
		sy, _ := st.CreateSync(ctx, sh.ID, "test")
		b := awkwardBatch("Tee")
		// The refresh holds its transaction open while the batch starts.
		started, done := make(chan struct{}), make(chan error, 1)
		go func() {
			done <- st.InTx(ctx, func(ctx context.Context) error {
				if err := st.ReplaceProduct(ctx, sh.ID, sy.Generation, &app.CatalogBatch{
					Products: b.Products[:1], Variants: b.Variants[:1],
				}); err != nil {
					return err
				}
				close(started)
				time.Sleep(200 * time.Millisecond)
				return nil
			})
		}()
		select {
		case <-started:
		case err := <-done:
			t.Fatalf("refresh: %v", err)
		}
		if err := st.SaveSyncBatch(ctx, sy, b, false); err != nil {
			t.Fatalf("SaveSyncBatch during a refresh: %v", err)
		}
		if err := <-done; err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if n, v, _ := st.CatalogCounts(ctx, sh.ID); n != 2 || v != 3 {
			t.Fatalf("%d products, %d variants; want 2, 3", n, v)
		}
	})
}

// TestCatalogPagesOrder: a page lists each product's variants and media by
// position and its collections by id, whatever order they were written in.
func TestCatalogPagesOrder(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := catalogShop(t, st, "order.myshopify.com")
		sy, _ := st.CreateSync(ctx, sh.ID, "test")
		b := &app.CatalogBatch{Products: []app.CatalogProduct{{ProductID: 5}, {ProductID: 6}}}
		for i := range 6 {
			b.Variants = append(b.Variants, app.CatalogVariant{VariantID: int64(100 - i), ProductID: int64(5 + i%2), Position: int64(50 - i)})
			b.Media = append(b.Media, app.CatalogMedia{MediaID: int64(200 + i), ProductID: int64(5 + i%2), Position: int64(90 - i), URL: "u"})
			b.Collections = append(b.Collections, app.CatalogCollection{ProductID: int64(5 + i%2), CollectionID: int64(300 - i)})
		}
		if err := st.SaveSyncBatch(ctx, sy, b, false); err != nil {
			t.Fatal(err)
		}
		// A product refresh rewrites product 5's rows after the others.
		if err := st.ReplaceProduct(ctx, sh.ID, sy.Generation, &app.CatalogBatch{
			Products: b.Products[:1], Variants: []app.CatalogVariant{b.Variants[4], b.Variants[0], b.Variants[2]},
			Media: []app.CatalogMedia{b.Media[2], b.Media[0], b.Media[4]}, Collections: []app.CatalogCollection{b.Collections[4], b.Collections[0], b.Collections[2]},
		}); err != nil {
			t.Fatal(err)
		}
		pages := catalogPages(t, st, sh.ID, 10)
		if len(pages) != 1 {
			t.Fatalf("%d pages", len(pages))
		}
		for _, pid := range []int64{5, 6} {
			vs, ms, cs := pages[0].Variants[pid], pages[0].Media[pid], pages[0].Collections[pid]
			if len(vs) != 3 || len(ms) != 3 || len(cs) != 3 {
				t.Fatalf("product %d: %d variants, %d media, %d collections", pid, len(vs), len(ms), len(cs))
			}
			for i := 1; i < 3; i++ {
				if vs[i-1].Position >= vs[i].Position || ms[i-1].Position >= ms[i].Position || cs[i-1].CollectionID >= cs[i].CollectionID {
					t.Fatalf("product %d out of order: %+v %+v %+v", pid, vs, ms, cs)
				}
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
