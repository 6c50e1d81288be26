package service_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
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
