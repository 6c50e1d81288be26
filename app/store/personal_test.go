package store_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// rawText returns one row's columns as text (SQL written with literals,
// so it runs unchanged on both databases).
func rawText(t *testing.T, st *store.Store, query string) []string {
	t.Helper()
	rows, err := st.DB().QueryContext(context.Background(), query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatalf("%s: no row", query)
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(cols))
	for i, v := range vals {
		switch v := v.(type) {
		case nil:
			out[i] = "<NULL>"
		case []byte:
			out[i] = string(v)
		case string:
			out[i] = v
		default:
			b, _ := json.Marshal(v)
			out[i] = string(b)
		}
	}
	return out
}

func personalSession(shopID int64, id, email string, now time.Time) *checkout.Session {
	return &checkout.Session{ID: id, ShopID: shopID, Version: acp.V20260417, Status: acp.StatusReadyForPayment, Currency: "USD",
		ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
		State: checkout.State{Items: []checkout.CartItem{{ItemID: "42", Quantity: 1}},
			Buyer:       &acp.Buyer{FirstName: "Ada", LastName: "Lovelace", Email: email, PhoneNumber: "+15035550101"},
			Fulfillment: &acp.FulfillmentDetails{Name: "Ada Lovelace", Address: &acp.Address{LineOne: "1 Analytical Row", City: "Portland", Country: "US", PostalCode: "97204"}},
			OrderNotes:  "leave at the door",
			Quote:       checkout.Quote{Lines: []checkout.QuotedLine{{ItemID: "42", Quantity: 1, UnitAmount: 1500, Title: "Engine"}}}}}
}

