package payment_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/payment"
	"github.com/acpbridge/acpbridge/app/payment/stripeemu"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

const (
	shopAcct  = "acct_1Shop"
	otherAcct = "acct_1Other"
)

// bundle is a started emulator with two accounts and a client for it.
type bundle struct {
	emu      *stripeemu.Emulator
	clock    *testkit.Clock
	stripe   *payment.Stripe
	key      string // shopAcct's secret key
	otherKey string
}

// setup starts an emulator and a client that never resends on its own
// (Retries -1), so faults show up as they are; edit may change either.
func setup(t *testing.T, edit func(*stripeemu.Config, *payment.Stripe)) *bundle {
	t.Helper()
	c := testkit.NewClock(time.Date(2026, 10, 5, 12, 0, 0, 0, time.UTC))
	cfg := stripeemu.Config{Accounts: []string{shopAcct, otherAcct}, Now: c.Now, Seed: 7}
	s := &payment.Stripe{Retries: -1}
	if edit != nil {
		edit(&cfg, s)
	}
	emu, err := stripeemu.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := emu.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	s.BaseURL = emu.URL()
	if s.HTTPClient == nil {
		s.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	return &bundle{emu: emu, clock: c, stripe: s, key: emu.SecretKey(shopAcct), otherKey: emu.SecretKey(otherAcct)}
}

// grant grants shopAcct a token of kind for up to 10,000 usd cents.
func (b *bundle) grant(kind string) string {
	return b.emu.GrantToken(shopAcct, kind, "usd", 10_000, b.clock.Now().Add(time.Hour))
}

// input is an authorization of 2,599 usd cents for session cs_1.
func input(token, idem string) payment.AuthorizeInput {
	return payment.AuthorizeInput{
		Token: token, Amount: 2599, Currency: "usd", IdempotencyKey: idem,
		Description: "Order for checkout cs_1",
		Metadata:    map[string]string{payment.MetadataCheckoutSession: "cs_1", "shop": "demo-shop.myshopify.com"},
	}
}

// authorized authorizes an approve token and returns the intent.
func (b *bundle) authorized(t *testing.T, idem string) *payment.Intent {
	t.Helper()
	in, err := b.stripe.Authorize(context.Background(), b.key, input(b.grant(stripeemu.KindApprove), idem))
	if err != nil {
		t.Fatalf("authorize: %v", err)
	}
	if in.Status != payment.StatusRequiresCapture {
		t.Fatalf("status=%s, want requires_capture", in.Status)
	}
	return in
}

// authorizations counts the account's successful authorizations.
func (b *bundle) authorizations(acct string) int {
	n := 0
	for _, in := range b.emu.Intents(acct) {
		n += in.Authorizations
	}
	return n
}

// validThreeDS is a successful 3-D Secure 2 result.
var validThreeDS = payment.ThreeDS{
	Cryptogram:    "AAABBBCCCDDDEEEFFFGGGHHHIII=", // 20 bytes in base64
	ECI:           "05",
	TransactionID: "f25084f0-5b16-4c0a-ae5d-b24808a95e4b",
	Version:       "2.2.0",
	TransStatus:   "Y",
}
