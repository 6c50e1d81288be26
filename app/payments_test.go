package app_test

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
)

// TestPaymentCredentialsAADKeepsStripeKeys: Stripe keys stored before
// credentials were kept per provider were sealed with "stripe_key:<shop
// id>"; migration 00015 moves the ciphertexts unchanged, so the AAD of
// provider "stripe" must be those same bytes, and another shop's or
// another provider's must not open them.
func TestPaymentCredentialsAADKeepsStripeKeys(t *testing.T) {
	if got := app.PaymentCredentialsAAD(42, "stripe"); !bytes.Equal(got, []byte("stripe_key:42")) {
		t.Fatalf("PaymentCredentialsAAD(42, stripe) = %q, want the pre-00015 stripe_key:42", got)
	}
	keys, err := secret.ParseKeyring("k1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32)))
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := keys.Seal([]byte("rk_test_1"), []byte("stripe_key:42"))
	if err != nil {
		t.Fatal(err)
	}
	if plain, err := keys.Open(sealed, app.PaymentCredentialsAAD(42, "stripe")); err != nil || string(plain) != "rk_test_1" {
		t.Errorf("open a pre-00015 Stripe key = %q, %v", plain, err)
	}
	for _, aad := range [][]byte{app.PaymentCredentialsAAD(43, "stripe"), app.PaymentCredentialsAAD(42, "other")} {
		if _, err := keys.Open(sealed, aad); err == nil {
			t.Errorf("opened with %q", aad)
		}
	}
}
