package store_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/store"
)

func TestOAuthStatesAreSingleUse(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		if err := st.CreateOAuthState(ctx, "h1", "a.myshopify.com", time.Now().Add(time.Minute), 10); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateOAuthState(ctx, "h-old", "a.myshopify.com", time.Now().Add(-time.Second), 10); err != nil {
			t.Fatal(err)
		}
		if err := st.ConsumeOAuthState(ctx, "h1", "b.myshopify.com"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("state used for another shop: %v", err)
		}
		if err := st.ConsumeOAuthState(ctx, "h-old", "a.myshopify.com"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("expired state accepted: %v", err)
		}
		// Racing callbacks: exactly one consumes the state.
		var ok atomic.Int32
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if st.ConsumeOAuthState(ctx, "h1", "a.myshopify.com") == nil {
					ok.Add(1)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 {
			t.Fatalf("%d callbacks consumed one state, want 1", ok.Load())
		}
		if n, err := st.PruneOAuthStates(ctx); err != nil || n != 1 {
			t.Fatalf("prune = %d, %v; want the expired one", n, err)
		}
	})
}

// TestOAuthStatesCappedPerShop: a flood of install starts for one shop
// (the review's 300 /auth requests wrote 304 rows) keeps at most the cap
// of pending states for it, the newest; the shop's expired states go at
// the same time; other shops' states are untouched. Concurrent creates
// (replicas racing) keep the bound exact.
func TestOAuthStatesCappedPerShop(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		const keep = 10
		count := func(shop string) int {
			t.Helper()
			var n int
			if err := st.DB().QueryRowContext(ctx, "SELECT COUNT(*) FROM oauth_states WHERE shop = '"+shop+"'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		exp := time.Now().Add(time.Minute)
		if err := st.CreateOAuthState(ctx, "b-1", "b.myshopify.com", exp, keep); err != nil {
			t.Fatal(err)
		}
		if err := st.CreateOAuthState(ctx, "a-expired", "a.myshopify.com", time.Now().Add(-time.Second), keep); err != nil {
			t.Fatal(err)
		}
		for i := range 15 {
			if err := st.CreateOAuthState(ctx, fmt.Sprintf("a-%02d", i), "a.myshopify.com", exp, keep); err != nil {
				t.Fatal(err)
			}
			time.Sleep(time.Millisecond) // distinct created_at, so "oldest" is defined
		}
		if n := count("a.myshopify.com"); n != keep {
			t.Fatalf("%d pending states for the shop, want %d", n, keep)
		}
		// The oldest five went, the newest ten work, the expired one is gone.
		for i := range 15 {
			err := st.ConsumeOAuthState(ctx, fmt.Sprintf("a-%02d", i), "a.myshopify.com")
			if i < 5 && !errors.Is(err, app.ErrNotFound) {
				t.Errorf("state %d of 15 kept: %v", i, err)
			}
			if i >= 5 && err != nil {
				t.Errorf("state %d of 15 dropped: %v", i, err)
			}
		}
		if n, err := st.PruneOAuthStates(ctx); err != nil || n != 0 {
			t.Errorf("prune found %d expired states (%v); creating should have dropped the shop's", n, err)
		}

		// 300 concurrent starts, as the review sent.
		var wg sync.WaitGroup
		var failed atomic.Int32
		for g := range 10 {
			wg.Go(func() {
				for i := range 30 {
					if err := st.CreateOAuthState(ctx, fmt.Sprintf("c-%d-%d", g, i), "a.myshopify.com", exp, keep); err != nil {
						failed.Add(1)
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		if n := count("a.myshopify.com"); failed.Load() == 0 && n != keep {
			t.Errorf("after 300 concurrent starts: %d pending states, want %d", n, keep)
		}
		if n := count("b.myshopify.com"); n != 1 {
			t.Errorf("another shop's states: %d, want 1", n)
		}
	})
}

func TestWebhookEventsDeduplicate(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		ev := app.WebhookEvent{WebhookID: "w1", Shop: "a.myshopify.com", Topic: "products/update", Payload: []byte(`{"id":1}`)}
		id, dup, err := st.InsertWebhookEvent(ctx, ev)
		if err != nil || dup || id == 0 {
			t.Fatalf("first insert = %d, %v, %v", id, dup, err)
		}
		if _, dup, err := st.InsertWebhookEvent(ctx, ev); err != nil || !dup {
			t.Fatalf("redelivery insert: dup=%v err=%v, want duplicate", dup, err)
		}
		// The same event (shop, topic, event id) under a new webhook id is
		// a redelivery too; the same event id of another topic or shop,
		// and deliveries without one, are not.
		ev.EventID = "e1"
		if err := st.NoteWebhookEvent(ctx, id, "waiting"); err != nil {
			t.Fatal(err)
		}
		if got, _ := st.WebhookEvent(ctx, id); got.ProcessedAt != nil || got.Outcome != "waiting" || string(got.Payload) != `{"id":1}` {
			t.Fatalf("noted event = %+v", got)
		}
		for i, c := range []struct {
			webhookID, shop, topic, eventID string
			dup                             bool
		}{
			{"w2", "a.myshopify.com", "products/update", "e1", false},
			{"w3", "a.myshopify.com", "products/update", "e1", true},
			{"w4", "b.myshopify.com", "products/update", "e1", false},
			{"w5", "a.myshopify.com", "products/delete", "e1", false},
			{"w6", "a.myshopify.com", "products/update", "", false},
			{"w7", "a.myshopify.com", "products/update", "", false},
		} {
			e := app.WebhookEvent{WebhookID: c.webhookID, Shop: c.shop, Topic: c.topic, EventID: c.eventID, Payload: []byte("{}")}
			if _, dup, err := st.InsertWebhookEvent(ctx, e); err != nil || dup != c.dup {
				t.Fatalf("case %d %+v: dup=%v err=%v, want dup=%v", i, c, dup, err, c.dup)
			}
		}
		// Replicas racing with one event under different webhook ids
		// store it once: the unique index decides, not a lookup.
		var stored atomic.Int32
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				e := app.WebhookEvent{WebhookID: "race-" + strconv.Itoa(i), Shop: "a.myshopify.com", Topic: "shop/redact", EventID: "e-race", Payload: []byte("{}")}
				_, dup, err := st.InsertWebhookEvent(ctx, e)
				if err != nil {
					t.Error(err)
				}
				if err == nil && !dup {
					stored.Add(1)
				}
			})
		}
		wg.Wait()
		if stored.Load() != 1 {
			t.Fatalf("one event racing under 8 webhook ids stored %d times", stored.Load())
		}
		if err := st.FinishWebhookEvent(ctx, id, "done"); err != nil {
			t.Fatal(err)
		}
		got, err := st.WebhookEvent(ctx, id)
		if err != nil || got.ProcessedAt == nil || got.Outcome != "done" || string(got.Payload) != "{}" {
			t.Fatalf("finished event = %+v, %v", got, err)
		}
		if n, err := st.PruneWebhookEvents(ctx, time.Now().Add(time.Hour)); err != nil || n != 1 {
			t.Fatalf("prune = %d, %v", n, err)
		}
	})
}