// TestBuyersSealedAtRest: a session's buyer, address and notes, a cart's
// buyer, a payment's billing address and an idempotency record's stored
// answer are stored sealed, not in plaintext; they read back whole; the
// buyer's email is indexed blind; a sealed value copied into another row
// does not open there.
func TestBuyersSealedAtRest(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		for _, id := range []string{"cs_one", "cs_two"} {
			if err := st.CreateCheckoutSession(ctx, personalSession(sh.ID, id, "Ada@Example.com", now)); err != nil {
				t.Fatal(err)
			}
		}
		cart := &checkout.Cart{ID: "cart_one", ShopID: sh.ID, Currency: "USD", ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
			State: checkout.CartState{Items: []checkout.CartItem{{ItemID: "42", Quantity: 1}}, Buyer: &acp.Buyer{Email: "ada@example.com", PhoneNumber: "+15035550101"}}}
		if err := st.CreateCart(ctx, cart); err != nil {
			t.Fatal(err)
		}
		pay := &checkout.Payment{SessionID: "cs_one", ShopID: sh.ID, State: "pending", Attempt: 1, Amount: 1500, Currency: "USD",
			Details:   checkout.PaymentDetails{BillingAddress: &acp.Address{LineOne: "9 Billing Way", City: "Portland", Country: "US"}, OrderNotes: "gift"},
			CreatedAt: now, UpdatedAt: now}
		if ok, err := st.InsertPayment(ctx, pay); err != nil || !ok {
			t.Fatalf("InsertPayment = %v, %v", ok, err)
		}
		scope := idempotency.Scope{ShopID: sh.ID, APIKeyID: 1, Operation: "update", SessionID: "cs_one"}
		rec, claimed := claim(t, st, idemRecord(scope, "k1", "h", now), now)
		if !claimed {
			t.Fatalf("claim = %+v", rec)
		}
		answer := []byte(`{"id":"cs_one","buyer":{"email":"ada@example.com","phone_number":"+15035550101"}}`)
		if err := st.FinishIdempotencyKey(ctx, rec.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: answer}); err != nil {
			t.Fatal(err)
		}

		for _, q := range []string{
			`SELECT state, buyer_sealed, buyer_index FROM checkout_sessions WHERE id = 'cs_one'`,
			`SELECT state, buyer_sealed, buyer_index FROM carts WHERE id = 'cart_one'`,
			`SELECT details FROM checkout_payments WHERE session_id = 'cs_one'`,
			`SELECT result_session FROM idempotency_keys WHERE key = 'k1'`,
		} {
			row := strings.Join(rawText(t, st, q), " | ")
			for _, plain := range []string{"xample.com", "5035550101", "Analytical", "Lovelace", "leave at the door", "Billing Way", "gift"} {
				if strings.Contains(strings.ToLower(row), strings.ToLower(plain)) {
					t.Errorf("%s: %q in plaintext: %s", q, plain, row)
				}
			}
			sealed := "v1:" // the keyring's text form; answers take its binary form
			if strings.Contains(q, "result_session") {
				sealed = "v1::b1:"
			}
			if !strings.Contains(row, sealed) {
				t.Errorf("%s: nothing sealed: %s", q, row)
			}
		}
		want := storetest.Keys.BlindIndex(app.EmailIndexPurpose, "ada@example.com")
		if got := rawText(t, st, `SELECT buyer_index FROM checkout_sessions WHERE id = 'cs_one'`)[0]; got != want {
			t.Errorf("buyer_index = %q, want the blind index of the normalized email %q", got, want)
		}

		cs, err := st.CheckoutSession(ctx, sh.ID, "cs_one")
		if err != nil {
			t.Fatal(err)
		}
		if cs.State.Buyer == nil || cs.State.Buyer.Email != "Ada@Example.com" || cs.State.Buyer.PhoneNumber != "+15035550101" ||
			cs.State.Fulfillment == nil || cs.State.Fulfillment.Address.LineOne != "1 Analytical Row" || cs.State.OrderNotes != "leave at the door" ||
			len(cs.State.Quote.Lines) != 1 {
			t.Errorf("session read back = %+v", cs.State)
		}
		// An update keeps it sealed and readable.
		cs.State.Buyer.PhoneNumber = "+15035550199"
		if err := st.SaveCheckoutSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
		if cs, err = st.CheckoutSession(ctx, sh.ID, "cs_one"); err != nil || cs.State.Buyer.PhoneNumber != "+15035550199" {
			t.Fatalf("after save: %+v, %v", cs, err)
		}
		if c, err := st.Cart(ctx, sh.ID, "cart_one"); err != nil || c.State.Buyer == nil || c.State.Buyer.Email != "ada@example.com" {
			t.Errorf("cart read back = %+v, %v", c, err)
		}
		if p, err := st.CheckoutPayment(ctx, "cs_one"); err != nil || p.Details.BillingAddress == nil ||
			p.Details.BillingAddress.LineOne != "9 Billing Way" || p.Details.OrderNotes != "gift" {
			t.Errorf("payment read back = %+v, %v", p, err)
		}
		if r, err := st.IdempotencyRecord(ctx, scope, "k1"); err != nil || r.Result == nil || string(r.Result.Session) != string(answer) {
			t.Errorf("stored answer read back = %+v, %v", r, err)
		}

		// Bound to its row: cs_one's sealed buyer pasted into cs_two.
		if _, err := st.DB().ExecContext(ctx, `UPDATE checkout_sessions SET buyer_sealed = (SELECT buyer_sealed FROM checkout_sessions WHERE id = 'cs_one') WHERE id = 'cs_two'`); err != nil {
			t.Fatal(err)
		}
		if _, err := st.CheckoutSession(ctx, sh.ID, "cs_two"); !errors.Is(err, secret.ErrDecrypt) {
			t.Errorf("a buyer copied into another row: err = %v, want secret.ErrDecrypt", err)
		}
	})
}

// TestSealedBuyersNeedTheKeyring: a store opened without the keyring
// refuses to write a buyer rather than store it in plaintext, and cannot
// read one.
func TestSealedBuyersNeedTheKeyring(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := storetest.Config(t, kind, true)
			keyed, err := store.Open(ctx, cfg, storetest.Logger(t), store.WithKeys(storetest.Keys))
			if err != nil {
				t.Fatal(err)
			}
			defer keyed.Close()
			bare, err := store.Open(ctx, cfg, storetest.Logger(t))
			if err != nil {
				t.Fatal(err)
			}
			defer bare.Close()
			sh, err := keyed.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			if err := bare.CreateCheckoutSession(ctx, personalSession(sh.ID, "cs_bare", "ada@example.com", now)); err == nil {
				t.Error("a store without the keyring wrote a buyer")
			}
			if err := keyed.CreateCheckoutSession(ctx, personalSession(sh.ID, "cs_keyed", "ada@example.com", now)); err != nil {
				t.Fatal(err)
			}
			if _, err := bare.CheckoutSession(ctx, sh.ID, "cs_keyed"); err == nil {
				t.Error("a store without the keyring read a sealed buyer")
			}
			// A session without personal data needs no key.
			anon := personalSession(sh.ID, "cs_anon", "", now)
			anon.State.Buyer, anon.State.Fulfillment, anon.State.OrderNotes = nil, nil, ""
			if err := bare.CreateCheckoutSession(ctx, anon); err != nil {
				t.Errorf("a session without a buyer: %v", err)
			}
		})
	}
}

