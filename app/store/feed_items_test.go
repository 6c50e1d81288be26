package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/store"
)

// searchShop installs a shop selling in USD from the US, with complete
// feed settings, so that its items validate.
func searchShop(t testing.TB, st *store.Store, domain string) *app.Shop {
	t.Helper()
	ctx := context.Background()
	sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: domain, Name: "Shop", Scopes: "read_products", AccessTokenSealed: "v1:k1:x"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateShopDetails(ctx, sh.ID, app.ShopDetails{Name: "Shop", CurrencyCode: "USD", CountryCode: "US"}); err != nil {
		t.Fatal(err)
	}
	f := feeds.New(st, nil, feeds.Options{})
	p := app.ShopProfile{ShopDetails: app.ShopDetails{Name: "Shop", CurrencyCode: "USD", CountryCode: "US"},
		StorefrontURL: "https://" + domain, RefundPolicyURL: "https://" + domain + "/policies/refund",
		PrivacyPolicyURL: "https://" + domain + "/policies/privacy", TermsURL: "https://" + domain + "/policies/terms"}
	if err := f.EnsureDefaults(ctx, sh, p); err != nil {
		t.Fatal(err)
	}
	sh, err = st.ShopByID(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	return sh
}

// searchProduct is a product of the search fixture.
type searchProduct struct {
	id                 int64
	title, vendor, cat string
	desc               string
	prices             []int64 // one variant per price
	qty                int64   // every variant's tracked quantity
	status             string  // default ACTIVE
	collection         int64
}

// searchBatch makes the catalog rows of the products; variant ids are
// id*10+i+1 and SKUs "SKU-<variant id>".
func searchBatch(ps []searchProduct) *app.CatalogBatch {
	b := &app.CatalogBatch{}
	for _, p := range ps {
		status := p.status
		if status == "" {
			status = "ACTIVE"
		}
		b.Products = append(b.Products, app.CatalogProduct{ProductID: p.id, Handle: fmt.Sprintf("p%d", p.id), Title: p.title,
			DescriptionHTML: "<p>" + p.desc + "</p>", Vendor: p.vendor, Category: p.cat, Status: status,
			OnlineStoreURL: fmt.Sprintf("https://s.example/products/p%d", p.id)})
		b.Media = append(b.Media, app.CatalogMedia{MediaID: p.id, ProductID: p.id, Position: 1, URL: fmt.Sprintf("https://cdn.example/%d.jpg", p.id)})
		for i, price := range p.prices {
			vid := p.id*10 + int64(i) + 1
			v := app.CatalogVariant{VariantID: vid, ProductID: p.id, Position: int64(i) + 1, Title: "Default Title", SKU: fmt.Sprintf("SKU-%d", vid),
				PriceMinor: price, AvailableForSale: p.qty > 0, InventoryQuantity: p.qty, InventoryPolicy: "DENY", Tracked: true,
				RequiresShipping: true}
			if len(p.prices) > 1 {
				v.Title = fmt.Sprintf("Size %d", i+1)
				v.Options = []app.VariantOption{{Name: "Size", Value: fmt.Sprint(i + 1)}}
			}
			b.Variants = append(b.Variants, v)
		}
		if p.collection != 0 {
			b.Collections = append(b.Collections, app.CatalogCollection{ProductID: p.id, CollectionID: p.collection, Title: "C"})
		}
	}
	return b
}

// loadCatalog replaces the shop's catalog with ps and runs both passes of
// a build: the search rows are written by the second.
func loadCatalog(t testing.TB, st *store.Store, f *feeds.Service, sh *app.Shop, gen int64, ps []searchProduct) *app.FeedBuild {
	t.Helper()
	b := loadPrimary(t, st, f, sh, gen, ps)
	if err := f.BuildSecondary(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return b
}

// loadPrimary replaces the shop's catalog with ps and publishes a build's
// feed file only (its primary pass).
func loadPrimary(t testing.TB, st *store.Store, f *feeds.Service, sh *app.Shop, gen int64, ps []searchProduct) *app.FeedBuild {
	t.Helper()
	ctx := context.Background()
	if err := st.UpsertCatalog(ctx, sh.ID, gen, searchBatch(ps)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PruneCatalog(ctx, sh.ID, gen); err != nil {
		t.Fatal(err)
	}
	b, err := f.BuildPrimary(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	if b.ItemsInvalid > 0 {
		probs, _ := st.FeedProblems(ctx, b.ID, 5)
		t.Fatalf("fixture items are invalid: %+v", probs)
	}
	return b
}

// countFeedItems counts the shop's feed_items rows of the build.
func countFeedItems(t *testing.T, st *store.Store, shopID, buildID int64) int64 {
	t.Helper()
	q := "SELECT COUNT(*) FROM feed_items WHERE shop_id = $1 AND build_id = $2"
	if st.Kind() == app.DatabaseSQLite {
		q = "SELECT COUNT(*) FROM feed_items WHERE shop_id = ? AND build_id = ?"
	}
	var n int64
	if err := st.DB().QueryRow(q, shopID, buildID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSearchItemsRebuild: the primary pass (the feed file agents pull)
// writes no search rows, and search answers from the previous build until
// the new build's second pass has written all of its rows.
func TestSearchItemsRebuild(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := searchShop(t, st, "rebuild.myshopify.com")
		f := feeds.New(st, nil, feeds.Options{})
		catalog := []searchProduct{
			{id: 1, title: "Linen Shirt", vendor: "Acme", cat: "Apparel > Shirts", desc: "A shirt.", prices: []int64{3000}, qty: 5},
			{id: 2, title: "Linen Trousers", vendor: "Acme", cat: "Apparel > Trousers", desc: "Trousers.", prices: []int64{6000}, qty: 2},
		}
		search := func() []string {
			t.Helper()
			p, err := f.SearchItems(ctx, sh.ID, feeds.SearchQuery{Text: "linen"})
			if err != nil {
				t.Fatal(err)
			}
			return ids(p.Items)
		}

		// A published build whose second pass has not run is not searched.
		b1 := loadPrimary(t, st, f, sh, 1, catalog)
		if n := countFeedItems(t, st, sh.ID, b1.ID); n != 0 {
			t.Errorf("the primary pass wrote %d feed_items rows, want 0", n)
		}
		if got := search(); len(got) != 0 {
			t.Errorf("before any second pass: got %v, want none", got)
		}
		if err := f.BuildSecondary(ctx, b1); err != nil {
			t.Fatal(err)
		}
		if got := search(); !slices.Equal(got, []string{"11", "21"}) {
			t.Errorf("after the first build: got %v, want [11 21]", got)
		}

		// A rebuild that excludes product 1: until its second pass, search
		// and GetItem still answer from the first build.
		if err := f.SaveRule(ctx, app.FeedRule{ShopID: sh.ID, Scope: app.RuleProduct, TargetID: 1, Exclude: &yes}); err != nil {
			t.Fatal(err)
		}
		b2 := loadPrimary(t, st, f, sh, 2, catalog)
		if b2.ID == b1.ID || b2.ItemsPublished != 1 {
			t.Fatalf("rebuild %d published %d items, want a new build publishing 1", b2.ID, b2.ItemsPublished)
		}
		if n := countFeedItems(t, st, sh.ID, b2.ID); n != 0 {
			t.Errorf("the rebuild's primary pass wrote %d feed_items rows, want 0", n)
		}
		if got := search(); !slices.Equal(got, []string{"11", "21"}) {
			t.Errorf("rebuild published, rows not written: got %v, want the first build's [11 21]", got)
		}
		if _, err := f.GetItem(ctx, sh.ID, "11"); err != nil {
			t.Errorf("GetItem(11) before the rebuild's rows are complete: %v", err)
		}
		if err := f.BuildSecondary(ctx, b2); err != nil {
			t.Fatal(err)
		}
		if got := search(); !slices.Equal(got, []string{"21"}) {
			t.Errorf("after the rebuild's second pass: got %v, want [21]", got)
		}
		if _, err := f.GetItem(ctx, sh.ID, "11"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("GetItem(11) after the rebuild: %v, want not found", err)
		}
		if n := countFeedItems(t, st, sh.ID, b1.ID); n != 0 {
			t.Errorf("%d rows of the first build left", n)
		}
	})
}

func ids(items []feeds.SearchItem) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}

func price(n int64) *int64 { return &n }

var yes = true

// errorField is the field an *app.Error names ("" for any other error).
func errorField(err error) string {
	var ae *app.Error
	if errors.As(err, &ae) {
		return ae.Field
	}
	return ""
}

// TestSearchItems: search finds what the published feed publishes and
// nothing else, by relevance, with its filters and pages, on both databases.
func TestSearchItems(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := searchShop(t, st, "search.myshopify.com")
		other := searchShop(t, st, "other.myshopify.com")
		f := feeds.New(st, nil, feeds.Options{})
		catalog := []searchProduct{
			{id: 1, title: "Linen Shirt", vendor: "Acme", cat: "Apparel > Shirts", desc: "A breezy summer shirt.", prices: []int64{3000, 3200}, qty: 5},
			{id: 2, title: "Wool Sweater", vendor: "Acme", cat: "Apparel > Sweaters", desc: "Warm; pairs with any linen shirt.", prices: []int64{8000}, qty: 0},
			{id: 3, title: "Coffee Mug", vendor: "Potter", cat: "Home > Kitchen", desc: "Stoneware mug.", prices: []int64{1500}, qty: 9},
			{id: 4, title: "Draft Linen Scarf", vendor: "Acme", cat: "Apparel > Scarves", prices: []int64{2000}, qty: 3, status: "DRAFT"},
			{id: 5, title: "Linen Trousers", vendor: "Acme", cat: "Apparel > Trousers", prices: []int64{6000}, qty: 2, collection: 77},
			{id: 6, title: "Oxford Shirt", vendor: "Tailor & Co", cat: "Apparel > Shirts", desc: "Cotton oxford cloth.", prices: []int64{4500}, qty: 1},
		}
		// The collection of product 5 is excluded by the merchant.
		if err := f.SaveRule(ctx, app.FeedRule{ShopID: sh.ID, Scope: app.RuleCollection, TargetID: 77, Exclude: &yes}); err != nil {
			t.Fatal(err)
		}
		b := loadCatalog(t, st, f, sh, 1, catalog)
		if b.ItemsPublished != 5 {
			t.Fatalf("published %d items, want 5 (products 1 with 2 variants, 2, 3, 6)", b.ItemsPublished)
		}
		// The other shop sells a linen shirt too.
		loadCatalog(t, st, f, other, 1, []searchProduct{{id: 9, title: "Linen Shirt", vendor: "Other", cat: "Apparel > Shirts", desc: "Linen.", prices: []int64{100}, qty: 1}})

		search := func(q feeds.SearchQuery) []string {
			t.Helper()
			p, err := f.SearchItems(ctx, sh.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			return ids(p.Items)
		}
		cases := []struct {
			name string
			q    feeds.SearchQuery
			want []string
		}{
			// Title matches first (11, 12), then the description match (21).
			// The draft (41) and excluded (51) linen items never appear.
			{"relevance", feeds.SearchQuery{Text: "LINEN shirt"}, []string{"11", "12", "21"}},
			{"brand", feeds.SearchQuery{Text: "tailor"}, []string{"61"}},
			{"sku", feeds.SearchQuery{Text: "sku-31"}, []string{"31"}},
			{"description", feeds.SearchQuery{Text: "stoneware"}, []string{"31"}},
			{"short term", feeds.SearchQuery{Text: "mu"}, []string{"31"}},
			{"wildcards are literal", feeds.SearchQuery{Text: "%"}, []string{}},
			{"everything", feeds.SearchQuery{}, []string{"11", "12", "21", "31", "61"}},
			{"price", feeds.SearchQuery{MinPrice: price(3100), MaxPrice: price(8000), Currency: "usd"}, []string{"12", "21", "61"}},
			{"availability", feeds.SearchQuery{Availability: "out_of_stock"}, []string{"21"}},
			{"category prefix", feeds.SearchQuery{Category: "apparel > SHIRTS"}, []string{"11", "12", "61"}},
			{"combined", feeds.SearchQuery{Text: "shirt", Category: "Apparel", Availability: "in_stock", MaxPrice: price(4000), Currency: "USD"}, []string{"11", "12"}},
		}
		for _, c := range cases {
			if got := search(c.q); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			}
		}

		// Pages of 2 walk the same order without gaps or repeats.
		var all []string
		q := feeds.SearchQuery{Text: "a", Limit: 2}
		for range 10 {
			p, err := f.SearchItems(ctx, sh.ID, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ids(p.Items)...)
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		whole := search(feeds.SearchQuery{Text: "a", Limit: 50})
		if !slices.Equal(all, whole) || len(whole) < 4 {
			t.Errorf("paged %v, whole %v", all, whole)
		}

		// GetItem: the item with its published siblings; unpublished and
		// other shops' items are not found.
		d, err := f.GetItem(ctx, sh.ID, "12")
		if err != nil {
			t.Fatal(err)
		}
		if d.Item.ID != "12" || !slices.Equal(ids(d.Variants), []string{"11", "12"}) || d.Item.Price != 3200 || d.Item.Currency != "USD" ||
			d.Item.Options["Size"] != "2" || d.Item.Availability != "in_stock" {
			t.Errorf("GetItem(12) = %+v", d)
		}
		for _, id := range []string{"41", "51", "91", "999"} {
			if _, err := f.GetItem(ctx, sh.ID, id); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("GetItem(%s): err %v, want not found", id, err)
			}
		}

		// A rebuild that unpublishes product 1 (now excluded) drops it.
		if err := f.SaveRule(ctx, app.FeedRule{ShopID: sh.ID, Scope: app.RuleProduct, TargetID: 1, Exclude: &yes}); err != nil {
			t.Fatal(err)
		}
		b2 := loadCatalog(t, st, f, sh, 2, catalog)
		if got := search(feeds.SearchQuery{Text: "linen shirt"}); !slices.Equal(got, []string{"21"}) {
			t.Errorf("after the rebuild: got %v, want [21]", got)
		}
		if _, err := f.GetItem(ctx, sh.ID, "11"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("GetItem(11) after exclusion: %v", err)
		}
		// Only the published build's rows are kept.
		var n int64
		q2 := "SELECT COUNT(*) FROM feed_items WHERE shop_id = $1 AND build_id <> $2"
		if st.Kind() == app.DatabaseSQLite {
			q2 = "SELECT COUNT(*) FROM feed_items WHERE shop_id = ? AND build_id <> ?"
		}
		if err := st.DB().QueryRow(q2, sh.ID, b2.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%d rows of older builds left", n)
		}
		// A cursor of the older build is refused, naming the field.
		if _, err := f.SearchItems(ctx, sh.ID, feeds.SearchQuery{Cursor: "1.0.1"}); errorField(err) != "cursor" {
			t.Errorf("stale cursor: %v", err)
		}
	})
}

// TestSearchItemsInvalid: bad input is CodeInvalid naming the field.
func TestSearchItemsInvalid(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := searchShop(t, st, "bad.myshopify.com")
		f := feeds.New(st, nil, feeds.Options{})
		long := make([]byte, 201)
		for i := range long {
			long[i] = 'a'
		}
		cases := []struct {
			q     feeds.SearchQuery
			field string
		}{
			{feeds.SearchQuery{Limit: 51}, "limit"},
			{feeds.SearchQuery{Limit: -1}, "limit"},
			{feeds.SearchQuery{MinPrice: price(-1), Currency: "USD"}, "min_price"},
			{feeds.SearchQuery{MaxPrice: price(-5), Currency: "USD"}, "max_price"},
			{feeds.SearchQuery{MinPrice: price(10), MaxPrice: price(5), Currency: "USD"}, "max_price"},
			{feeds.SearchQuery{MinPrice: price(10)}, "currency"},
			{feeds.SearchQuery{MaxPrice: price(10), Currency: "EUR"}, "currency"},
			{feeds.SearchQuery{Availability: "soon"}, "availability"},
			{feeds.SearchQuery{Cursor: "nope"}, "cursor"},
			{feeds.SearchQuery{Text: string(long)}, "query"},
			{feeds.SearchQuery{Text: "a b c d e f g h i"}, "query"},
			{feeds.SearchQuery{Category: string(long)}, "category"},
		}
		for _, c := range cases {
			_, err := f.SearchItems(ctx, sh.ID, c.q)
			if app.ErrorCode(err) != app.CodeInvalid || errorField(err) != c.field {
				t.Errorf("%+v: err %v, want invalid %s", c.q, err, c.field)
			}
		}
		if _, err := f.GetItem(ctx, sh.ID, ""); app.ErrorCode(err) != app.CodeInvalid || errorField(err) != "id" {
			t.Errorf("GetItem(\"\"): %v", err)
		}
		// No published build yet: nothing found, not an error.
		p, err := f.SearchItems(ctx, sh.ID, feeds.SearchQuery{Text: "x"})
		if err != nil || len(p.Items) != 0 {
			t.Errorf("before any build: %+v, %v", p, err)
		}
	})
}

