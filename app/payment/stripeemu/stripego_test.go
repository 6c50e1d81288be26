package stripeemu_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v79"
	"github.com/stripe/stripe-go/v79/client"

	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
)

// stripeClient is a stripe-go client for the emulator, on its own backend.
func stripeClient(b *bundle, key string) *client.API {
	backend := stripe.GetBackendWithConfig(stripe.APIBackend, &stripe.BackendConfig{
		URL:               stripe.String(b.emu.URL()),
		HTTPClient:        &http.Client{Timeout: 10 * time.Second},
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
	})
	return client.New(key, &stripe.Backends{API: backend, Connect: backend, Uploads: backend})
}

// sptParams are the parameters of a manual-capture SPT charge, as
// docs/stripe.md describes them.
func sptParams(token, idem string, amount int64) *stripe.PaymentIntentParams {
	p := &stripe.PaymentIntentParams{
		Amount:        stripe.Int64(amount),
		Currency:      stripe.String("usd"),
		Confirm:       stripe.Bool(true),
		CaptureMethod: stripe.String("manual"),
	}
	p.Headers = http.Header{"Stripe-Version": {stripeemu.PreviewAPIVersion}}
	p.SetIdempotencyKey(idem)
	p.AddExtra("payment_method_data[shared_payment_granted_token]", token)
	p.AddMetadata("checkout_session_id", "cs_1")
	return p
}

func TestThroughStripeGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := stripeClient(b, b.key)

	// Authorize, with the PaymentMethod expanded.
	p := sptParams(b.grant(stripeemu.KindApprove), "k1", 2599)
	p.AddExpand("payment_method")
	pi, err := sc.PaymentIntents.New(p)
	if err != nil {
		t.Fatal(err)
	}
	if pi.Status != stripe.PaymentIntentStatusRequiresCapture || pi.AmountCapturable != 2599 ||
		pi.CaptureMethod != stripe.PaymentIntentCaptureMethodManual || pi.Metadata["checkout_session_id"] != "cs_1" {
		t.Errorf("intent=%+v", pi)
	}
	if pi.PaymentMethod == nil || pi.PaymentMethod.Card == nil || pi.PaymentMethod.Card.Last4 != "4242" {
		t.Errorf("payment method=%+v", pi.PaymentMethod)
	}
	if pi.LatestCharge == nil || !strings.HasPrefix(pi.LatestCharge.ID, "ch_") {
		t.Errorf("latest charge=%+v", pi.LatestCharge)
	}
	if pi.LastResponse == nil || !strings.HasPrefix(pi.LastResponse.RequestID, "req_") || pi.LastResponse.IdempotencyKey != "k1" {
		t.Errorf("last response=%+v", pi.LastResponse)
	}

	// Partial capture, then refunds up to the captured amount.
	cp := &stripe.PaymentIntentCaptureParams{AmountToCapture: stripe.Int64(2000)}
	cp.SetIdempotencyKey("cap")
	pi, err = sc.PaymentIntents.Capture(pi.ID, cp)
	if err != nil || pi.Status != stripe.PaymentIntentStatusSucceeded || pi.AmountReceived != 2000 {
		t.Fatalf("capture: %+v %v", pi, err)
	}
	rp := &stripe.RefundParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(500),
		Reason: stripe.String(string(stripe.RefundReasonRequestedByCustomer))}
	rp.SetIdempotencyKey("ref")
	re, err := sc.Refunds.New(rp)
	if err != nil || re.Amount != 500 || re.Status != stripe.RefundStatusSucceeded || re.PaymentIntent.ID != pi.ID {
		t.Fatalf("refund: %+v %v", re, err)
	}
	if got, err := sc.Refunds.Get(re.ID, nil); err != nil || got.Charge == nil || got.Charge.ID != pi.LatestCharge.ID {
		t.Errorf("get refund: %+v %v", got, err)
	}
	rp = &stripe.RefundParams{PaymentIntent: stripe.String(pi.ID), Amount: stripe.Int64(1501)}
	rp.SetIdempotencyKey("ref2")
	_, err = sc.Refunds.New(rp)
	var se *stripe.Error
	if !errors.As(err, &se) || se.Code != stripe.ErrorCodeAmountTooLarge || se.HTTPStatusCode != 400 {
		t.Errorf("over-refund: %v", err)
	}

	// The account behind the key.
	a, err := sc.Accounts.Get()
	if err != nil || a.ID != acct || !a.ChargesEnabled {
		t.Errorf("account: %+v %v", a, err)
	}
}

func TestDeclineThroughStripeGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := stripeClient(b, b.key)
	_, err := sc.PaymentIntents.New(sptParams(b.grant(stripeemu.KindInsufficientFunds), "k", 2599))
	var se *stripe.Error
	if !errors.As(err, &se) {
		t.Fatalf("err=%v (%T)", err, err)
	}
	if se.HTTPStatusCode != 402 || se.Type != stripe.ErrorTypeCard || se.Code != stripe.ErrorCodeCardDeclined ||
		se.DeclineCode != stripe.DeclineCodeInsufficientFunds || !strings.HasPrefix(se.RequestID, "req_") {
		t.Errorf("error=%+v", se)
	}
	var ce *stripe.CardError
	if !errors.As(err, &ce) || ce.DeclineCode != stripe.DeclineCodeInsufficientFunds {
		t.Errorf("card error=%+v", ce)
	}
	if se.PaymentIntent == nil || se.PaymentIntent.Status != stripe.PaymentIntentStatusRequiresPaymentMethod ||
		se.PaymentIntent.LastPaymentError == nil || se.PaymentIntent.LastPaymentError.DeclineCode != stripe.DeclineCodeInsufficientFunds {
		t.Errorf("payment intent=%+v", se.PaymentIntent)
	}
}

func TestThreeDSThroughStripeGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := stripeClient(b, b.key)
	pi, err := sc.PaymentIntents.New(sptParams(b.grant(stripeemu.KindRequires3DS), "k", 2599))
	if err != nil || pi.Status != stripe.PaymentIntentStatusRequiresAction || pi.NextAction == nil ||
		pi.NextAction.Type != stripe.PaymentIntentNextActionTypeUseStripeSDK {
		t.Fatalf("authorize: %+v %v", pi, err)
	}
	cp := &stripe.PaymentIntentConfirmParams{PaymentMethodOptions: &stripe.PaymentIntentPaymentMethodOptionsParams{
		Card: &stripe.PaymentIntentPaymentMethodOptionsCardParams{
			ThreeDSecure: &stripe.PaymentIntentPaymentMethodOptionsCardThreeDSecureParams{
				AresTransStatus:             stripe.String("Y"),
				Cryptogram:                  stripe.String("AAABBBCCCDDDEEEFFFGGGHHHIII="),
				ElectronicCommerceIndicator: stripe.String("05"),
				TransactionID:               stripe.String("f25084f0-5b16-4c0a-ae5d-b24808a95e4b"),
				Version:                     stripe.String("2.2.0"),
			},
		},
	}}
	cp.SetIdempotencyKey("confirm")
	pi, err = sc.PaymentIntents.Confirm(pi.ID, cp)
	if err != nil || pi.Status != stripe.PaymentIntentStatusRequiresCapture || pi.NextAction != nil {
		t.Fatalf("confirm: %+v %v", pi, err)
	}
	cancel := &stripe.PaymentIntentCancelParams{CancellationReason: stripe.String("abandoned")}
	cancel.SetIdempotencyKey("cancel")
	pi, err = sc.PaymentIntents.Cancel(pi.ID, cancel)
	if err != nil || pi.Status != stripe.PaymentIntentStatusCanceled || pi.CancellationReason != "abandoned" || pi.CanceledAt == 0 {
		t.Fatalf("cancel: %+v %v", pi, err)
	}
}

func TestSearchThroughStripeGo(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sc := stripeClient(b, b.key)
	var want []string
	for i := range 3 {
		pi, err := sc.PaymentIntents.New(sptParams(b.grant(stripeemu.KindApprove), "k"+string(rune('a'+i)), 100))
		if err != nil {
			t.Fatal(err)
		}
		want = append([]string{pi.ID}, want...) // newest first
		b.clock.Advance(time.Second)
	}
	// One that does not match.
	p := sptParams(b.grant(stripeemu.KindApprove), "other", 100)
	p.Metadata = map[string]string{"checkout_session_id": "cs_2"}
	if _, err := sc.PaymentIntents.New(p); err != nil {
		t.Fatal(err)
	}

	sp := &stripe.PaymentIntentSearchParams{SearchParams: stripe.SearchParams{
		Query: "metadata['checkout_session_id']:'cs_1' AND status:'requires_capture'", Limit: stripe.Int64(1)}}
	it := sc.PaymentIntents.Search(sp)
	var got []string
	for it.Next() {
		got = append(got, it.PaymentIntent().ID)
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("search paged through %v, want %v", got, want)
	}
}