func TestCustomerDataAndRedaction(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		add := func(id, shop, payload string) {
			if _, _, err := st.InsertWebhookEvent(ctx, app.WebhookEvent{WebhookID: id, Shop: shop, Topic: "orders/updated", Payload: []byte(payload)}); err != nil {
				t.Fatal(err)
			}
		}
		add("1", "a.myshopify.com", `{"email":"x@example.com"}`)
		add("2", "a.myshopify.com", `{"customer":{"admin_graphql_api_id":"gid://shopify/Customer/42"}}`)
		add("3", "a.myshopify.com", `{"customer":{"admin_graphql_api_id":"gid://shopify/Customer/421"}}`) // another customer
		add("4", "b.myshopify.com", `{"email":"x@example.com"}`)                                          // another shop
		add("5", "a.myshopify.com", `{"email":"x%example.com"}`)                                          // not a match
		ref := app.CustomerRef{ID: "42", Email: "x@example.com"}
		shopA, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		for id, email := range map[string]string{"cs_x": "x@example.com", "cs_y": "y@example.com"} {
			cs := &checkout.Session{ID: id, ShopID: shopA.ID, Version: acp.V20260417, Status: acp.StatusReadyForPayment, Currency: "USD",
				ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
				State: checkout.State{Buyer: &acp.Buyer{Email: email, FirstName: "X"}, Fulfillment: &acp.FulfillmentDetails{Name: "X", Address: &acp.Address{LineOne: "1 Main St"}},
					Quote: checkout.Quote{Lines: []checkout.QuotedLine{{ItemID: "1", Quantity: 1, UnitAmount: 100}}}}}
			if err := st.CreateCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}

		held, err := st.CustomerData(ctx, "a.myshopify.com", ref)
		if err != nil || held["webhook_events"] != 2 || held["checkout_sessions"] != 1 {
			t.Fatalf("CustomerData = %v, %v; want 2 events and 1 session", held, err)
		}
		red, err := st.RedactCustomer(ctx, "a.myshopify.com", ref)
		if err != nil || red["webhook_events"] != 2 || red["checkout_sessions"] != 1 {
			t.Fatalf("RedactCustomer = %v, %v; want 2 and 1", red, err)
		}
		if cs, err := st.CheckoutSession(ctx, shopA.ID, "cs_x"); err != nil || cs.State.Buyer != nil || cs.State.Fulfillment != nil || len(cs.State.Quote.Lines) != 1 {
			t.Fatalf("redacted session = %+v, %v", cs, err)
		}
		if cs, err := st.CheckoutSession(ctx, shopA.ID, "cs_y"); err != nil || cs.State.Buyer == nil {
			t.Fatalf("another buyer's session was redacted: %+v, %v", cs, err)
		}
		if held, _ := st.CustomerData(ctx, "a.myshopify.com", ref); held["webhook_events"] != 0 || held["checkout_sessions"] != 0 {
			t.Fatalf("after redaction still held: %v", held)
		}
		if held, _ := st.CustomerData(ctx, "b.myshopify.com", ref); held["webhook_events"] != 1 {
			t.Fatalf("redaction reached another shop: %v", held)
		}
		if held, _ := st.CustomerData(ctx, "a.myshopify.com", app.CustomerRef{ID: "421"}); held["webhook_events"] != 1 {
			t.Fatalf("redaction reached another customer: %v", held)
		}
		if held, _ := st.CustomerData(ctx, "a.myshopify.com", app.CustomerRef{}); held["webhook_events"] != 0 {
			t.Fatalf("an empty reference matched rows: %v", held)
		}
	})
}