// TestUnindexedFeedShops: housekeeping's list of shops whose published
// feed search cannot read — not a shop without a build, not one whose
// build has indexed, not one whose build may still be indexing, not an
// uninstalled one.
func TestUnindexedFeedShops(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := feeds.New(st, nil, feeds.Options{})
		catalog := []searchProduct{{id: 1, title: "Linen Shirt", vendor: "Acme", cat: "Apparel", desc: "A shirt.", prices: []int64{3000}, qty: 5}}
		unindexed := searchShop(t, st, "unindexed.myshopify.com")
		loadPrimary(t, st, f, unindexed, 1, catalog)
		indexed := searchShop(t, st, "indexed.myshopify.com")
		loadCatalog(t, st, f, indexed, 1, catalog)
		searchShop(t, st, "nobuild.myshopify.com")
		gone := searchShop(t, st, "gone.myshopify.com")
		loadPrimary(t, st, f, gone, 1, catalog)
		if err := st.UninstallShop(ctx, gone.Domain); err != nil {
			t.Fatal(err)
		}

		// Builds that finished after the cutoff may still be indexing.
		got, err := st.UnindexedFeedShops(ctx, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Errorf("with every build newer than the cutoff: got shops %v, want none", got)
		}
		got, err = st.UnindexedFeedShops(ctx, time.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []int64{unindexed.ID}) {
			t.Errorf("got shops %v, want only %d (published, never indexed)", got, unindexed.ID)
		}
	})
}

