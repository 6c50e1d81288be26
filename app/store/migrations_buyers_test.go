package store_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// TestMigrationSealsPlainBuyers: sessions, carts and payments written
// before migration 00022 hold their buyer in plain JSON. After the
// migration they read as before and a privacy request still finds them
// (by the email in the JSON); SealPlainBuyers (run by maintenance) then
// seals them: no plaintext left, the blind index set, the data intact.
func TestMigrationSealsPlainBuyers(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openBefore(t, kind, 22)
			exec := execer(t, st)
			exec(`INSERT INTO shops (id, domain, installed_at, created_at, updated_at) VALUES (1, 'm.myshopify.com', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO checkout_sessions (id, shop_id, api_version, status, currency, state, row_version, api_key_id, expires_at, created_at, updated_at)
				VALUES ('cs_legacy', 1, '2026-04-17', 'completed', 'USD',
				'{"items":[{"item_id":"42","quantity":1}],"buyer":{"FirstName":"Ada","Email":"Ada@Example.com","PhoneNumber":"+15035550101"},"fulfillment":{"Name":"Ada","Address":{"LineOne":"1 Legacy Lane"}},"order_notes":"knock","quote":{"key":"","lines":[]}}',
				1, 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO carts (id, shop_id, api_key_id, currency, state, row_version, expires_at, created_at, updated_at)
				VALUES ('cart_legacy', 1, 0, 'USD', '{"items":[],"buyer":{"Email":"ada@example.com"},"quote":{"key":"","lines":[]}}', 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			// A stored answer in plain JSON, as every answer was stored.
			now := time.Now().UTC()
			scope := idemScope(1, idempotency.OpUpdateSession, "cs_legacy")
			rec, claimed := claim(t, st, idemRecord(scope, "k-legacy", "h", now), now)
			if !claimed {
				t.Fatal("not claimed")
			}
			answer := `{"id":"cs_legacy","buyer":{"email":"Ada@Example.com"}}`
			blob := "X'" + hex.EncodeToString([]byte(answer)) + "'"
			if kind == app.DatabasePostgres {
				blob = "decode('" + hex.EncodeToString([]byte(answer)) + "', 'hex')"
			}
			exec(fmt.Sprintf(`UPDATE idempotency_keys SET state = 'completed', outcome = 'returned', result_session = %s WHERE id = %d`, blob, rec.ID))
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if r, err := st.IdempotencyRecord(ctx, scope, "k-legacy"); err != nil || r.Result == nil || string(r.Result.Session) != answer {
				t.Fatalf("legacy answer read = %+v, %v", r, err)
			}

			cs, err := st.CheckoutSession(ctx, 1, "cs_legacy")
			if err != nil || cs.State.Buyer == nil || cs.State.Buyer.PhoneNumber != "+15035550101" || cs.State.Fulfillment == nil || cs.State.OrderNotes != "knock" {
				t.Fatalf("legacy session read = %+v, %v", cs, err)
			}
			ref := app.CustomerRef{Email: "Ada@Example.com"}
			if held, err := st.CustomerData(ctx, "m.myshopify.com", ref); err != nil || held["checkout_sessions"] != 1 || held["carts"] != 0 {
				// The cart's email differs in case: a legacy row is found by
				// its exact text only, a sealed one by the normalized email.
				t.Fatalf("legacy rows found: %v, %v", held, err)
			}

			n, err := st.SealPlainBuyers(ctx, 0)
			if err != nil || n != 2 {
				t.Fatalf("SealPlainBuyers = %d, %v; want the session and the cart", n, err)
			}
			for _, q := range []string{
				`SELECT state, buyer_sealed, buyer_index FROM checkout_sessions WHERE id = 'cs_legacy'`,
				`SELECT state, buyer_sealed, buyer_index FROM carts WHERE id = 'cart_legacy'`,
			} {
				row := rawText(t, st, q)
				if strings.Contains(strings.ToLower(row[0]), "example.com") || strings.Contains(row[0], "Legacy Lane") ||
					!strings.HasPrefix(row[1], "v1:") || row[2] != storetest.Keys.BlindIndex(app.EmailIndexPurpose, "ada@example.com") {
					t.Errorf("%s: not sealed: %q", q, row)
				}
			}
			if cs, err := st.CheckoutSession(ctx, 1, "cs_legacy"); err != nil || cs.State.Buyer == nil || cs.State.Buyer.Email != "Ada@Example.com" ||
				cs.State.Fulfillment.Address.LineOne != "1 Legacy Lane" || cs.RowVersion != 1 {
				t.Errorf("sealed legacy session = %+v, %v", cs, err)
			}
			if held, err := st.CustomerData(ctx, "m.myshopify.com", ref); err != nil || held["checkout_sessions"] != 1 || held["carts"] != 1 {
				t.Errorf("sealed rows found by the index: %v, %v", held, err)
			}
			if n, err := st.SealPlainBuyers(ctx, 0); err != nil || n != 0 {
				t.Errorf("second pass = %d, %v; want nothing", n, err)
			}
			// Maintenance seals the plain answer too (and, this time, nothing else).
			if n, err := st.ResealPersonalData(ctx, 0); err != nil || n != 1 {
				t.Errorf("ResealPersonalData = %d, %v; want the plain answer sealed", n, err)
			}
			if row := rawText(t, st, fmt.Sprintf(`SELECT result_session FROM idempotency_keys WHERE id = %d`, rec.ID)); !strings.HasPrefix(row[0], "v1::b1:") {
				t.Errorf("answer stored as %q after maintenance, want it sealed", row[0])
			}
			if r, err := st.IdempotencyRecord(ctx, scope, "k-legacy"); err != nil || r.Result == nil || string(r.Result.Session) != answer {
				t.Errorf("sealed answer read = %+v, %v", r, err)
			}
			if n, err := st.ResealPersonalData(ctx, 0); err != nil || n != 0 {
				t.Errorf("ResealPersonalData again = %d, %v; want nothing", n, err)
			}
		})
	}
}
