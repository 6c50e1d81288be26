package checkout

import (
	"context"
	"reflect"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
)

// handlerOnly is a provider that only names its handler.
type handlerOnly struct {
	Payments
	id, psp string
}

func (h handlerOnly) Handler(account string) acp.PaymentHandler {
	return acp.PaymentHandler{ID: h.id, PSP: h.psp, Config: map[string]any{"merchant_id": account}}
}

// TestPaymentHandlers: a shop offers its payment account's handler, from
// the account's provider, only under delegated payment and only when that
// provider runs here; a complete request must name one offered.
func TestPaymentHandlers(t *testing.T) {
	pp := PaymentProviders{"card": handlerOnly{id: "card_tokenized", psp: "cardpsp"}}
	connected := &app.ACPSettings{Payment: &app.PaymentAccount{Provider: "card", AccountID: "acct_1"}}
	want := []acp.PaymentHandler{{ID: "card_tokenized", PSP: "cardpsp", Config: map[string]any{"merchant_id": "acct_1"}}}
	if got := pp.handlers(connected); !reflect.DeepEqual(got, want) {
		t.Errorf("handlers = %+v, want %+v", got, want)
	}
	for name, set := range map[string]*app.ACPSettings{
		"no account":       {},
		"unknown provider": {Payment: &app.PaymentAccount{Provider: "gone", AccountID: "acct_1"}},
		"another method":   {CompletionMethod: "shopify_checkout", Payment: connected.Payment},
	} {
		if got := pp.handlers(set); got != nil {
			t.Errorf("%s: handlers = %+v, want none", name, got)
		}
	}
	if got := pp.accepted(&app.ACPSettings{}); len(got) != 1 || got[0].ID != "card_tokenized" {
		t.Errorf("accepted without an account = %+v, want every provider's handler", got)
	}

	pay := func(provider, handler string) *acp.CompleteSessionInput {
		return &acp.CompleteSessionInput{Payment: acp.PaymentInput{Token: "tok", Provider: provider, HandlerID: handler}}
	}
	for _, c := range []struct {
		v       acp.Version
		in      *acp.CompleteSessionInput
		offered []acp.PaymentHandler
		field   string // "" when accepted
		message string
	}{
		{acp.V20260417, pay("", "card_tokenized"), want, "", ""},
		{acp.V20250929, pay("cardpsp", ""), want, "", ""},
		{acp.V20260417, pay("", "other"), want, "$.payment_data.handler_id", `unknown payment handler; this store offers "card_tokenized"`},
		{acp.V20250929, pay("other", ""), want, "$.payment_data.provider", "this store takes payments through cardpsp only"},
		{acp.V20260417, pay("", "other"), nil, "", ""},
		{acp.V20260417, &acp.CompleteSessionInput{Payment: acp.PaymentInput{HandlerID: "card_tokenized"}}, want, "$.payment_data", "a payment token is required"},
	} {
		err := checkPayment(c.v, c.in, c.offered)
		ae, _ := err.(*app.Error)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s %+v: %v, want accepted", c.v, c.in.Payment, err)
		case c.field != "" && (ae == nil || ae.Field != c.field || ae.Message != c.message):
			t.Errorf("%s %+v: %v, want %q on %s", c.v, c.in.Payment, err, c.message, c.field)
		}
	}
}

// credStore is a PaymentStore that only answers PaymentCredentials, and
// counts its reads.
type credStore struct {
	PaymentStore
	cred  *app.PaymentCredentials
	reads int
}

func (s *credStore) PaymentCredentials(context.Context, int64, string) (*app.PaymentCredentials, error) {
	s.reads++
	return s.cred, nil
}

// TestPaymentAccountCredentials: a complete request opens the credentials
// authentication read with the settings (app.PaymentAccount.Sealed)
// without reading them again, and reads them when the settings do not
// carry them (settings read without authentication).
func TestPaymentAccountCredentials(t *testing.T) {
	key, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.ParseKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	seal := func(shopID int64, v string) string {
		s, err := keys.Seal([]byte(v), app.PaymentCredentialsAAD(shopID, "card"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	stored := &app.PaymentCredentials{ShopID: 7, Provider: "card", AccountID: "acct_1", Sealed: seal(7, "sk_stored")}
	for _, tc := range []struct {
		name      string
		sealed    string
		want      string
		wantReads int
	}{
		{"carried", seal(7, "sk_carried"), "sk_carried", 0},
		{"not carried", "", "sk_stored", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &credStore{cred: stored}
			c := &Sessions{Completer: &Completer{Store: st, Keys: keys,
				Payments: PaymentProviders{"card": handlerOnly{id: "card_tokenized", psp: "cardpsp"}}}}
			ag := &app.Agent{Shop: &app.Shop{ID: 7}, Settings: &app.ACPSettings{ShopID: 7,
				Payment: &app.PaymentAccount{Provider: "card", AccountID: "acct_1", Sealed: tc.sealed}}}
			sp, err := c.paymentAccount(context.Background(), ag)
			if err != nil {
				t.Fatal(err)
			}
			if sp.Credentials != tc.want || sp.AccountID != "acct_1" || st.reads != tc.wantReads {
				t.Errorf("credentials %q account %q after %d reads, want %q acct_1 after %d",
					sp.Credentials, sp.AccountID, st.reads, tc.want, tc.wantReads)
			}
		})
	}
}
