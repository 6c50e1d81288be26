package acp_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

// The fuzz targets of the update, complete and cancel decoders, one per
// version (the create decoders' are in fuzz_test.go, and check the same
// through fuzzRequest). Each checks, on any body:
//
//   - the decoder is deterministic and fails only with a well-formed
//     *acp.Error (invalid_request, a known code, a JSONPath param);
//   - agreement with encoding/json: what the decoder accepts is one JSON
//     object for encoding/json too, and the same document respelt by
//     encoding/json (keys in reverse order, every string character
//     \u-escaped, other white space) gets the same verdict, the same error
//     code, and when accepted the very same input;
//   - liberal input: an accepted body with an unknown member added decodes
//     to the same input with the member named in Ignored (2026-04-17
//     cancel, an open object, ignores it without a word);
//   - what is accepted keeps the decoder's promises (ids and tokens
//     non-empty, quantities in range, countries and emails valid, the
//     version's own payment shape).

func FuzzDecodeUpdate20250929(f *testing.F) {
	addRequestSeeds(f, acp.V20250929, update)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzRequest(t, acp.V20250929, update, body) })
}

func FuzzDecodeUpdate20260417(f *testing.F) {
	addRequestSeeds(f, acp.V20260417, update)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzRequest(t, acp.V20260417, update, body) })
}

func FuzzDecodeComplete20250929(f *testing.F) {
	addRequestSeeds(f, acp.V20250929, complete)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzRequest(t, acp.V20250929, complete, body) })
}

func FuzzDecodeComplete20260417(f *testing.F) {
	addRequestSeeds(f, acp.V20260417, complete)
	f.Fuzz(func(t *testing.T, body []byte) { fuzzRequest(t, acp.V20260417, complete, body) })
}

// FuzzDecodeCancel covers both versions: the selector's low bit picks one.
func FuzzDecodeCancel(f *testing.F) {
	for _, s := range []string{``, ` `, `{}`, `{"intent_trace":{"reason_code":"shipping_cost","trace_summary":"too dear","metadata":{"a":1,"b":"x","c":true}}}`,
		`{"intent_trace":{"reason_code":"moon_phase"},"x":[1]}`, `{"intent_trace":null}`, `[]`, `{"intent_trace":{"reason_code":""}}`} {
		f.Add(uint8(0), []byte(s))
		f.Add(uint8(1), []byte(s))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		v := acp.SupportedVersions[int(which)%len(acp.SupportedVersions)]
		fuzzRequest(t, v, cancel, body)
	})
}

// addRequestSeeds adds the official examples of the kind (any version: a
// body of the other version is a good near miss) and the bodies of the
// table tests.
func addRequestSeeds(f *testing.F, v acp.Version, k kind) {
	addExamples(f, v)
	other := acp.V20250929
	if v == acp.V20250929 {
		other = acp.V20260417
	}
	addExamples(f, other)
	switch k {
	case update:
		f.Add([]byte(`{}`))
		f.Add([]byte(`{"items":[{"id":"a","quantity":2}],"fulfillment_option_id":"ship_1","buyer":{"first_name":"J","last_name":"D","email":"j@example.com","phone_number":"+1 (555) 010-0000"},"fulfillment_address":{"name":"J","line_one":"1","city":"C","state":"CA","country":"us","postal_code":"1"}}`))
		f.Add([]byte(`{"line_items":[{"id":"a","quantity":9999}],"selected_fulfillment_options":[{"type":"shipping","option_id":"x","item_ids":["a"]}],"discounts":{"codes":[]},"order_notes":""}`))
		f.Add([]byte(`{"fulfillment_details":{"name":"J","email":"j@example.com","address":{"name":"J","line_one":"1","city":"C","state":"S","country":"GB","postal_code":"W1","company":"A"}},"coupons":["X"]}`))
	case complete:
		f.Add([]byte(`{"payment_data":{"token":"spt_1","provider":"stripe"}}`))
		f.Add([]byte(`{` + okPay26 + `}`))
		f.Add([]byte(`{` + okPay26 + `,"authentication_result":{"outcome":"authenticated","outcome_details":{"three_ds_cryptogram":"c","electronic_commerce_indicator":"05","transaction_id":"t","version":"2.2.0"}},"risk_signals":{"ip_address":"1.2.3.4"},"marketing_consents":[{"channel":"email","opted_in":true}]}`))
		f.Add([]byte(`{"payment_data":{"purchase_order_number":"PO-1","payment_terms":"net_30"}}`))
	}
}

