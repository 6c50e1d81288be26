package service_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// syncedEnv installs the app on the emulated shop and waits for the first
// sync and feed build, returning the shop and a feed token.
func syncedEnv(t *testing.T, kind app.DatabaseKind) (*shopifyEnv, *app.Shop, string) {
	t.Helper()
	e := newShopifyEnv(t, kind)
	e.installByOAuth(t)
	ctx := context.Background()
	var sh *app.Shop
	waitFor(t, "first sync", func() bool {
		sh = e.shop(t)
		sy, err := e.svc.Store().LatestSync(ctx, sh.ID)
		return err == nil && sy.Status == app.SyncCompleted
	})
	var first *app.FeedBuild
	waitFor(t, "first build", func() bool {
		var err error
		first, err = e.svc.Store().LatestBuild(ctx, sh.ID, app.BuildPublished)
		return err == nil
	})
	// Shopify has no return window: until the merchant sets one, items are
	// published for search only, and the build says why.
	if first.ItemsInvalid != 0 || first.ItemsPublished == 0 || !strings.Contains(first.Error, "return_window_days") {
		t.Fatalf("first build: %d published, %d invalid, note %q", first.ItemsPublished, first.ItemsInvalid, first.Error)
	}
	fs, err := e.svc.Feeds().Settings(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	fs.ReturnWindowDays = 30 // the merchant's one onboarding step Shopify cannot fill
	if err := e.svc.Feeds().SaveSettings(ctx, *fs); err != nil {
		t.Fatal(err)
	}
	token, err := e.svc.Feeds().RotateToken(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	return e, sh, token
}

// pullFeed downloads and parses the published JSONL feed.
func pullFeed(t *testing.T, e *shopifyEnv, token string) (map[string]map[string]any, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.svc.URL()+"/feeds/"+testShop+"/products.jsonl.gz", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("feed pull: %d %s", resp.StatusCode, b)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	items := map[string]map[string]any{}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var it map[string]any
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatalf("feed line is not JSON: %v", err)
		}
		items[it["item_id"].(string)] = it
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("feed is not a complete gzip stream: %v", err)
	}
	return items, resp.Header
}

