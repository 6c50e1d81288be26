package service_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// webhookOutcomeByID is the outcome recorded on one delivery, and whether
// it is processed.
func webhookOutcomeByID(t *testing.T, e *shopifyEnv, webhookID string) (string, bool) {
	t.Helper()
	var (
		outcome   string
		processed bool
	)
	err := e.db.QueryRow(rebind(e.cfg.Database.Kind,
		"SELECT outcome, processed_at IS NOT NULL FROM webhook_events WHERE webhook_id = ?"), webhookID).Scan(&outcome, &processed)
	if err != nil {
		t.Fatal(err)
	}
	return outcome, processed
}

// TestReplayedUninstall is the attack of issue 13 on app/uninstalled:
// Shopify's HMAC covers the body only, so the genuine app/uninstalled body
// of an earlier uninstall, sent again with fresh webhook and event ids and
// a fresh X-Shopify-Triggered-At after the shop reinstalled, verified and
// deactivated the live shop, deleting its tokens and its agents' API keys.
// Now the uninstall is confirmed with Shopify first: the shop's token
// still works, so the delivery is acknowledged and changes nothing.
func TestReplayedUninstall(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		e.installByOAuth(t)
		e.quiesce(t)
		ctx := context.Background()

		// A real uninstall, its body captured on the wire: Shopify refuses
		// the revoked token (and its refresh), so it is acted on.
		captured, err := e.emu.Uninstall(ctx, testShop)
		if err != nil || captured.Status != http.StatusOK {
			t.Fatalf("uninstall: %+v %v", captured, err)
		}
		waitFor(t, "uninstall processed", func() bool { _, done := webhookOutcomeByID(t, e, captured.ID); return done })
		if out, _ := webhookOutcomeByID(t, e, captured.ID); out != "shop deactivated; its tokens and API keys deleted (Shopify refused the shop's tokens)" {
			t.Fatalf("outcome of the real uninstall: %q", out)
		}
		if sh := e.shop(t); sh.Status != app.ShopUninstalled || sh.AccessTokenSealed != "" || sh.RefreshTokenSealed != "" {
			t.Fatalf("after the real uninstall: %+v", sh)
		}

		// The merchant reinstalls; an agent gets an API key.
		if _, _, err := e.svc.Shopify().Authenticate(ctx, e.emu.IDToken(testShop, "1")); err != nil {
			t.Fatalf("reinstall: %v", err)
		}
		before := e.shop(t)
		if _, err := e.svc.Store().CreateAPIKey(ctx, app.APIKey{ShopID: before.ID, Hash: "a-key", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}

		// The replay: the captured body, validly signed, fresh headers.
		status, resp := postWebhook(t, e, shops.TopicAppUninstalled, testShop, "replayed-1", captured.Body, shopify.SignWebhook(captured.Body, testSecret))
		if status != http.StatusOK {
			t.Fatalf("replay: %d %s, want 200 (acknowledged)", status, resp)
		}
		waitFor(t, "replay processed", func() bool { _, done := webhookOutcomeByID(t, e, "replayed-1"); return done })
		if out, _ := webhookOutcomeByID(t, e, "replayed-1"); out != "ignored: the app is still installed (Shopify accepted the shop's token)" {
			t.Fatalf("outcome of the replay: %q", out)
		}
		after := e.shop(t)
		if after.Status != app.ShopActive || after.UninstalledAt != nil ||
			after.AccessTokenSealed != before.AccessTokenSealed || after.RefreshTokenSealed != before.RefreshTokenSealed {
			t.Fatalf("shop after the replay: %+v, before %+v", after, before)
		}
		if sh, err := e.svc.Store().ShopByAPIKeyHash(ctx, "a-key"); err != nil || sh.ID != before.ID {
			t.Fatalf("the agent's API key no longer works after the replay: %v", err)
		}
		if _, err := e.svc.Shopify().AccessToken(ctx, testShop); err != nil {
			t.Fatalf("AccessToken after the replay: %v", err)
		}
	})
}

// TestUninstallWhileShopifyDown: while Shopify cannot answer whether the
// app is still installed, app/uninstalled deactivates nothing; its job
// fails and is retried, and the uninstall is done once Shopify answers.
func TestUninstallWhileShopifyDown(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newShopifyEnv(t, kind)
		e.installByOAuth(t)
		e.quiesce(t)
		ctx := context.Background()
		if _, err := e.svc.Store().CreateAPIKey(ctx, app.APIKey{ShopID: e.shop(t).ID, Hash: "a-key", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}
		e.failShopify("ConfirmInstalled", 2, http.StatusServiceUnavailable)
		d, err := e.emu.Uninstall(ctx, testShop)
		if err != nil || d.Status != http.StatusOK {
			t.Fatalf("uninstall: %+v %v", d, err)
		}
		// Two attempts fail; the third is River's backoff (16 s) away.
		retrying := func() bool {
			var state, errs string
			err := e.db.QueryRow(`SELECT state, CAST(errors AS TEXT) FROM river_job WHERE kind = 'shopify_webhook' ORDER BY id DESC LIMIT 1`).Scan(&state, &errs)
			return err == nil && state == "retryable" && strings.Count(errs, "confirming the uninstall with Shopify") == 2
		}
		waitFor(t, "two failed attempts", func() bool { return e.shopifyFaultHits() == 2 && retrying() })
		if sh := e.shop(t); sh.Status != app.ShopActive || sh.AccessTokenSealed == "" {
			t.Fatalf("shop deactivated on an unconfirmed uninstall: %+v", sh)
		}
		if _, err := e.svc.Store().ShopByAPIKeyHash(ctx, "a-key"); err != nil {
			t.Fatalf("API key deleted on an unconfirmed uninstall: %v", err)
		}
		if out, done := webhookOutcomeByID(t, e, d.ID); done || out != "" {
			t.Fatalf("delivery finished on an unconfirmed uninstall: %q", out)
		}

		// Shopify is back: the retry (brought forward) confirms and acts.
		now := "now()"
		if kind == app.DatabaseSQLite {
			now = "datetime('now', 'subsec')"
		}
		if _, err := e.db.Exec(`UPDATE river_job SET state = 'available', scheduled_at = ` + now + ` WHERE kind = 'shopify_webhook' AND state = 'retryable'`); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "uninstall confirmed", func() bool { return e.shop(t).Status == app.ShopUninstalled })
		if _, err := e.svc.Store().ShopByAPIKeyHash(ctx, "a-key"); err == nil {
			t.Fatal("API key works after the confirmed uninstall")
		}
		if out, _ := webhookOutcomeByID(t, e, d.ID); out != "shop deactivated; its tokens and API keys deleted (Shopify refused the shop's tokens)" {
			t.Fatalf("outcome: %q", out)
		}
	})
}