// requestCodes are the codes a request decoder may answer.
var requestCodes = []string{acp.CodeInvalidJSON, acp.CodeTooLarge, acp.CodeMissing, acp.CodeInvalidType, acp.CodeInvalid,
	acp.CodeUnknownField, acp.CodeDuplicateField, acp.CodeUnsupported}

func fuzzRequest(t *testing.T, v acp.Version, k kind, body []byte) {
	in, err := decode(v, k, body)
	again, err2 := decode(v, k, body)
	if !reflect.DeepEqual(in, again) || !reflect.DeepEqual(err, err2) {
		t.Fatalf("not deterministic: %v / %v", err, err2)
	}
	blank := len(bytes.Trim(body, " \t\r\n")) == 0
	if err != nil {
		checkWellFormed(t, v, err)
	} else {
		if blank && k != cancel {
			t.Fatalf("accepted an empty body")
		}
		if !blank {
			var m map[string]any
			if jerr := json.Unmarshal(body, &m); jerr != nil || m == nil {
				t.Fatalf("accepted %q, which encoding/json does not read as an object: %v", body, jerr)
			}
		}
		checkAccepted(t, v, k, in)
	}
	if blank {
		return
	}
	code := errCode(err)
	if code == acp.CodeInvalidJSON || code == acp.CodeTooLarge || code == acp.CodeDuplicateField {
		// Not one well-formed object with unique keys: encoding/json would
		// read another document (the last duplicate wins).
		return
	}

	// The same document, spelt differently by encoding/json.
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if jerr := dec.Decode(&doc); jerr != nil {
		t.Fatalf("the decoder parsed %q, encoding/json does not: %v", body, jerr)
	}
	respelt := testkit.RespellJSON(doc)
	if len(respelt) <= acp.MaxBodyBytes {
		in2, err2 := decode(v, k, []byte(respelt))
		if errCode(err2) != code {
			t.Fatalf("respelt body %s: %v; the original %s: %v", respelt, err2, body, err)
		}
		if err == nil && !reflect.DeepEqual(in, in2) {
			t.Fatalf("respelt body decodes otherwise:\n%s\n%s", dump(in), dump(in2))
		}
	}

	// An unknown member: ignored and named by every closed object,
	// ignored without a word by the open 2026-04-17 cancel request.
	if err != nil {
		return
	}
	m, _ := doc.(map[string]any)
	if _, taken := m["zz_fuzz_unknown"]; taken || len(body) > acp.MaxBodyBytes-64 {
		return
	}
	trimmed := bytes.Trim(body, " \t\r\n")
	extended := append(slices.Clip(trimmed[:len(trimmed)-1]), []byte(`,"zz_fuzz_unknown":1}`)...)
	if len(m) == 0 {
		extended = []byte(`{"zz_fuzz_unknown":1}`)
	}
	in3, err3 := decode(v, k, extended)
	if err3 != nil {
		t.Fatalf("accepted %s, refused it with an unknown member %s: %v", body, extended, err3)
	}
	if v == acp.V20260417 && k == cancel {
		if !reflect.DeepEqual(in, in3) {
			t.Fatalf("an unknown member changed the open cancel request")
		}
		return
	}
	before, after := ignoredOf(in), ignoredOf(in3)
	if after.Count != before.Count+1 || after.Count <= acp.MaxIgnoredListed && !slices.Contains(after.Paths, "$.zz_fuzz_unknown") {
		t.Fatalf("the unknown member of %s is not named: %+v (before: %+v)", extended, after, before)
	}
	if !reflect.DeepEqual(withoutIgnored(in), withoutIgnored(in3)) {
		t.Fatalf("an unknown member changed the request:\n%s\n%s", dump(in), dump(in3))
	}
}

// ignoredOf is the Ignored of a decoded input (any of the *…Input).
func ignoredOf(in any) acp.Ignored {
	return reflect.ValueOf(in).Elem().FieldByName("Ignored").Interface().(acp.Ignored)
}

// withoutIgnored is a copy of a decoded input with Ignored cleared.
func withoutIgnored(in any) any {
	c := reflect.New(reflect.TypeOf(in).Elem())
	c.Elem().Set(reflect.ValueOf(in).Elem())
	c.Elem().FieldByName("Ignored").Set(reflect.Zero(reflect.TypeOf(acp.Ignored{})))
	return c.Interface()
}

func errCode(err error) string {
	var e *acp.Error
	if errors.As(err, &e) {
		return e.Code
	}
	if err != nil {
		return fmt.Sprintf("%T", err)
	}
	return ""
}

