package service_test

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
)

// TestNoPlaintextSecretsInTheDatabase runs a shop through install, sync,
// agent keys, request signing, the webhook secret, Stripe and a purchase,
// then reads every row of every table as text: no secret the test knows
// (Shopify's tokens, the API key, the signing and webhook secrets, the
// Stripe key, the payment token) and no personal data of the buyer (name,
// email, phone, address line) may appear in it, as text or as hex.
func TestNoPlaintextSecretsInTheDatabase(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabasePostgres)
	ctx := context.Background()
	signing, err := e.svc.Agents().RotateSigningSecret(ctx, e.sh.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	webhook, err := e.svc.Agents().RotateWebhookSecret(ctx, e.sh.ID, "http://127.0.0.1:9/hook")
	if err != nil {
		t.Fatal(err)
	}
	access, err := e.svc.Shopify().AccessToken(ctx, testShop)
	if err != nil {
		t.Fatal(err)
	}
	a := e.agent(t, acp.V20260417)
	// The buyer's personal data (Level 2: name, email, phone, address)
	// is sealed at rest too: a purchase by a buyer whose details are
	// distinctive enough to be found anywhere.
	buyer := map[string]any{"first_name": "Grace", "last_name": "Hopperfield", "email": "grace.hopperfield@buyer.example",
		"phone_number": "+14155550199"}
	address := map[string]any{"name": "Grace Hopperfield", "line_one": "77 Sealedbuyer Lane", "city": "San Francisco",
		"state": "CA", "country": "US", "postal_code": "94105"}
	body := a.createBody([]acp.ItemInput{item(e.items.inStock, 1)}, false, address)
	body["buyer"] = buyer
	r := a.do("POST", "/checkout_sessions", body)
	if r.str("status") != "ready_for_payment" {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	id := r.str("id")
	token := e.token(stripeemu.KindApprove)
	pay := a.paymentBody(token)
	pay["payment_data"].(map[string]any)["billing_address"] = map[string]any{"name": "Grace Hopperfield",
		"line_one": "12 Billingbuyer Court", "city": "Oakland", "state": "CA", "country": "US", "postal_code": "94612"}
	if r := a.do("POST", "/checkout_sessions/"+id+"/complete", pay); r.str("status") != "completed" {
		t.Fatalf("complete: %s", r.body)
	}
	secrets := map[string]string{
		"Shopify access token": access, "API key": e.key, "signing secret": signing, "webhook secret": webhook,
		"Stripe key": e.stripe.RestrictedKey(testStripeAccount), "payment token": token, "app client secret": testSecret,
		"buyer's email": "grace.hopperfield@buyer.example", "buyer's phone": "+14155550199", "buyer's name": "Hopperfield",
		"buyer's address line": "77 Sealedbuyer Lane", "buyer's billing address line": "12 Billingbuyer Court",
	}

	rows, err := e.db.Query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 15 {
		t.Fatalf("only %d tables found: %v", len(tables), tables)
	}
	scanned := 0
	for _, table := range tables {
		rs, err := e.db.Query(`SELECT CAST(x AS TEXT) FROM "` + table + `" AS x`)
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		for rs.Next() {
			var text string
			if err := rs.Scan(&text); err != nil {
				t.Fatal(err)
			}
			scanned++
			for what, s := range secrets {
				if strings.Contains(text, s) || strings.Contains(text, hex.EncodeToString([]byte(s))) {
					t.Errorf("table %s holds the %s in plaintext", table, what)
				}
			}
		}
		rs.Close()
	}
	if scanned < 50 {
		t.Fatalf("scanned only %d rows", scanned)
	}
	t.Logf("%d rows of %d tables scanned for %d secrets", scanned, len(tables), len(secrets))
}
