package payment_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
)

// TestProviderVerifyCredentials: a merchant's key is checked by shape,
// then by Stripe; what is refused is worded for the merchant, on the
// settings form's stripe_key field.
func TestProviderVerifyCredentials(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	p := &payment.Provider{Stripe: b.stripe}
	ctx := context.Background()
	if acct, err := p.VerifyCredentials(ctx, b.emu.RestrictedKey(shopAcct)); err != nil || acct != shopAcct {
		t.Errorf("restricted key: %q, %v", acct, err)
	}
	for key, msg := range map[string]string{
		"pk_test_1":                      "a Stripe secret key starts with sk_ and a restricted key with rk_",
		"sk_test_1 2":                    "a Stripe secret key starts with sk_ and a restricted key with rk_",
		"sk_" + strings.Repeat("x", 300): "a Stripe secret key starts with sk_ and a restricted key with rk_",
		"sk_test_unknown":                "Stripe did not accept this key: ",
	} {
		_, err := p.VerifyCredentials(ctx, key)
		var ae *app.Error
		if !errors.As(err, &ae) || ae.Code != app.CodeInvalid || ae.Field != "stripe_key" || !strings.HasPrefix(ae.Message, msg) {
			t.Errorf("VerifyCredentials(%.20q) = %v, want %q on stripe_key", key, err, msg)
		}
	}
}

// TestProviderPayments: the adapter advertises the Stripe SPT handler of
// the account, and maps Stripe's answers onto checkout's errors.
func TestProviderPayments(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	var p checkout.Payments = &payment.Provider{Stripe: b.stripe}
	if got, want := p.Handler(shopAcct), acp.StripeSPTHandler(shopAcct); !reflect.DeepEqual(got, want) {
		t.Errorf("Handler = %+v, want %+v", got, want)
	}
	ctx := context.Background()
	in := checkout.AuthorizeRequest{Token: b.grant(stripeemu.KindDecline), Amount: 2599, Currency: "usd", IdempotencyKey: "idem-d"}
	if _, err := p.Authorize(ctx, b.key, in); !errors.Is(err, checkout.ErrPaymentDeclined) {
		t.Errorf("declined: %v", err)
	}
	in.Token, in.IdempotencyKey = b.grant(stripeemu.KindApprove), "idem-a"
	pi, err := p.Authorize(ctx, b.key, in)
	if err != nil || pi.Status != "requires_capture" || pi.Amount != 2599 {
		t.Fatalf("authorize = %+v, %v", pi, err)
	}
	if err := p.Cancel(ctx, b.key, pi.ID, "idem-c"); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Capture(ctx, b.key, pi.ID, "idem-cap"); !errors.Is(err, checkout.ErrIntentState) {
		t.Errorf("capture of a cancelled intent: %v", err)
	}
	if _, err := p.Refund(ctx, b.key, pi.ID, 0, "idem-r"); !errors.Is(err, checkout.ErrRefundRefused) {
		t.Errorf("refund of a cancelled intent: %v", err)
	}
}