func rebuild(t *testing.T, e *shopifyEnv, sh *app.Shop) *app.FeedBuild {
	t.Helper()
	b, err := e.svc.Feeds().Build(context.Background(), sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func variantID(v emulator.Variant) string { return strconv.FormatInt(v.ID, 10) }

func TestCatalogSyncAndFeed(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e, sh, token := syncedEnv(t, kind)
		ctx := context.Background()
		products := e.emu.Products(testShop)
		b := rebuild(t, e, sh)
		if b.ItemsInvalid != 0 {
			problems, _ := e.svc.Store().FeedProblems(ctx, b.ID, 20)
			t.Fatalf("%d invalid items in the demo shop's feed: %+v", b.ItemsInvalid, problems)
		}
		items, hdr := pullFeed(t, e, token)
		if int64(len(items)) != b.ItemsPublished || len(items) == 0 {
			t.Fatalf("feed has %d items, build says %d", len(items), b.ItemsPublished)
		}

		// The seeded edge cases land where they should.
		tee, jacket, ebook, draft, archived := products[0], products[1], products[2], products[3], products[4]
		for _, v := range tee.Variants {
			it := items[variantID(v)]
			if it == nil {
				t.Fatalf("tee variant %d missing", v.ID)
			}
			if v.InventoryQuantity == 0 && v.InventoryPolicy == "DENY" {
				if it["availability"] != "out_of_stock" || it["is_eligible_checkout"] != false {
					t.Errorf("sold-out variant: availability %v checkout %v", it["availability"], it["is_eligible_checkout"])
				}
			} else if it["availability"] != "in_stock" || it["is_eligible_checkout"] != true {
				t.Errorf("variant %d (%d left): availability %v checkout %v", v.ID, v.InventoryQuantity, it["availability"], it["is_eligible_checkout"])
			}
			if it["group_id"] != strconv.FormatInt(tee.ID, 10) {
				t.Errorf("group_id = %v", it["group_id"])
			}
		}
		if it := items[variantID(jacket.Variants[0])]; it == nil || it["sale_price"] == nil {
			t.Errorf("compare-at variant lacks sale_price: %v", it)
		}
		if it := items[variantID(ebook.Variants[0])]; it == nil || it["is_digital"] != true {
			t.Errorf("digital product: %v", it)
		}
		for _, p := range []emulator.Product{*draft, *archived} {
			if items[variantID(p.Variants[0])] != nil {
				t.Errorf("%s product %d is in the feed", p.Status, p.ID)
			}
		}

		// Caching: the same file answers 304 to its ETag.
		req, _ := http.NewRequest(http.MethodGet, e.svc.URL()+"/feeds/"+testShop+"/products.jsonl.gz", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("If-None-Match", hdr.Get("ETag"))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified || hdr.Get("Last-Modified") == "" {
			t.Fatalf("conditional pull = %d (Last-Modified %q), want 304", resp.StatusCode, hdr.Get("Last-Modified"))
		}
		for _, c := range []struct{ name, token, shop, file string }{
			{"no token", "", testShop, "products.jsonl.gz"},
			{"wrong token", "acpf_wrong", testShop, "products.jsonl.gz"},
			{"token of this shop for another shop", token, "other.myshopify.com", "products.jsonl.gz"},
		} {
			req, _ := http.NewRequest(http.MethodGet, e.svc.URL()+"/feeds/"+c.shop+"/"+c.file, nil)
			if c.token != "" {
				req.Header.Set("Authorization", "Bearer "+c.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s: %d, want 401", c.name, resp.StatusCode)
			}
		}
		// The CSV and TSV files are published too.
		for _, f := range []string{"products.csv.gz", "products.tsv.gz"} {
			req, _ := http.NewRequest(http.MethodHead, e.svc.URL()+"/feeds/"+testShop+"/"+f, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.ContentLength <= 0 {
				t.Errorf("HEAD %s = %d, %d bytes", f, resp.StatusCode, resp.ContentLength)
			}
		}
	})
}

func TestCatalogFollowsShopify(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e, sh, token := syncedEnv(t, kind)
		ctx := context.Background()
		products := e.emu.Products(testShop)
		tee := products[0]
		inStock := tee.Variants[0]

		// A title change in Shopify reaches the feed through the webhook,
		// the product refresh and the debounced rebuild.
		if err := e.emu.UpdateProduct(testShop, strconv.FormatInt(tee.ID, 10), func(p *emulator.Product) { p.Title = "Renamed Tee" }); err != nil {
			t.Fatal(err)
		}
		if err := e.emu.SetInventory(testShop, strconv.FormatInt(inStock.ID, 10), 0); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "feed follows the rename and the stock change", func() bool {
			items, _ := pullFeed(t, e, token)
			it := items[variantID(inStock)]
			return it != nil && strings.HasPrefix(it["title"].(string), "Renamed Tee") && it["availability"] == "out_of_stock"
		})

		// A deleted product leaves the feed.
		gone := products[2]
		if err := e.emu.DeleteProduct(testShop, strconv.FormatInt(gone.ID, 10)); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "deleted product leaves the feed", func() bool {
			items, _ := pullFeed(t, e, token)
			return items[variantID(gone.Variants[0])] == nil
		})

		// The merchant excludes a product, and a whole collection.
		yes := true
		if err := e.svc.Feeds().SaveRule(ctx, app.FeedRule{ShopID: sh.ID, Scope: app.RuleProduct, TargetID: tee.ID, Exclude: &yes}); err != nil {
			t.Fatal(err)
		}
		sale := products[1].Collections[len(products[1].Collections)-1] // the jacket is on sale
		if err := e.svc.Feeds().SaveRule(ctx, app.FeedRule{ShopID: sh.ID, Scope: app.RuleCollection, TargetID: sale.ID, Exclude: &yes}); err != nil {
			t.Fatal(err)
		}
		rebuild(t, e, sh)
		items, _ := pullFeed(t, e, token)
		if items[variantID(tee.Variants[0])] != nil {
			t.Fatal("excluded product still in the feed")
		}
		if items[variantID(products[1].Variants[0])] != nil {
			t.Fatalf("product of the excluded %q collection still in the feed", sale.Title)
		}
		// A product rule wins over its collection's.
		no := false
		if err := e.svc.Feeds().SaveRule(ctx, app.FeedRule{ShopID: sh.ID, Scope: app.RuleProduct, TargetID: products[1].ID, Exclude: &no}); err != nil {
			t.Fatal(err)
		}
		rebuild(t, e, sh)
		if items, _ := pullFeed(t, e, token); items[variantID(products[1].Variants[0])] == nil {
			t.Fatal("a product included explicitly stays out because of its collection")
		}
	})
}

