package shops_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// uninstallFake is webhookFake holding a sealed offline token for the
// shop, so the uninstall can be confirmed with it.
type uninstallFake struct {
	*webhookFake
	sealed string
	// reinstalledAfter: from this many reads of the shop on, it holds
	// another token, as after a reinstall (0: never).
	reinstalledAfter int
	reads            int
}

func (f *uninstallFake) ShopByDomain(ctx context.Context, domain string) (*app.Shop, error) {
	sh, err := f.webhookFake.ShopByDomain(ctx, domain)
	f.reads++
	if err == nil && sh.Status == app.ShopActive {
		sh.AccessTokenSealed = f.sealed
		if f.reinstalledAfter > 0 && f.reads > f.reinstalledAfter {
			sh.AccessTokenSealed = "another token"
		}
	}
	return sh, err
}

func (f *uninstallFake) CachedShopByDomain(ctx context.Context, domain string) (*app.Shop, error) {
	return f.ShopByDomain(ctx, domain)
}

// answerAdmin is Shopify's Admin API answering every query with err.
type answerAdmin struct {
	err     error
	queries []string
}

func (a *answerAdmin) Query(_ context.Context, _, token, query string, _ map[string]any, _ any) error {
	if token != "shpat_fake" {
		return fmt.Errorf("token %q: %w", token, shopify.ErrUnauthorized)
	}
	a.queries = append(a.queries, query)
	return a.err
}

// TestUninstallConfirmedWithShopify: app/uninstalled deactivates a shop
// only when Shopify no longer accepts its token. Shopify accepting it
// (a replayed or stale delivery) finishes the delivery and deletes
// nothing; an answer that says nothing (Shopify down, throttled, 403)
// fails the job, which is retried, until the delivery has waited
// UninstallConfirmPatience, when the uninstall goes ahead unconfirmed; a
// shop we hold no token for is uninstalled as before, without asking; a
// shop that got a new token (a reinstall) while Shopify was asked about
// the old one is not uninstalled, the job asks again.
func TestUninstallConfirmedWithShopify(t *testing.T) {
	t.Parallel()
	const shop = "a-shop.myshopify.com"
	keys, err := secret.ParseKeyring("t:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal([]byte("shpat_fake"), app.AccessTokenAAD(shop))
	if err != nil {
		t.Fatal(err)
	}
	payload := []byte(`{"id":954889,"myshopify_domain":"a-shop.myshopify.com"}`)
	unavailable := &shopify.StatusError{Status: http.StatusServiceUnavailable, Err: shopify.ErrUnavailable}
	for _, c := range []struct {
		name     string
		status   app.ShopStatus
		admin    error
		received time.Duration // how long ago the delivery arrived
		asked    bool          // Shopify was asked
		failed   bool          // the job fails (and is retried)
		finished string        // the outcome's prefix, when it is finished
		deactive bool
	}{
		{"Shopify accepts the token", app.ShopActive, nil, time.Minute, true, false, "ignored: the app is still installed (Shopify accepted the shop's token)", false},
		{"Shopify unavailable", app.ShopActive, unavailable, time.Minute, true, true, "", false},
		{"Shopify throttling", app.ShopActive, fmt.Errorf("x: %w", shopify.ErrThrottled), time.Hour, true, true, "", false},
		{"Shopify answers 403", app.ShopActive, &shopify.StatusError{Status: 403, Err: shopify.ErrForbidden}, 23 * time.Hour, true, true, "", false},
		{"Shopify unavailable for a day", app.ShopActive, unavailable, shops.UninstallConfirmPatience, true, false,
			"shop deactivated; its tokens and API keys deleted (unconfirmed: Shopify could not be asked for 24h0m0s)", true},
		{"Shopify no longer knows the shop", app.ShopActive, &shopify.StatusError{Status: 404, Err: shopify.ErrNotFound}, time.Minute, true, false,
			"shop deactivated; its tokens and API keys deleted (Shopify no longer knows the shop)", true},
		// Shopify refuses the old token, but the shop holds a new one by
		// then: the job fails, and its retry asks with the new token.
		{"reinstalled while Shopify was asked", app.ShopActive, &shopify.StatusError{Status: 404, Err: shopify.ErrNotFound}, time.Minute, true, true, "", false},
		{"uninstalled already", app.ShopUninstalled, nil, time.Minute, false, false,
			"shop deactivated; its tokens and API keys deleted (no token held to ask Shopify with)", true},
		{"awaiting re-authorisation, no token", app.ShopReauthRequired, nil, time.Minute, false, false,
			"shop deactivated; its tokens and API keys deleted (no token held to ask Shopify with)", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := &uninstallFake{sealed: sealed, webhookFake: &webhookFake{
				ev: app.WebhookEvent{Shop: shop, Topic: shops.TopicAppUninstalled, WebhookID: "w1", Payload: payload,
					ReceivedAt: receiveNow.Add(-c.received)},
				known: map[string]app.ShopStatus{shop: c.status}, uninstalledAt: receiveNow.Add(-time.Hour)}}
			if strings.HasPrefix(c.name, "reinstalled") {
				fake.reinstalledAfter = 2 // the check's read and Query's
			}
			admin := &answerAdmin{err: c.admin}
			s := &shops.Shopify{Store: fake, Queue: fake, Admin: admin, Keys: keys,
				Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return receiveNow }}
			err := s.ProcessWebhook(context.Background(), 7)
			if (err != nil) != c.failed {
				t.Fatalf("ProcessWebhook = %v, want failure %v", err, c.failed)
			}
			if asked := len(admin.queries) == 1 && strings.Contains(admin.queries[0], "shop { id }"); asked != c.asked {
				t.Fatalf("queries %q, want Shopify asked: %v", admin.queries, c.asked)
			}
			if deactivated := len(fake.shops) == 1 && fake.shops[0] == shop; deactivated != c.deactive || len(fake.shops) > 1 {
				t.Fatalf("uninstalled %v, want %v", fake.shops, c.deactive)
			}
			switch {
			case c.failed && len(fake.finished) != 0:
				t.Fatalf("a failed job finished the delivery: %q", fake.finished)
			case !c.failed && (len(fake.finished) != 1 || fake.finished[0] != c.finished):
				t.Fatalf("finished %q, want %q", fake.finished, c.finished)
			}
		})
	}
}
