package acpapi_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/acpapi"
)

// TestCheckoutAppRequest: the contract's input becomes the 2026-04-17
// create the REST API would take (the feed's ids, quantities, the shop's
// currency), under a fresh idempotency key unless meta gives one; what is
// not the contract's input is refused with its param in the arguments.
func TestCheckoutAppRequest(t *testing.T) {
	t.Parallel()
	args := `{"checkout_session":{"items":[{"id":"111","quantity":2,"offerId":"o"},{"id":"222"}],"x":1},"y":2}`
	req, err := acpapi.CheckoutAppRequest("s.myshopify.com", "USD", json.RawMessage(args), "Bearer k")
	if err != nil {
		t.Fatal(err)
	}
	if req.Shop != "s.myshopify.com" || req.Operation != acpapi.OpCreate || req.APIVersion != "2026-04-17" || req.Authorization != "Bearer k" {
		t.Errorf("request = %+v", req)
	}
	in, err := acp.DecodeCreateSession(acp.V20260417, req.Body)
	if err != nil {
		t.Fatalf("the body is not a 2026-04-17 create: %v\n%s", err, req.Body)
	}
	if in.Currency != "usd" || len(in.Items) != 2 || in.Items[0] != (acp.ItemInput{ID: "111", Quantity: 2}) || in.Items[1] != (acp.ItemInput{ID: "222", Quantity: 1}) {
		t.Errorf("create = %+v %+v", in, in.Items)
	}
	again, _ := acpapi.CheckoutAppRequest("s.myshopify.com", "USD", json.RawMessage(args), "Bearer k")
	if len(req.IdempotencyKeys) != 1 || len(again.IdempotencyKeys) != 1 || req.IdempotencyKeys[0] == again.IdempotencyKeys[0] || req.Binding.IdempotencyKey != req.IdempotencyKeys[0] {
		t.Errorf("keys %v and %v: want one fresh key a call", req.IdempotencyKeys, again.IdempotencyKeys)
	}
	keyed, _ := acpapi.CheckoutAppRequest("s.myshopify.com", "USD", json.RawMessage(`{"meta":{"idempotency_key":"k1"},"checkout_session":{"items":[{"id":"1"}]}}`), "")
	if len(keyed.IdempotencyKeys) != 1 || keyed.IdempotencyKeys[0] != "k1" {
		t.Errorf("meta.idempotency_key: %v", keyed.IdempotencyKeys)
	}

	for _, tc := range []struct{ args, code, param string }{
		{``, acp.CodeMissing, "$.checkout_session"},
		{`[]`, acp.CodeInvalidType, "$"},
		{`{"checkout_session":null}`, acp.CodeMissing, "$.checkout_session"},
		{`{"checkout_session":{"items":[{"id":"1","quantity":10000}]}}`, acp.CodeInvalid, "$.checkout_session.items[0].quantity"},
		{`{"checkout_session":{"items":[{"id":"1"},null]}}`, acp.CodeInvalidType, "$.checkout_session.items[1]"},
		{`{"meta":"k","checkout_session":{"items":[{"id":"1"}]}}`, acp.CodeInvalidType, "$.meta"},
	} {
		_, err := acpapi.CheckoutAppRequest("s", "USD", json.RawMessage(tc.args), "")
		var ae *acp.Error
		if !errors.As(err, &ae) || ae.Type != acp.ErrInvalidRequest || ae.Code != tc.code || ae.Param != tc.param || ae.Message == "" {
			t.Errorf("%s: %v, want %s at %s", tc.args, err, tc.code, tc.param)
		}
	}
}

// TestCheckoutAppParam: a param into the create built for the tool points
// into the tool's arguments.
func TestCheckoutAppParam(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"$.line_items":             "$.checkout_session.items",
		"$.line_items[3].id":       "$.checkout_session.items[3].id",
		"$.line_items[0].quantity": "$.checkout_session.items[0].quantity",
		"$.currency":               "$.checkout_session",
		"":                         "",
	} {
		if got := acpapi.CheckoutAppParam(in); got != want {
			t.Errorf("CheckoutAppParam(%q) = %q, want %q", in, got, want)
		}
	}
}
