package service_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
	"github.com/acpbridge/acpbridge/shopify/emulator"
)

// TestInventoryWebhookSwept: an inventory_levels/update whose inline
// handling fails (here the catalog's look-up of its item) is still
// answered 200, stored unprocessed with its payload and claimed, taken by
// no job meanwhile; once the claim has passed the sweep hands it to one
// job, which processes it.
func TestInventoryWebhookSwept(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := &checkoutEnv{shopifyEnv: newShopifyEnv(t, kind)}
		e.installByOAuth(t)
		ctx := context.Background()
		exec := func(q string) {
			t.Helper()
			if _, err := e.db.Exec(q); err != nil {
				t.Fatal(err)
			}
		}

		// The catalog's look-up of the item fails: its table is away.
		exec(`ALTER TABLE catalog_variants RENAME TO catalog_variants_away`)
		d, err := e.emu.SendWebhook(ctx, testShop, "inventory_levels/update", map[string]any{"inventory_item_id": 424242, "location_id": 1, "available": 3})
		exec(`ALTER TABLE catalog_variants_away RENAME TO catalog_variants`)
		if err != nil || d.Status != 200 {
			t.Fatalf("delivery: %+v %v, want 200", d, err)
		}
		ev := e.waitWebhook(t, "inventory_levels/update", func(*app.WebhookEvent) bool { return true })
		if ev.ProcessedAt != nil || ev.ClaimedUntil == nil || !ev.ClaimedUntil.After(time.Now()) || string(ev.Payload) == "{}" {
			t.Fatalf("after a failed handling: %+v, want unprocessed, claimed, its payload kept", ev)
		}
		if err := e.svc.Shopify().SweepWebhooks(ctx); err != nil {
			t.Fatal(err)
		}
		if n := jobsFor(t, e, kind, "shopify_webhook", ev.ID); n != 0 {
			t.Fatalf("%d jobs under the claim, want 0", n)
		}

		// The claim passes (as InlineClaim later): one job processes it.
		exec(`UPDATE webhook_events SET claimed_until = received_at WHERE id = ` + strconv.FormatInt(ev.ID, 10))
		for range 2 {
			if err := e.svc.Shopify().SweepWebhooks(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := jobsFor(t, e, kind, "shopify_webhook", ev.ID); n != 1 {
			t.Fatalf("%d jobs after the sweep, want 1", n)
		}
		done := e.waitWebhook(t, "inventory_levels/update", func(ev *app.WebhookEvent) bool { return ev.ProcessedAt != nil })
		if done.ID != ev.ID || done.Outcome != "inventory change handled" || string(done.Payload) != "{}" {
			t.Fatalf("processed by the job: %+v", done)
		}
	})
}

// TestCatalogWebhookProcessedNotStored: a products/delete is processed in
// its request and, with nothing left to do, not stored: no row, no job;
// the product has left the catalog by the time Shopify has its 200. A
// redelivery of it is processed again and changes nothing, and a stale
// products/update of the product redelivered after the delete cannot
// bring the product back: the refresh it asks for reads Shopify, where it
// is gone.
func TestCatalogWebhookProcessedNotStored(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e, sh, _ := syncedEnv(t, kind)
		ctx := context.Background()
		gone := e.emu.Products(testShop)[2]
		gid := strconv.FormatInt(gone.ID, 10)
		products, _, err := e.svc.Store().CatalogCounts(ctx, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		if err := e.emu.UpdateProduct(testShop, gid, func(p *emulator.Product) { p.Title = "Renamed" }); err != nil {
			t.Fatal(err)
		}
		updates := e.emu.Deliveries(testShop, "products/update")
		stale := updates[len(updates)-1]
		if err := e.emu.DeleteProduct(testShop, gid); err != nil {
			t.Fatal(err)
		}
		deletes := e.emu.Deliveries(testShop, "products/delete")
		del := deletes[len(deletes)-1]
		if del.Status != 200 {
			t.Fatalf("products/delete answered %d", del.Status)
		}
		if n, _, _ := e.svc.Store().CatalogCounts(ctx, sh.ID); n != products-1 {
			t.Fatalf("%d products once the delete was answered, want %d", n, products-1)
		}
		if evs := e.storedWebhooks(t, "products/delete"); len(evs) != 0 {
			t.Fatalf("products/delete rows %+v, want none", evs)
		}
		if n := len(e.storedWebhooks(t, "products/update")); n != 0 {
			t.Fatalf("%d products/update rows, want none", n)
		}

		// Both redelivered as Shopify would (same ids, same body).
		for _, d := range []*emulator.Delivery{del, stale} {
			status, body := postWebhookHeaders(t, e, map[string]string{"X-Shopify-Topic": d.Topic, "X-Shopify-Shop-Domain": d.Shop,
				"X-Shopify-Webhook-Id": d.ID, "X-Shopify-Event-Id": d.EventID, "X-Shopify-Hmac-Sha256": shopify.SignWebhook(d.Body, testSecret),
				"X-Shopify-Triggered-At": d.TriggeredAt.UTC().Format(time.RFC3339Nano)}, d.Body)
			if status != 200 || !strings.Contains(body, `"received":true`) {
				t.Fatalf("%s redelivered: %d %s, want 200", d.Topic, status, body)
			}
		}
		if evs := e.storedWebhooks(t, "products/delete"); len(evs) != 0 {
			t.Fatalf("products/delete rows after its redelivery %+v, want none", evs)
		}
		if n, _, _ := e.svc.Store().CatalogCounts(ctx, sh.ID); n != products-1 {
			t.Fatalf("%d products after the delete's redelivery, want %d", n, products-1)
		}
		// The stale update's refresh runs (every refresh of the product
		// is done) and the product stays deleted.
		refreshes := `SELECT count(*), count(*) FILTER (WHERE state NOT IN ('completed', 'cancelled', 'discarded')) FROM river_job
			WHERE kind = 'catalog_product_refresh' AND (args->>'product_id')::bigint = ` + gid
		if kind == app.DatabaseSQLite {
			refreshes = `SELECT count(*), coalesce(sum(state NOT IN ('completed', 'cancelled', 'discarded')), 0) FROM river_job
				WHERE kind = 'catalog_product_refresh' AND json_extract(args, '$.product_id') = ` + gid
		}
		waitFor(t, "the product's refreshes done", func() bool {
			var all, pending int
			if err := e.db.QueryRow(refreshes).Scan(&all, &pending); err != nil {
				t.Fatal(err)
			}
			return all >= 2 && pending == 0
		})
		if n, _, _ := e.svc.Store().CatalogCounts(ctx, sh.ID); n != products-1 {
			t.Fatalf("%d products after the stale update's redelivery, want %d", n, products-1)
		}
	})
}