// TestCustomerExport: a data request's export holds exactly the
// customer's sessions and carts, opened (buyer, address, billing address,
// lines, order), whatever the case of the email, and nothing of another
// customer of the shop, nor of the same email at another shop; it is
// stored sealed with the request and only its shop can download it.
func TestCustomerExport(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		a, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.SaveShopInstall(ctx, app.Shop{Domain: "b.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Second)
		mk := func(shopID int64, id, email, phone string) {
			cs := personalSession(shopID, id, email, now)
			cs.State.Buyer.PhoneNumber = phone
			if id == "cs_x1" {
				cs.Status = acp.StatusCompleted
				cs.State.Order = &checkout.ShopOrder{ID: "gid://shopify/Order/7", Name: "#1007"}
			}
			if err := st.CreateCheckoutSession(ctx, cs); err != nil {
				t.Fatal(err)
			}
		}
		mk(a.ID, "cs_x1", "x@example.com", "+15550000001")
		mk(a.ID, "cs_x2", "X@Example.COM ", "+15550000002")
		mk(a.ID, "cs_y", "y@example.com", "+15550000009")
		mk(b.ID, "cs_bx", "x@example.com", "+15550000008")
		if ok, err := st.InsertPayment(ctx, &checkout.Payment{SessionID: "cs_x1", ShopID: a.ID, State: "captured", Attempt: 1, Amount: 1500, Currency: "USD",
			Details: checkout.PaymentDetails{BillingAddress: &acp.Address{LineOne: "5 Invoice Rd"}}, CreatedAt: now, UpdatedAt: now}); err != nil || !ok {
			t.Fatal(ok, err)
		}
		for _, c := range []struct {
			shopID int64
			id     string
			email  string
		}{{a.ID, "cart_x", "x@example.com"}, {a.ID, "cart_y", "y@example.com"}, {b.ID, "cart_bx", "x@example.com"}} {
			if err := st.CreateCart(ctx, &checkout.Cart{ID: c.id, ShopID: c.shopID, Currency: "USD", ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
				State: checkout.CartState{Items: []checkout.CartItem{{ItemID: "42", Quantity: 3}}, Buyer: &acp.Buyer{Email: c.email}}}); err != nil {
				t.Fatal(err)
			}
		}

		exp, err := st.CustomerExport(ctx, "a.myshopify.com", app.CustomerRef{ID: "42", Email: "x@example.com"})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range exp.CheckoutSessions {
			ids = append(ids, s.ID)
		}
		for _, c := range exp.Carts {
			ids = append(ids, c.ID)
		}
		slices.Sort(ids)
		if !slices.Equal(ids, []string{"cart_x", "cs_x1", "cs_x2"}) {
			t.Fatalf("exported rows %v, want exactly the customer's at shop a", ids)
		}
		raw, _ := json.Marshal(exp)
		for _, other := range []string{"y@example.com", "+15550000009", "+15550000008", "cs_bx", "cart_bx", "cart_y"} {
			if strings.Contains(string(raw), other) {
				t.Errorf("the export holds %q of another customer or shop: %s", other, raw)
			}
		}
		for _, s := range exp.CheckoutSessions {
			if s.Buyer == nil || s.Fulfillment == nil || s.Fulfillment.Address == nil || s.Fulfillment.Address.LineOne != "1 Analytical Row" ||
				len(s.Lines) != 1 || s.Lines[0].Title != "Engine" {
				t.Errorf("session %s exported without its data: %+v", s.ID, s)
			}
			if s.ID == "cs_x1" && (s.Order == nil || s.Order.Name != "#1007" || s.BillingAddress == nil || s.BillingAddress.LineOne != "5 Invoice Rd") {
				t.Errorf("cs_x1: order %+v, billing %+v", s.Order, s.BillingAddress)
			}
		}
		if exp.Shop != "a.myshopify.com" || exp.Customer.Email != "x@example.com" || exp.Carts[0].Lines[0].Quantity != 3 {
			t.Errorf("export = %s", raw)
		}
		if none, err := st.CustomerExport(ctx, "a.myshopify.com", app.CustomerRef{ID: "42"}); err != nil || len(none.CheckoutSessions)+len(none.Carts) != 0 {
			t.Errorf("no email: %+v, %v; want nothing", none, err)
		}

		// Stored sealed with the request; listed without it; downloaded
		// by its shop only.
		doneAt := now
		if err := st.SaveComplianceRequest(ctx, app.ComplianceRequest{Shop: "a.myshopify.com", Topic: "customers/data_request", WebhookID: "w-1",
			CustomerID: "42", Report: []byte(`{}`), ReceivedAt: now, CompletedAt: &doneAt, Export: raw}); err != nil {
			t.Fatal(err)
		}
		if row := strings.Join(rawText(t, st, `SELECT export_sealed, report FROM compliance_requests WHERE webhook_id = 'w-1'`), " "); strings.Contains(row, "x@example.com") ||
			strings.Contains(row, "Analytical") || !strings.HasPrefix(row, "v1:") {
			t.Errorf("export stored as %q, want it sealed", row)
		}
		list, err := st.ComplianceRequests(ctx, "a.myshopify.com")
		if err != nil || len(list) != 1 || !list[0].HasExport || list[0].Export != nil {
			t.Fatalf("ComplianceRequests = %+v, %v", list, err)
		}
		got, err := st.ComplianceExport(ctx, "a.myshopify.com", list[0].ID)
		if err != nil || string(got) != string(raw) {
			t.Errorf("ComplianceExport = %s, %v", got, err)
		}
		if _, err := st.ComplianceExport(ctx, "b.myshopify.com", list[0].ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("another shop's download: %v, want ErrNotFound", err)
		}

		// The export goes with the retention, and with the customer's
		// redaction; the request's record stays.
		if n, err := st.ForgetDataRequestExports(ctx, now.Add(-time.Hour)); err != nil || n != 0 {
			t.Errorf("ForgetDataRequestExports before its time = %d, %v", n, err)
		}
		if err := st.SaveComplianceRequest(ctx, app.ComplianceRequest{Shop: "a.myshopify.com", Topic: "customers/data_request", WebhookID: "w-2",
			CustomerID: "43", Report: []byte(`{}`), ReceivedAt: now.Add(-48 * time.Hour), Export: []byte(`{"old":true}`)}); err != nil {
			t.Fatal(err)
		}
		if n, err := st.ForgetDataRequestExports(ctx, now.Add(-time.Hour)); err != nil || n != 1 {
			t.Errorf("ForgetDataRequestExports = %d, %v; want the old export", n, err)
		}
		red, err := st.RedactCustomer(ctx, "a.myshopify.com", app.CustomerRef{ID: "42", Email: "x@example.com"})
		if err != nil || red["compliance_exports"] != 1 || red["checkout_sessions"] != 2 || red["carts"] != 1 {
			t.Errorf("RedactCustomer = %v, %v", red, err)
		}
		if _, err := st.ComplianceExport(ctx, "a.myshopify.com", list[0].ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("export after the customer's redaction: %v, want ErrNotFound", err)
		}
		if list, err := st.ComplianceRequests(ctx, "a.myshopify.com"); err != nil || len(list) != 2 || list[0].HasExport || list[1].HasExport {
			t.Errorf("records after: %+v, %v; want both kept, without exports", list, err)
		}
		if exp, err := st.CustomerExport(ctx, "a.myshopify.com", app.CustomerRef{Email: "y@example.com"}); err != nil || len(exp.CheckoutSessions) != 1 || len(exp.Carts) != 1 {
			t.Errorf("the other customer after the redaction: %+v, %v", exp, err)
		}
	})
}

