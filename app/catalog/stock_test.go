package catalog_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// stockShopify answers stockQuery from a table of inventory item → variant
// stock (an item not in it is unknown to Shopify: null), and runs during,
// if set, while "Shopify" is being read.
type stockShopify struct {
	items  map[string]string // item GID → the node's JSON
	during func()
	asked  [][]string
}

func (s *stockShopify) Query(_ context.Context, _, query string, vars map[string]any, out any) error {
	if !strings.Contains(query, "nodes(ids: $ids)") {
		panic("unexpected query " + query)
	}
	ids := vars["ids"].([]string)
	s.asked = append(s.asked, ids)
	if s.during != nil {
		s.during()
	}
	nodes := make([]string, len(ids))
	for i, id := range ids {
		nodes[i] = "null"
		if n, ok := s.items[id]; ok {
			nodes[i] = n
		}
	}
	return json.Unmarshal([]byte(`{"nodes":[`+strings.Join(nodes, ",")+`]}`), out)
}

// recordingQueue records the jobs enqueued.
type recordingQueue struct {
	mu   sync.Mutex
	jobs []river.JobArgs
}

func (q *recordingQueue) EnqueueTx(_ context.Context, args river.JobArgs, _ *river.InsertOpts) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.jobs = append(q.jobs, args)
	return nil
}

func (q *recordingQueue) kinds() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for _, j := range q.jobs {
		out = append(out, j.Kind())
	}
	return out
}

// TestRefreshStock: one refresh answers all of a shop's stock requests
// with one Shopify query and writes the stock it read; an item asked for
// again while Shopify was read keeps its request, and the next window's
// refresh is enqueued for it; an item Shopify no longer has gets its
// product refreshed whole; a rebuild is scheduled. Real store, both
// databases.
func TestRefreshStock(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		sy, err := st.CreateSync(ctx, sh.ID, "test")
		if err != nil {
			t.Fatal(err)
		}
		if err := st.SaveSyncBatch(ctx, sy, &app.CatalogBatch{
			Products: []app.CatalogProduct{{ProductID: 5, Title: "P"}, {ProductID: 6, Title: "Q"}},
			Variants: []app.CatalogVariant{
				{VariantID: 51, ProductID: 5, Position: 1, InventoryItemID: 501, PriceMinor: 100, InventoryQuantity: 3, AvailableForSale: true},
				{VariantID: 52, ProductID: 5, Position: 2, InventoryItemID: 502, PriceMinor: 100, InventoryQuantity: 0, AvailableForSale: false},
				{VariantID: 61, ProductID: 6, Position: 1, InventoryItemID: 601, PriceMinor: 100, InventoryQuantity: 2, AvailableForSale: true},
			},
		}, false); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 12, 7, 10, 0, 1, 0, time.UTC)
		api := &stockShopify{items: map[string]string{
			"gid://shopify/InventoryItem/501": `{"id":"gid://shopify/InventoryItem/501","variants":{"nodes":[{"id":"gid://shopify/ProductVariant/51","inventoryQuantity":0,"availableForSale":false}]}}`,
			"gid://shopify/InventoryItem/502": `{"id":"gid://shopify/InventoryItem/502","variants":{"nodes":[{"id":"gid://shopify/ProductVariant/52","inventoryQuantity":8,"availableForSale":true}]}}`,
		}}
		q := &recordingQueue{}
		c := catalog.New(st, api, nil, q, catalog.Options{RebuildDelay: time.Minute, Now: func() time.Time { return now }})
		for _, item := range []int64{501, 502, 601} {
			if err := c.InventoryChanged(ctx, sh.Domain, item); err != nil {
				t.Fatal(err)
			}
		}
		if got := q.kinds(); !slices.Equal(got, []string{"catalog_stock_refresh"}) {
			t.Fatalf("jobs after three deliveries %v, want one stock refresh", got)
		}

		// The window's job runs; item 502 changes again as Shopify is read.
		now = now.Add(5 * time.Second)
		api.during = func() {
			if err := c.InventoryChanged(ctx, sh.Domain, 502); err != nil {
				t.Fatal(err)
			}
		}
		if err := c.RefreshStock(ctx, sh.Domain); err != nil {
			t.Fatal(err)
		}
		if len(api.asked) != 1 || len(api.asked[0]) != 3 {
			t.Fatalf("Shopify asked %v, want the three items in one query", api.asked)
		}
		page, err := st.CatalogOfVariants(ctx, sh.ID, []int64{51, 61})
		if err != nil {
			t.Fatal(err)
		}
		got := map[int64]int64{}
		for _, vs := range page.Variants {
			for _, v := range vs {
				got[v.VariantID] = v.InventoryQuantity
			}
		}
		if want := map[int64]int64{51: 0, 52: 8, 61: 2}; !mapsEqual(got, want) {
			t.Errorf("stock %v, want %v", got, want)
		}
		left, err := st.StockRequests(ctx, sh.ID, 10)
		if err != nil || len(left) != 1 || left[0].InventoryItemID != 502 {
			t.Fatalf("requests left %+v, %v; want item 502's, asked again", left, err)
		}
		jobs := q.kinds()[1:]
		slices.Sort(jobs)
		// product 6 (item 601 unknown to Shopify) re-read whole; the
		// rebuild; the stock refresh of the new window (item 502), which
		// the delivery during the read had enqueued already.
		if want := []string{"catalog_product_refresh", "catalog_stock_refresh", "feed_build"}; !slices.Equal(jobs, want) {
			t.Errorf("jobs enqueued by the refresh %v, want %v", jobs, want)
		}

		// The next window's job answers item 502 and leaves nothing.
		api.during = nil
		now = now.Add(5 * time.Second)
		if err := c.RefreshStock(ctx, sh.Domain); err != nil {
			t.Fatal(err)
		}
		if left, err := st.StockRequests(ctx, sh.ID, 10); err != nil || len(left) != 0 {
			t.Fatalf("requests left %+v, %v; want none", left, err)
		}
		if n := len(api.asked); n != 2 || len(api.asked[1]) != 1 {
			t.Errorf("Shopify asked %v", api.asked)
		}
	})
}

func mapsEqual(a, b map[int64]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// TestSweepStock: a stock request older than its window and its job (one
// no job is coming for) gets its shop's refresh enqueued by the sweep; a
// fresh one is left to its window's job.
func TestSweepStock(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		if err := st.RequestStock(ctx, sh.ID, 501, 5); err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		q := &recordingQueue{}
		c := catalog.New(st, nil, nil, q, catalog.Options{RebuildDelay: time.Minute, Now: func() time.Time { return now }})
		if err := c.SweepStock(ctx); err != nil || len(q.kinds()) != 0 {
			t.Fatalf("sweep of a fresh request: %v, jobs %v; want none", err, q.kinds())
		}
		now = now.Add(time.Minute)
		if err := c.SweepStock(ctx); err != nil {
			t.Fatal(err)
		}
		if len(q.jobs) != 1 || q.jobs[0].(app.RefreshStockArgs).Shop != sh.Domain {
			t.Fatalf("sweep of an overdue request enqueued %+v, want the shop's stock refresh", q.jobs)
		}
	})
}
