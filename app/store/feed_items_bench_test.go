package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// BenchmarkSearchItems loads a catalog of 50,000 products with two
// variants each (100,000 published items), builds its feed, and measures
// SearchItems for representative queries on each database. Setup takes a
// minute or so; it runs only with -bench:
//
//	go test ./app/store -run '^$' -bench SearchItems -benchtime 30x -timeout 20m
func BenchmarkSearchItems(b *testing.B) {
	adjectives := []string{"classic", "vintage", "modern", "rustic", "bold", "soft", "slim", "relaxed", "bright", "quiet",
		"urban", "coastal", "alpine", "desert", "royal", "simple", "heavy", "light", "warm", "cool", "daily", "weekend",
		"studio", "field", "harbor", "prairie", "meadow", "canyon", "summit", "river", "forest", "island", "city", "garden",
		"market", "atelier", "nordic"}
	materials := []string{"linen", "wool", "cotton", "denim", "leather", "silk", "canvas", "cashmere", "suede", "bamboo",
		"hemp", "velvet", "tweed", "fleece", "jersey", "satin", "corduroy", "flannel", "nylon", "merino", "chambray",
		"poplin", "oxford"}
	kinds := []struct{ name, cat string }{
		{"shirt", "Apparel > Shirts"}, {"sweater", "Apparel > Sweaters"}, {"jacket", "Apparel > Outerwear"},
		{"trousers", "Apparel > Trousers"}, {"scarf", "Apparel > Accessories"}, {"tote", "Bags > Totes"},
		{"backpack", "Bags > Backpacks"}, {"cushion", "Home > Textiles"}, {"throw", "Home > Textiles"},
		{"apron", "Home > Kitchen"}, {"cap", "Apparel > Hats"},
	}
	const products = 50_000
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			ctx := context.Background()
			st := storetest.Open(b, kind)
			sh := searchShop(b, st, "bench.myshopify.com")
			f := feeds.New(st, nil, feeds.Options{})
			for start := 0; start < products; start += 2000 {
				var ps []searchProduct
				for i := start; i < start+2000; i++ {
					k := kinds[i%len(kinds)]
					title := fmt.Sprintf("%s %s %s", adjectives[i%len(adjectives)], materials[(i/len(adjectives))%len(materials)], k.name)
					ps = append(ps, searchProduct{
						id: int64(i + 1), title: title, vendor: fmt.Sprintf("Maker %d", i%97), cat: k.cat,
						desc:   fmt.Sprintf("A %s made to last, number %d of the collection. Care: wash cold, dry flat.", title, i),
						prices: []int64{int64(1000 + (i*37)%20000), int64(1500 + (i*37)%20000)}, qty: int64(i % 7),
					})
				}
				if err := st.UpsertCatalog(ctx, sh.ID, 1, searchBatch(ps)); err != nil {
					b.Fatal(err)
				}
			}
			// The two passes are timed: the primary one publishes the feed
			// file agents pull and must stay as fast as without search; the
			// secondary one writes (and indexes) the search rows.
			start := time.Now()
			bl, err := f.BuildPrimary(ctx, sh.ID)
			if err != nil {
				b.Fatal(err)
			}
			primary := time.Since(start)
			start = time.Now()
			if err := f.BuildSecondary(ctx, bl); err != nil {
				b.Fatal(err)
			}
			b.Logf("%d items: primary pass %.2fs, secondary pass (other formats and search rows) %.2fs",
				bl.ItemsPublished, primary.Seconds(), time.Since(start).Seconds())
			if bl.ItemsPublished != 2*products {
				b.Fatalf("published %d items, want %d", bl.ItemsPublished, 2*products)
			}
			second, err := f.SearchItems(ctx, sh.ID, feeds.SearchQuery{Text: "shirt"})
			if err != nil || second.NextCursor == "" {
				b.Fatalf("first page of shirt: %v", err)
			}
			queries := []struct {
				name string
				q    feeds.SearchQuery
			}{
				{"two-words", feeds.SearchQuery{Text: "linen shirt"}},                            // ~200 matches
				{"one-word", feeds.SearchQuery{Text: "shirt"}},                                   // ~9,000 matches
				{"one-word-page-2", feeds.SearchQuery{Text: "shirt", Cursor: second.NextCursor}}, // the next page
				{"rare-sku", feeds.SearchQuery{Text: "sku-123451"}},                              // one match
				{"no-match", feeds.SearchQuery{Text: "zeppelin"}},                                // none
				{"everything-matches", feeds.SearchQuery{Text: "wash cold"}},                     // all 100,000
				{"filters-only", feeds.SearchQuery{Category: "Bags", Availability: "in_stock", MinPrice: price(5000), MaxPrice: price(9000), Currency: "USD"}},
				{"text-and-filters", feeds.SearchQuery{Text: "wool", Category: "Apparel", Availability: "in_stock", MaxPrice: price(8000), Currency: "USD"}},
				{"get-item", feeds.SearchQuery{}}, // GetItem below
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					for b.Loop() {
						if q.name == "get-item" {
							if _, err := f.GetItem(ctx, sh.ID, "250001"); err != nil {
								b.Fatal(err)
							}
							continue
						}
						if _, err := f.SearchItems(ctx, sh.ID, q.q); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