// TestSearchItemsOverlappingBuilds: two builds of a shop overlap and the
// newer one's second pass finishes first. The older one's must neither
// take search back to its items nor drop the newer one's rows (it did:
// search then found nothing at all).
func TestSearchItemsOverlappingBuilds(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := searchShop(t, st, "overlap.myshopify.com")
		f := feeds.New(st, nil, feeds.Options{})
		older := loadPrimary(t, st, f, sh, 1, []searchProduct{
			{id: 1, title: "Linen Shirt", vendor: "Acme", cat: "Apparel", desc: "A shirt.", prices: []int64{3000}, qty: 5}})
		newer := loadPrimary(t, st, f, sh, 2, []searchProduct{
			{id: 2, title: "Linen Trousers", vendor: "Acme", cat: "Apparel", desc: "Trousers.", prices: []int64{6000}, qty: 2}})
		if err := f.BuildSecondary(ctx, newer); err != nil {
			t.Fatal(err)
		}
		if err := f.BuildSecondary(ctx, older); err != nil {
			t.Fatal(err)
		}
		p, err := f.SearchItems(ctx, sh.ID, feeds.SearchQuery{Text: "linen"})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(p.Items); !slices.Equal(got, []string{"21"}) {
			t.Errorf("search after the older build finished last: got %v, want the newer build's [21]", got)
		}
		if n := countFeedItems(t, st, sh.ID, older.ID); n != 0 {
			t.Errorf("the older build left %d search rows", n)
		}
	})
}