// TestDeleteShopData: shop/redact's deletion takes only a shop uninstalled
// before the cutoff, with its keys and deliveries; an installed shop, a
// shop uninstalled later than the cutoff and a reinstalled one keep
// everything, and another shop is never touched.
func TestDeleteShopData(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		uninstalledAt := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
		shops := map[string]*app.Shop{}
		for _, d := range []string{"a", "b", "re"} {
			sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: d + ".myshopify.com"})
			if err != nil {
				t.Fatal(err)
			}
			shops[d] = sh
			if _, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: sh.ID, Hash: sh.Domain, Fingerprint: "f"}); err != nil {
				t.Fatal(err)
			}
			for _, w := range []string{"x", "y"} {
				if _, _, err := st.InsertWebhookEvent(ctx, app.WebhookEvent{WebhookID: sh.Domain + w, Shop: sh.Domain, Topic: "t", Payload: []byte("{}")}); err != nil {
					t.Fatal(err)
				}
			}
			// A data request's export: a customer's data, sealed.
			if err := st.SaveComplianceRequest(ctx, app.ComplianceRequest{Shop: sh.Domain, Topic: "customers/data_request", WebhookID: sh.Domain + "-dr",
				Report: []byte(`{}`), ReceivedAt: uninstalledAt, Export: []byte(`{"customer":"x"}`)}); err != nil {
				t.Fatal(err)
			}
		}
		now := st.Now
		st.Now = func() time.Time { return uninstalledAt }
		for _, d := range []string{"a", "re"} {
			if err := st.UninstallShop(ctx, d+".myshopify.com"); err != nil {
				t.Fatal(err)
			}
		}
		st.Now = now
		if _, err := st.SaveShopInstall(ctx, app.Shop{Domain: "re.myshopify.com"}); err != nil {
			t.Fatal(err)
		}
		// A key made after the uninstall (the store does not forbid it):
		// the cascade must take it.
		if _, err := st.CreateAPIKey(ctx, app.APIKey{ShopID: shops["a"].ID, Hash: "a-late", Fingerprint: "f"}); err != nil {
			t.Fatal(err)
		}

		cutoff := uninstalledAt.Add(time.Hour)
		for _, c := range []struct {
			name, shop string
			cutoff     time.Time
		}{
			{"installed shop", "b.myshopify.com", cutoff},
			{"reinstalled shop", "re.myshopify.com", cutoff},
			{"uninstalled after the cutoff", "a.myshopify.com", uninstalledAt.Add(-time.Second)},
			{"unknown shop", "nobody.myshopify.com", cutoff},
		} {
			got, err := st.DeleteShopData(ctx, c.shop, c.cutoff, "")
			if err != nil || got["shops"] != 0 || got["webhook_events"] != 0 || got["api_keys"] != 0 {
				t.Fatalf("%s: deleted %v, %v; want nothing", c.name, got, err)
			}
			if c.shop != "nobody.myshopify.com" {
				if _, err := st.ShopByDomain(ctx, c.shop); err != nil {
					t.Fatalf("%s: shop gone: %v", c.name, err)
				}
				if evs, _ := st.WebhookEvents(ctx, c.shop, 10); len(evs) != 2 {
					t.Fatalf("%s: %d deliveries left, want 2", c.name, len(evs))
				}
			}
		}

		got, err := st.DeleteShopData(ctx, "a.myshopify.com", cutoff, "a.myshopify.comx")
		if err != nil {
			t.Fatal(err)
		}
		if got["shops"] != 1 || got["api_keys"] != 1 || got["webhook_events"] != 1 || got["compliance_exports"] != 1 {
			t.Fatalf("deleted = %v", got)
		}
		for d, kept := range map[string]bool{"a": false, "b": true, "re": true} {
			list, err := st.ComplianceRequests(ctx, d+".myshopify.com")
			if err != nil || len(list) != 1 || list[0].HasExport != kept {
				t.Errorf("shop %s's data request after a's shop/redact: %+v, %v; want its export kept=%v", d, list, err, kept)
			}
		}
		if _, err := st.ShopByDomain(ctx, "a.myshopify.com"); !errors.Is(err, app.ErrNotFound) {
			t.Fatalf("shop a survives: %v", err)
		}
		for _, d := range []string{"b", "re"} {
			if sh, err := st.ShopByAPIKeyHash(ctx, d+".myshopify.com"); d == "b" && (err != nil || sh.ID != shops[d].ID) {
				t.Fatalf("shop %s damaged: %v %v", d, sh, err)
			}
			if evs, _ := st.WebhookEvents(ctx, d+".myshopify.com", 10); len(evs) != 2 {
				t.Fatalf("shop %s events = %d, want 2", d, len(evs))
			}
		}
	})
}