// TestFailedSyncsKeepTheCatalog: an export that fails at Shopify, or whose
// file is cut short, fails the sync and leaves the catalog and the
// published feed as they were.
func TestFailedSyncsKeepTheCatalog(t *testing.T) {
	t.Parallel()
	e, sh, token := syncedEnv(t, app.DatabaseSQLite)
	ctx := context.Background()
	before, _ := pullFeed(t, e, token)
	products, variants, err := e.svc.Store().CatalogCounts(ctx, sh.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, fault := range []string{emulator.BulkFailed, emulator.BulkTruncated} {
		e.emu.FailNextBulk(fault)
		sy, err := e.svc.Catalog().StartSync(ctx, testShop, "manual")
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, fault+" sync ends", func() bool {
			sy, err = e.svc.Store().Sync(ctx, sy.ID)
			return err == nil && sy.Done()
		})
		if sy.Status != app.SyncFailed || sy.Error == "" {
			t.Fatalf("%s export: sync %s (%q), want failed with a reason", fault, sy.Status, sy.Error)
		}
		p2, v2, _ := e.svc.Store().CatalogCounts(ctx, sh.ID)
		if p2 != products || v2 != variants {
			t.Fatalf("%s export changed the catalog: %d/%d products, %d/%d variants", fault, p2, products, v2, variants)
		}
		after, _ := pullFeed(t, e, token)
		if len(after) != len(before) {
			t.Fatalf("%s export changed the published feed: %d items, was %d", fault, len(after), len(before))
		}
	}
	// The next good sync succeeds.
	sy, err := e.svc.Catalog().StartSync(ctx, testShop, "manual")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "good sync", func() bool {
		sy, _ = e.svc.Store().Sync(ctx, sy.ID)
		return sy.Done()
	})
	if sy.Status != app.SyncCompleted || sy.RowsDone != sy.RowsExpected {
		t.Fatalf("good sync: %s, %d of %d rows", sy.Status, sy.RowsDone, sy.RowsExpected)
	}
}

// TestAdminCatalogAPI: the embedded admin sees sync progress and the last
// build, and can start a sync, authenticated by its ID token.
func TestAdminCatalogAPI(t *testing.T) {
	t.Parallel()
	e, _, _ := syncedEnv(t, app.DatabaseSQLite)
	call := func(method, token string) (int, map[string]any) {
		req, _ := http.NewRequest(method, e.svc.URL()+map[string]string{"GET": "/api/catalog", "POST": "/api/catalog/sync"}[method], nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	status, out := call("GET", e.emu.IDToken(testShop, "1"))
	sync, _ := out["sync"].(map[string]any)
	build, _ := out["last_build"].(map[string]any)
	if status != 200 || sync["status"] != "completed" || sync["rows_done"] != sync["rows_expected"] || build == nil || out["variants"].(float64) == 0 {
		t.Fatalf("GET /api/catalog = %d %v", status, out)
	}
	status, out = call("POST", e.emu.IDToken(testShop, "1"))
	if status != http.StatusAccepted || out["status"] != "pending" {
		t.Fatalf("POST /api/catalog/sync = %d %v", status, out)
	}
	id := out["id"]
	waitFor(t, "admin-started sync", func() bool {
		_, out := call("GET", e.emu.IDToken(testShop, "1"))
		s, _ := out["sync"].(map[string]any)
		return s["id"] == id && s["status"] == "completed"
	})
	if status, _ := call("GET", "not-a-token"); status != http.StatusUnauthorized {
		t.Fatalf("GET with a bad token = %d", status)
	}
	if status, _ := call("POST", ""); status != http.StatusUnauthorized {
		t.Fatalf("POST without a token = %d", status)
	}
}