// rebuildingStore is the real store with one interleaving forced: right
// after search has read which build it searches (LatestIndexedBuild), a
// newer build's second pass runs to its end, indexing its rows and
// dropping the build search just read.
type rebuildingStore struct {
	*store.Store
	pending func() // the newer build's second pass, run once
}

func (r *rebuildingStore) LatestIndexedBuild(ctx context.Context, shopID int64) (*app.FeedBuild, error) {
	b, err := r.Store.LatestIndexedBuild(ctx, shopID)
	if run := r.pending; run != nil {
		r.pending = nil
		run()
	}
	return b, err
}

// TestSearchItemsDuringRebuild: a rebuild that finishes between search's
// read of the indexed build and its query (CI caught it: an agent's search
// of everything found nothing) does not empty the answer: search and
// GetItem answer from the newer build.
func TestSearchItemsDuringRebuild(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh := searchShop(t, st, "during.myshopify.com")
		plain := feeds.New(st, nil, feeds.Options{})
		catalog := []searchProduct{
			{id: 1, title: "Linen Shirt", vendor: "Acme", cat: "Apparel", desc: "A shirt.", prices: []int64{3000, 3100}, qty: 5},
			{id: 2, title: "Linen Trousers", vendor: "Acme", cat: "Apparel", desc: "Trousers.", prices: []int64{6000}, qty: 2},
		}
		rs := &rebuildingStore{Store: st}
		f := feeds.New(rs, nil, feeds.Options{})
		for i, c := range []struct {
			name string
			call func() ([]string, error)
		}{
			{"search", func() ([]string, error) {
				p, err := f.SearchItems(ctx, sh.ID, feeds.SearchQuery{})
				if err != nil {
					return nil, err
				}
				return ids(p.Items), nil
			}},
			{"get", func() ([]string, error) {
				d, err := f.GetItem(ctx, sh.ID, "11")
				if err != nil {
					return nil, err
				}
				return ids(d.Variants), nil
			}},
		} {
			gen := int64(i)*2 + 1 // catalog generations go up
			loadCatalog(t, st, plain, sh, gen, catalog)
			newer := loadPrimary(t, st, plain, sh, gen+1, catalog)
			rs.pending = func() {
				if err := plain.BuildSecondary(ctx, newer); err != nil {
					t.Error(err)
				}
			}
			got, err := c.call()
			if rs.pending != nil {
				t.Fatalf("%s: the rebuild did not run in between", c.name)
			}
			want := []string{"11", "12", "21"}
			if c.name == "get" {
				want = want[:2]
			}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%s while a rebuild replaced the index: %v, %v; want %v", c.name, got, err, want)
			}
		}
	})
}