// TestShopLockExcludes: while one holder has a shop's lock, another waits;
// other shops are not blocked.
func TestShopLockExcludes(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var inside, maxInside atomic.Int32
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				err := st.WithShopLock(ctx, 7, func(ctx context.Context) error {
					n := inside.Add(1)
					for {
						m := maxInside.Load()
						if n <= m || maxInside.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(20 * time.Millisecond)
					inside.Add(-1)
					return nil
				})
				if err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if maxInside.Load() != 1 {
			t.Fatalf("%d holders at once, want 1", maxInside.Load())
		}
		// A cancelled wait returns the context's error.
		hold := make(chan struct{})
		release := make(chan struct{})
		go func() {
			_ = st.WithShopLock(ctx, 8, func(context.Context) error { close(hold); <-release; return nil })
		}()
		<-hold
		cctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		defer cancel()
		err := st.WithShopLock(cctx, 8, func(context.Context) error { return nil })
		close(release)
		if err == nil {
			t.Fatal("a second holder got the lock while the first held it")
		}
	})
}

// TestUninstallDestroysCredentials: an uninstall deletes every credential
// the shop gave the app (payment keys, agent signing and webhook secrets,
// feed target passwords), disables its feed targets, and leaves another
// shop's alone.
func TestUninstallDestroysCredentials(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		seed := func(domain string) *app.Shop {
			sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: domain, AccessTokenSealed: "tok"})
			if err != nil {
				t.Fatal(err)
			}
			if err := st.SaveACPSettings(ctx, app.ACPSettings{ShopID: sh.ID, SigningSecretSealed: "sig", RequireSignature: true,
				WebhookURL: "https://agent.example/events", WebhookSecretSealed: "whsec", CompletionMethod: app.CompletionDelegatedPayment}); err != nil {
				t.Fatal(err)
			}
			if err := st.SavePaymentCredentials(ctx, app.PaymentCredentials{ShopID: sh.ID, Provider: "stripe", AccountID: "acct_1", Sealed: "sk"}); err != nil {
				t.Fatal(err)
			}
			if _, err := st.SaveFeedTarget(ctx, app.FeedTarget{ShopID: sh.ID, Kind: "sftp", Config: []byte(`{"host":"sftp.example"}`), Secret: "pw", Enabled: true}); err != nil {
				t.Fatal(err)
			}
			return sh
		}
		gone, kept := seed("gone.myshopify.com"), seed("kept.myshopify.com")
		if err := st.UninstallShop(ctx, gone.Domain); err != nil {
			t.Fatal(err)
		}
		check := func(sh *app.Shop, wantKept bool) {
			t.Helper()
			set, err := st.ACPSettings(ctx, sh.ID)
			if err != nil {
				t.Fatal(err)
			}
			pay, perr := st.PaymentCredentials(ctx, sh.ID, "stripe")
			targets, err := st.FeedTargets(ctx, sh.ID)
			if err != nil || len(targets) != 1 {
				t.Fatalf("targets: %v %v", targets, err)
			}
			tg := targets[0]
			if wantKept {
				if set.SigningSecretSealed != "sig" || set.WebhookSecretSealed != "whsec" || !set.RequireSignature || set.Payment == nil ||
					perr != nil || pay.Sealed != "sk" || tg.Secret != "pw" || !tg.Enabled {
					t.Errorf("the other shop's credentials changed: %+v %+v %v %+v", set, pay, perr, tg)
				}
				return
			}
			if set.SigningSecretSealed != "" || set.WebhookSecretSealed != "" || set.RequireSignature || set.Payment != nil {
				t.Errorf("agent secrets or payment account left after uninstall: %+v", set)
			}
			if set.WebhookURL != "https://agent.example/events" {
				t.Errorf("webhook URL (not a secret) = %q, want it kept", set.WebhookURL)
			}
			if !errors.Is(perr, app.ErrNotFound) {
				t.Errorf("payment credentials after uninstall: %+v, %v", pay, perr)
			}
			if tg.Secret != "" || tg.Enabled || tg.LastDetail == "" || string(tg.Config) != `{"host":"sftp.example"}` {
				t.Errorf("feed target after uninstall: %+v", tg)
			}
		}
		check(gone, false)
		check(kept, true)
		// Idempotent: a second uninstall changes nothing and fails not.
		if err := st.UninstallShop(ctx, gone.Domain); err != nil {
			t.Fatal(err)
		}
		check(gone, false)

		// A completion in flight (order written, charge not captured) keeps
		// the payment keys, so the resume can still capture; the rest goes.
		busy := seed("busy.myshopify.com")
		now := time.Now().UTC().Truncate(time.Millisecond)
		cs := &checkout.Session{ID: "cs_busy", ShopID: busy.ID, Version: acp.V20260417, Status: acp.StatusCompleteInProgress,
			Currency: "USD", ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		if err := st.CreateCheckoutSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
		if _, err := st.InsertPayment(ctx, &checkout.Payment{SessionID: cs.ID, ShopID: busy.ID, State: checkout.PaymentOrdered, Attempt: 1,
			TokenSealed: "sealed", Amount: 100, Currency: "USD", CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		if err := st.UninstallShop(ctx, busy.Domain); err != nil {
			t.Fatal(err)
		}
		set, err := st.ACPSettings(ctx, busy.ID)
		if err != nil {
			t.Fatal(err)
		}
		if pay, err := st.PaymentCredentials(ctx, busy.ID, "stripe"); err != nil || pay.Sealed != "sk" || set.Payment == nil {
			t.Errorf("payment keys of a shop with a completion in flight: %+v %v (settings %+v), want kept", pay, err, set.Payment)
		}
		if set.SigningSecretSealed != "" || set.WebhookSecretSealed != "" {
			t.Errorf("agent secrets kept with a completion in flight: %+v", set)
		}
	})
}