// checkAccepted checks the decoders' promises on an accepted input.
func checkAccepted(t *testing.T, v acp.Version, k kind, in any) {
	t.Helper()
	switch x := in.(type) {
	case *acp.UpdateSessionInput:
		if x.Items != nil && (len(x.Items) < 1 || len(x.Items) > acp.MaxLineItems) {
			t.Fatalf("accepted %d items", len(x.Items))
		}
		for _, it := range x.Items {
			if it.ID == "" || it.Quantity < 1 || it.Quantity > acp.MaxQuantity {
				t.Fatalf("accepted item %+v", it)
			}
		}
		for _, s := range x.SelectedFulfillment {
			if s.OptionID == "" || slices.Contains(s.ItemIDs, "") {
				t.Fatalf("accepted selection %+v", s)
			}
			if v == acp.V20250929 && (s.Type != "" || s.ItemIDs != nil || len(x.SelectedFulfillment) != 1) {
				t.Fatalf("2025-09-29 selection with 2026-04-17 fields: %+v", x.SelectedFulfillment)
			}
		}
		if v == acp.V20250929 && (x.FulfillmentGroups != nil || x.DiscountCodes != nil || x.OrderNotes != nil) {
			t.Fatalf("2025-09-29 update with 2026-04-17 fields: %+v", x)
		}
		checkBuyer(t, v, x.Buyer)
		if x.FulfillmentDetails != nil {
			checkAddress(t, v, x.FulfillmentDetails.Address)
		}
	case *acp.CompleteSessionInput:
		p := x.Payment
		if p.Token == "" || p.Provider != acp.ProviderStripe {
			t.Fatalf("accepted payment %+v", p)
		}
		switch v {
		case acp.V20250929:
			if p.HandlerID != "" || p.CredentialType != "" || x.AuthenticationResult != nil || x.RiskSignals != nil {
				t.Fatalf("2025-09-29 complete with 2026-04-17 fields: %+v", x)
			}
		case acp.V20260417:
			if p.HandlerID == "" || p.CredentialType != "spt" {
				t.Fatalf("accepted a payment this app cannot charge: %+v", p)
			}
		}
		if a := x.AuthenticationResult; a != nil && a.Outcome == "" {
			t.Fatalf("accepted an authentication result without an outcome: %+v", a)
		}
		checkBuyer(t, v, x.Buyer)
		checkAddress(t, v, p.BillingAddress)
	case *acp.CreateSessionInput:
		// fuzzCreate checks what a create promises.
	case *acp.CancelSessionInput:
		switch x.ReasonCode {
		case "", acp.CancelReasonPriceSensitivity, acp.CancelReasonShippingCost, acp.CancelReasonShippingSpeed,
			acp.CancelReasonProductFit, acp.CancelReasonTrustSecurity, acp.CancelReasonReturnsPolicy,
			acp.CancelReasonPaymentOptions, acp.CancelReasonComparison, acp.CancelReasonTimingDeferred, acp.CancelReasonOther:
		default:
			t.Fatalf("accepted reason code %q, which is not one of ours", x.ReasonCode)
		}
		if v == acp.V20250929 && !reflect.DeepEqual(x, &acp.CancelSessionInput{Ignored: x.Ignored}) {
			t.Fatalf("2025-09-29 cancel with content (it has no body; all is ignored): %+v", x)
		}
		for key, val := range x.Metadata {
			switch val.(type) {
			case string, json.Number, bool:
			default:
				t.Fatalf("metadata %q is a %T", key, val)
			}
		}
	default:
		t.Fatalf("decoder returned %T", in)
	}
}

func checkBuyer(t *testing.T, v acp.Version, b *acp.Buyer) {
	t.Helper()
	if b == nil {
		return
	}
	if (v == acp.V20250929 || b.Email != "") && !acp.ValidEmail(b.Email) {
		t.Fatalf("accepted buyer email %q", b.Email)
	}
	if b.PhoneNumber != "" {
		if n, ok := acp.NormalizePhone(b.PhoneNumber); !ok || n != b.PhoneNumber {
			t.Fatalf("accepted phone %q", b.PhoneNumber)
		}
	}
}

func checkAddress(t *testing.T, v acp.Version, a *acp.Address) {
	t.Helper()
	if a == nil {
		return
	}
	if c, ok := acp.NormalizeCountry(a.Country); !ok || c != a.Country {
		t.Fatalf("accepted country %q", a.Country)
	}
	if a.Name == "" || a.LineOne == "" || a.City == "" {
		t.Fatalf("accepted address without name, line or city: %+v", a)
	}
	if v == acp.V20250929 && a.Company != "" {
		t.Fatalf("2025-09-29 address with a company: %+v", a)
	}
}