// TestResealPersonalData: after a key rotation, maintenance re-seals the
// buyers and exports sealed under the retired key; the store then works
// with the new key alone, and finds the customer by the new index.
func TestResealPersonalData(t *testing.T) {
	t.Parallel()
	key := func(b byte) string {
		return base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(rune(b)), 32)))
	}
	oldKeys, _ := secret.ParseKeyring("old:" + key('o'))
	bothKeys, _ := secret.ParseKeyring("new:" + key('n') + ",old:" + key('o'))
	newKeys, _ := secret.ParseKeyring("new:" + key('n'))
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			cfg := storetest.Config(t, kind, true)
			open := func(k *secret.Keyring) *store.Store {
				st, err := store.Open(ctx, cfg, storetest.Logger(t), store.WithKeys(k))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
			before := open(oldKeys)
			sh, err := before.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			for _, id := range []string{"cs_1", "cs_2", "cs_3"} {
				if err := before.CreateCheckoutSession(ctx, personalSession(sh.ID, id, "ada@example.com", now)); err != nil {
					t.Fatal(err)
				}
			}
			if err := before.CreateCart(ctx, &checkout.Cart{ID: "cart_1", ShopID: sh.ID, Currency: "USD", ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now,
				State: checkout.CartState{Buyer: &acp.Buyer{Email: "ada@example.com"}}}); err != nil {
				t.Fatal(err)
			}
			if err := before.SaveComplianceRequest(ctx, app.ComplianceRequest{Shop: "a.myshopify.com", Topic: "customers/data_request",
				WebhookID: "w-1", Report: []byte(`{}`), ReceivedAt: now, Export: []byte(`{"customer":"ada"}`)}); err != nil {
				t.Fatal(err)
			}
			scope := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1")
			rec, claimed := claim(t, before, idemRecord(scope, "k1", "h", now), now)
			if !claimed {
				t.Fatal("not claimed")
			}
			answer := []byte(`{"id":"cs_1","buyer":{"email":"ada@example.com"}}`)
			if err := before.FinishIdempotencyKey(ctx, rec.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: answer}); err != nil {
				t.Fatal(err)
			}
			// Two answers in the text form answers were sealed in before
			// they were deflated: under the old key (re-sealed) and under
			// the new one (left as it is: it expires soon anyway).
			textForm := map[string]*secret.Keyring{"k-old-text": oldKeys, "k-new-text": bothKeys}
			textIDs := map[string]int64{}
			for key, k := range textForm {
				r, claimed := claim(t, before, idemRecord(scope, key, "h", now), now)
				if !claimed {
					t.Fatal("not claimed")
				}
				if err := before.FinishIdempotencyKey(ctx, r.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: answer}); err != nil {
					t.Fatal(err)
				}
				sealed, err := k.Seal(answer, app.IdempotencyResultAAD(r.ID))
				if err != nil {
					t.Fatal(err)
				}
				setStoredAnswer(t, before, r.ID, []byte(sealed))
				textIDs[key] = r.ID
			}

			during := open(bothKeys)
			// Found by the old index until re-sealed.
			if held, err := during.CustomerData(ctx, "a.myshopify.com", app.CustomerRef{Email: "ada@example.com"}); err != nil || held["checkout_sessions"] != 3 || held["carts"] != 1 {
				t.Fatalf("before re-sealing: %v, %v", held, err)
			}
			n := 0
			for {
				k, err := during.ResealPersonalData(ctx, 2)
				if err != nil {
					t.Fatal(err)
				}
				if k == 0 {
					break
				}
				n += k
			}
			if n != 7 {
				t.Errorf("re-sealed %d, want 3 sessions, 1 cart, 1 export and 2 stored answers", n)
			}
			for key, want := range map[string]string{"k-old-text": "v1::b1:new:", "k-new-text": "v1:new:"} {
				if got := storedAnswer(t, during, textIDs[key]); !bytes.HasPrefix(got, []byte(want)) {
					t.Errorf("answer %s stored as %.10q after re-sealing, want %s…", key, got, want)
				}
			}

			after := open(newKeys)
			if cs, err := after.CheckoutSession(ctx, sh.ID, "cs_2"); err != nil || cs.State.Buyer == nil || cs.State.Buyer.Email != "ada@example.com" {
				t.Fatalf("new key alone: %+v, %v", cs, err)
			}
			if held, err := after.CustomerData(ctx, "a.myshopify.com", app.CustomerRef{Email: "ada@example.com"}); err != nil || held["checkout_sessions"] != 3 || held["carts"] != 1 {
				t.Errorf("found by the new index: %v, %v", held, err)
			}
			list, _ := after.ComplianceRequests(ctx, "a.myshopify.com")
			if len(list) != 1 {
				t.Fatalf("requests: %+v", list)
			}
			if b, err := after.ComplianceExport(ctx, "a.myshopify.com", list[0].ID); err != nil || string(b) != `{"customer":"ada"}` {
				t.Errorf("export with the new key alone: %s, %v", b, err)
			}
			for _, key := range []string{"k1", "k-old-text", "k-new-text"} {
				if r, err := after.IdempotencyRecord(ctx, scope, key); err != nil || r.Result == nil || string(r.Result.Session) != string(answer) {
					t.Errorf("stored answer %s with the new key alone: %+v, %v", key, r, err)
				}
			}
		})
	}
}
