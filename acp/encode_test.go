package acp_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
)

// --- session fixtures ---

var (
	t0       = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	address  = &acp.Address{Name: "Jane Doe", LineOne: "1 Market St", LineTwo: "Suite 2", City: "San Francisco", State: "CA", Country: "us", PostalCode: "94105"}
	stripeH  = acp.StripeSPTHandler("acct_1234567890")
	policies = []acp.Link{
		{Type: acp.LinkTypeTermsOfUse, URL: "https://shop.example/policies/terms-of-service"},
		{Type: acp.LinkTypePrivacyPolicy, URL: "https://shop.example/policies/privacy-policy", Title: "Privacy"},
		{Type: acp.LinkTypeReturnPolicy, URL: "https://shop.example/policies/refund-policy"},
		{Type: acp.LinkTypeContactUs, URL: "https://shop.example/pages/contact"},
	}
)

func shippingOptions() []acp.FulfillmentOption {
	return []acp.FulfillmentOption{
		{Type: acp.FulfillmentShipping, ID: "ship_std", Title: "Standard", Subtitle: "Arrives in 4-5 days", Carrier: "USPS",
			EarliestDelivery: t0.Add(96 * time.Hour), LatestDelivery: t0.Add(120 * time.Hour), Subtotal: 500, Tax: 0},
		{Type: acp.FulfillmentShipping, ID: "ship_exp", Title: "Express", Subtotal: 1500, Tax: 120},
	}
}

func lines() []acp.LineItem {
	return []acp.LineItem{
		{ID: "li_1", ItemID: "44000000000001", Quantity: 2, UnitAmount: 1999, Discount: 200, Tax: 300,
			Name: "Classic Tee - Red / S", Images: []string{"https://cdn.shop.example/tee.jpg"}, ProductID: "8000000000001", VariantID: "44000000000001", SKU: "TEE-R-S"},
		{ID: "li_2", ItemID: "44000000000002", Quantity: 1, UnitAmount: 4500, Tax: 360},
	}
}

func base(id string) *acp.Session {
	return &acp.Session{
		ID:              id,
		Status:          acp.StatusNotReadyForPayment,
		Currency:        "USD", // sent lower-case
		LineItems:       lines(),
		Links:           policies,
		PaymentHandlers: []acp.PaymentHandler{stripeH},
		CreatedAt:       t0,
		UpdatedAt:       t0.Add(time.Minute),
		ExpiresAt:       t0.Add(24 * time.Hour),
	}
}

func notReadyNoAddress() *acp.Session {
	s := base("cs_not_ready")
	s.Messages = []acp.Message{acp.ErrorMessage(acp.MessageCodeMissing, "$.fulfillment_details.address", "A shipping address is required.")}
	return s
}

func readyShipping() *acp.Session {
	s := base("cs_ready")
	s.Status = acp.StatusReadyForPayment
	s.Buyer = &acp.Buyer{FirstName: "Jane", LastName: "Doe", Email: "jane@example.com", PhoneNumber: "+1 (415) 555-0100"}
	s.FulfillmentDetails = &acp.FulfillmentDetails{Name: "Jane Doe", PhoneNumber: "+14155550100", Email: "jane@example.com", Address: address}
	s.FulfillmentOptions = shippingOptions()
	s.SelectedFulfillment = []acp.SelectedFulfillment{{OptionID: "ship_exp"}}
	s.Interventions = &acp.Interventions{Supported: []string{"3ds"}, Required: []string{}, Enforcement: "conditional"}
	return s
}

func digitalOnly() *acp.Session {
	s := base("cs_digital")
	s.Status = acp.StatusReadyForPayment
	s.LineItems = []acp.LineItem{{ID: "li_1", ItemID: "ebook_1", Quantity: 1, UnitAmount: 999, Tax: 0}}
	s.FulfillmentOptions = []acp.FulfillmentOption{{Type: acp.FulfillmentDigital, ID: "digital", Title: "Instant download", Subtitle: "Sent by email"}}
	s.SelectedFulfillment = []acp.SelectedFulfillment{{OptionID: "digital", ItemIDs: []string{"ebook_1"}}}
	s.Buyer = &acp.Buyer{Email: "jane@example.com"} // no names: left out of 2025-09-29
	return s
}

func withMessages() *acp.Session {
	s := readyShipping()
	s.ID = "cs_messages"
	s.Status = acp.StatusNotReadyForPayment
	s.Messages = []acp.Message{
		acp.ErrorMessage(acp.MessageCodeOutOfStock, "$.line_items[1]", "Only 0 left."),
		acp.ErrorMessage(acp.MessageCodeQuantityExceeded, "$.line_items[0].quantity", "At most 1 per order."),
		{Type: acp.MessageWarning, Code: acp.WarningLowStock, Param: "$.line_items[0]", ContentType: acp.ContentPlain, Content: "Only 3 left.", Severity: "low"},
		{Type: acp.MessageInfo, ContentType: acp.ContentMarkdown, Content: "See our **returns** page: <https://shop.example/returns>", Resolution: "recoverable"},
	}
	s.Discount = 500
	s.Fees = []acp.Fee{{DisplayText: "Service fee", Description: "Handling", Amount: 150}}
	return s
}

func completed() *acp.Session {
	s := readyShipping()
	s.ID = "cs_done"
	s.Status = acp.StatusCompleted
	s.Order = &acp.Order{
		ID: "gid_order_1", CheckoutSessionID: "cs_done", PermalinkURL: "https://shop.example/orders/1001",
		OrderNumber: "#1001", Status: acp.OrderStatusConfirmed,
		EstimatedDelivery: &acp.DeliveryWindow{Earliest: t0.Add(24 * time.Hour), Latest: t0.Add(48 * time.Hour)},
		Confirmation:      &acp.OrderConfirmation{ConfirmationNumber: "1001", ConfirmationEmailSent: new(true), ReceiptURL: "https://shop.example/orders/1001/receipt"},
		Support:           &acp.SupportInfo{Email: "help@shop.example", HelpCenterURL: "https://shop.example/help"},
		LineItems: []acp.OrderLineItem{
			{ID: "li_1", Title: "Classic Tee", Ordered: 2, Current: 2, UnitPrice: 1999, Subtotal: 3798, Status: "processing"},
		},
	}
	totals, err := s.Totals()
	if err != nil {
		panic(err)
	}
	s.Order.Totals = totals
	return s
}

func canceled() *acp.Session {
	s := readyShipping()
	s.ID = "cs_canceled"
	s.Status = acp.StatusCanceled
	return s
}

func authRequired() *acp.Session {
	s := readyShipping()
	s.ID = "cs_3ds"
	s.Status = acp.StatusAuthenticationRequired
	s.AuthenticationMetadata = &acp.AuthenticationMetadata{
		AcquirerBIN: "123456", AcquirerCountry: "US", AcquirerMerchantID: "merchant_789", MerchantName: "Shop Example",
		DirectoryServer: "visa", FlowPreference: &acp.FlowPreference{Type: "challenge", Challenge: "preferred"},
	}
	return s
}

// --- EncodeSession against the official schemas ---

func TestEncodeSessionMatchesSchema(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		s     func() *acp.Session
		v     acp.Version
		order bool
	}{
		{"not ready, no address", notReadyNoAddress, acp.V20250929, false},
		{"ready with shipping", readyShipping, acp.V20250929, false},
		{"digital only", digitalOnly, acp.V20250929, false},
		{"error messages, discount and fee", withMessages, acp.V20250929, false},
		{"completed with order", completed, acp.V20250929, true},
		{"canceled", canceled, acp.V20250929, false},
		{"not ready, no address", notReadyNoAddress, acp.V20260417, false},
		{"ready with shipping", readyShipping, acp.V20260417, false},
		{"digital only", digitalOnly, acp.V20260417, false},
		{"error messages, discount and fee", withMessages, acp.V20260417, false},
		{"completed with order", completed, acp.V20260417, true},
		{"canceled", canceled, acp.V20260417, false},
		{"authentication required", authRequired, acp.V20260417, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.v)+"/"+tt.name, func(t *testing.T) {
			t.Parallel()
			s := tt.s()
			b, err := acp.EncodeSession(tt.v, s)
			if err != nil {
				t.Fatal(err)
			}
			def := "CheckoutSession"
			if tt.order {
				def = "CheckoutSessionWithOrder"
			}
			if err := schemaValidate(t, checkoutSchema(t, tt.v, def), b); err != nil {
				t.Fatalf("%s does not validate against $defs/%s: %v\n%s", tt.v, def, err, b)
			}
			m := decodeMap(t, b)
			checkWire(t, tt.v, s, m)
		})
	}
}

// checkWire checks what the schemas cannot: lower-case currency, totals that
// add up, and the mapping of the model to the version's fields.
func checkWire(t *testing.T, v acp.Version, s *acp.Session, m map[string]any) {
	t.Helper()
	if c := m["currency"].(string); c != strings.ToLower(c) || len(c) != 3 {
		t.Errorf("currency %q is not lower-case ISO 4217", c)
	}
	totals := map[string]int64{}
	for _, x := range m["totals"].([]any) {
		e := x.(map[string]any)
		totals[e["type"].(string)] += num(t, e["amount"])
	}
	if want := totals["subtotal"] - totals["discount"] + totals["fulfillment"] + totals["tax"] + totals["fee"]; totals["total"] != want {
		t.Errorf("total %d ≠ subtotal − discount + fulfillment + tax + fee = %d", totals["total"], want)
	}
	if totals["subtotal"] != totals["items_base_amount"]-totals["items_discount"] {
		t.Errorf("subtotal %d ≠ items_base_amount − items_discount", totals["subtotal"])
	}
	var lineSub, lineTax int64
	for _, x := range m["line_items"].([]any) {
		li := x.(map[string]any)
		var base, disc, sub, tax, tot int64
		if v == acp.V20250929 {
			base, disc, sub, tax, tot = num(t, li["base_amount"]), num(t, li["discount"]), num(t, li["subtotal"]), num(t, li["tax"]), num(t, li["total"])
		} else {
			for _, y := range li["totals"].([]any) {
				e := y.(map[string]any)
				a := num(t, e["amount"])
				switch e["type"] {
				case "items_base_amount":
					base = a
				case "discount":
					disc = a
				case "subtotal":
					sub = a
				case "tax":
					tax = a
				case "total":
					tot = a
				}
			}
		}
		if sub != base-disc || tot != sub+tax {
			t.Errorf("line %v does not add up: base %d discount %d subtotal %d tax %d total %d", li["id"], base, disc, sub, tax, tot)
		}
		lineSub += sub
		lineTax += tax
	}
	if lineSub != totals["subtotal"] {
		t.Errorf("Σ line subtotals %d ≠ subtotal %d", lineSub, totals["subtotal"])
	}
	if totals["tax"] < lineTax {
		t.Errorf("tax %d < Σ line tax %d", totals["tax"], lineTax)
	}

	links := m["links"].([]any)
	switch v {
	case acp.V20250929:
		if _, ok := m["capabilities"]; ok {
			t.Error("2025-09-29 session has capabilities")
		}
		pp, ok := m["payment_provider"].(map[string]any)
		if !ok || pp["provider"] != "stripe" {
			t.Errorf("payment_provider = %v, want stripe", m["payment_provider"])
		}
		if len(s.SelectedFulfillment) == 1 && m["fulfillment_option_id"] != s.SelectedFulfillment[0].OptionID {
			t.Errorf("fulfillment_option_id = %v", m["fulfillment_option_id"])
		}
		if len(links) != 3 || links[2].(map[string]any)["type"] != "seller_shop_policies" {
			t.Errorf("links = %v, want terms, privacy, seller_shop_policies (contact_us dropped)", links)
		}
	case acp.V20260417:
		if _, ok := m["payment_provider"]; ok {
			t.Error("2026-04-17 session has payment_provider")
		}
		caps := m["capabilities"].(map[string]any)
		h := caps["payment"].(map[string]any)["handlers"].([]any)[0].(map[string]any)
		if h["id"] != acp.StripeSPTHandlerID || h["psp"] != "stripe" || h["config"].(map[string]any)["merchant_id"] != "acct_1234567890" {
			t.Errorf("payment handler = %v", h)
		}
		if m["protocol"].(map[string]any)["version"] != "2026-04-17" {
			t.Errorf("protocol = %v", m["protocol"])
		}
		if len(s.SelectedFulfillment) > 0 {
			sel := m["selected_fulfillment_options"].([]any)[0].(map[string]any)
			if sel["option_id"] != s.SelectedFulfillment[0].OptionID || len(sel["item_ids"].([]any)) == 0 {
				t.Errorf("selected_fulfillment_options = %v", m["selected_fulfillment_options"])
			}
		}
		if len(links) != len(s.Links) {
			t.Errorf("links = %v", links)
		}
		if m["created_at"] != "2026-11-27T10:00:00Z" {
			t.Errorf("created_at = %v", m["created_at"])
		}
	}
	if s.FulfillmentDetails != nil && s.FulfillmentDetails.Address != nil {
		var a map[string]any
		if v == acp.V20250929 {
			a = m["fulfillment_address"].(map[string]any)
		} else {
			a = m["fulfillment_details"].(map[string]any)["address"].(map[string]any)
		}
		if a["country"] != "US" {
			t.Errorf("country = %v, want US (upper-case)", a["country"])
		}
	}
}

func num(t *testing.T, v any) int64 {
	t.Helper()
	n, err := v.(json.Number).Int64()
	if err != nil {
		t.Fatalf("%v is not an integer", v)
	}
	return n
}

func TestEncodeSessionFieldMapping(t *testing.T) {
	t.Parallel()
	s := withMessages()
	old, err := acp.EncodeSession(acp.V20250929, s)
	if err != nil {
		t.Fatal(err)
	}
	nw, err := acp.EncodeSession(acp.V20260417, s)
	if err != nil {
		t.Fatal(err)
	}
	o, n := decodeMap(t, old), decodeMap(t, nw)

	// Subtitle: "subtitle" in 2025-09-29, "description" in 2026-04-17.
	fo := o["fulfillment_options"].([]any)[0].(map[string]any)
	fn := n["fulfillment_options"].([]any)[0].(map[string]any)
	if fo["subtitle"] != "Arrives in 4-5 days" || fo["description"] != nil || fn["description"] != "Arrives in 4-5 days" || fn["subtitle"] != nil {
		t.Errorf("subtitle mapping: old %v, new %v", fo, fn)
	}
	if num(t, fo["total"]) != 500 || len(fn["totals"].([]any)) != 3 {
		t.Errorf("option amounts: old %v, new %v", fo, fn)
	}
	// Messages: warnings become info, unknown error codes "invalid" in 2025-09-29.
	om, nm := o["messages"].([]any), n["messages"].([]any)
	if c := om[1].(map[string]any)["code"]; c != "invalid" {
		t.Errorf("2025-09-29 quantity_exceeded sent as %v, want invalid", c)
	}
	if w := om[2].(map[string]any); w["type"] != "info" || w["code"] != nil {
		t.Errorf("2025-09-29 warning sent as %v", w)
	}
	if w := nm[2].(map[string]any); w["type"] != "warning" || w["code"] != "low_stock" || w["severity"] != "low" {
		t.Errorf("2026-04-17 warning sent as %v", w)
	}
	if c := nm[3].(map[string]any)["content"].(string); !strings.Contains(c, "<https://shop.example/returns>") {
		t.Errorf("markdown autolink escaped: %q", c)
	}
	// Totals: fee description is 2026-04-17 only.
	for _, x := range o["totals"].([]any) {
		if _, ok := x.(map[string]any)["description"]; ok {
			t.Error("2025-09-29 total has a description")
		}
	}
	want := []string{"items_base_amount", "items_discount", "subtotal", "discount", "fulfillment", "tax", "fee", "total"}
	var got []string
	for _, x := range n["totals"].([]any) {
		got = append(got, x.(map[string]any)["type"].(string))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("totals types = %v, want %v", got, want)
	}
	// Phone numbers are sent as given; buyer without names left out of 2025-09-29.
	d, err := acp.EncodeSession(acp.V20250929, digitalOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := decodeMap(t, d)["buyer"]; ok {
		t.Error("2025-09-29 buyer without names was sent")
	}
}

func TestEncodeSessionStatusMapping(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       acp.Status
		old, new string // "" = refused
	}{
		{acp.StatusNotReadyForPayment, "not_ready_for_payment", "not_ready_for_payment"},
		{acp.StatusIncomplete, "not_ready_for_payment", "incomplete"},
		{acp.StatusRequiresEscalation, "not_ready_for_payment", "requires_escalation"},
		{acp.StatusPendingApproval, "not_ready_for_payment", "pending_approval"},
		{acp.StatusInProgress, "in_progress", "in_progress"},
		{acp.StatusCompleteInProgress, "in_progress", "complete_in_progress"},
		{acp.StatusExpired, "canceled", "expired"},
		{acp.StatusCanceled, "canceled", "canceled"},
	}
	for _, tt := range tests {
		t.Run(string(tt.in), func(t *testing.T) {
			t.Parallel()
			s := notReadyNoAddress()
			s.Status = tt.in
			for v, want := range map[acp.Version]string{acp.V20250929: tt.old, acp.V20260417: tt.new} {
				b, err := acp.EncodeSession(v, s)
				if err != nil {
					t.Fatalf("%s: %v", v, err)
				}
				if got := decodeMap(t, b)["status"]; got != want {
					t.Errorf("%s: status %v, want %s", v, got, want)
				}
				if err := schemaValidate(t, checkoutSchema(t, v, "CheckoutSession"), b); err != nil {
					t.Errorf("%s: %v", v, err)
				}
			}
		})
	}
}

// TestEncodeSessionRefusesInvalidStates: states the model can hold but the
// protocol cannot.
func TestEncodeSessionRefusesInvalidStates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		v      acp.Version
		mutate func(*acp.Session)
		want   string
	}{
		{"completed without order", acp.V20260417, func(s *acp.Session) { s.Status = acp.StatusCompleted }, "carries its order"},
		{"order before completion", acp.V20260417, func(s *acp.Session) {
			s.Order = &acp.Order{ID: "o", CheckoutSessionID: s.ID, PermalinkURL: "https://shop.example/o"}
		}, "only a completed session"},
		{"order of another session", acp.V20260417, func(s *acp.Session) {
			s.Status = acp.StatusCompleted
			s.Order = &acp.Order{ID: "o", CheckoutSessionID: "other", PermalinkURL: "https://shop.example/o"}
		}, "not the session's"},
		{"authentication_required without metadata", acp.V20260417, func(s *acp.Session) { s.Status = acp.StatusAuthenticationRequired }, "authentication metadata"},
		{"authentication_required in 2025-09-29", acp.V20250929, func(s *acp.Session) {
			*s = *authRequired()
		}, "does not exist in 2025-09-29"},
		{"two selections in 2025-09-29", acp.V20250929, func(s *acp.Session) {
			s.FulfillmentOptions = shippingOptions()
			s.SelectedFulfillment = []acp.SelectedFulfillment{{OptionID: "ship_std", ItemIDs: []string{"44000000000001"}}, {OptionID: "ship_exp", ItemIDs: []string{"44000000000002"}}}
		}, "selects one fulfillment option"},
		{"unknown selected option", acp.V20260417, func(s *acp.Session) {
			s.SelectedFulfillment = []acp.SelectedFulfillment{{OptionID: "nope"}}
		}, "not among the fulfillment options"},
		{"selection of unknown item", acp.V20260417, func(s *acp.Session) {
			s.FulfillmentOptions = shippingOptions()
			s.SelectedFulfillment = []acp.SelectedFulfillment{{OptionID: "ship_std", ItemIDs: []string{"nope"}}}
		}, "not in the line items"},
		{"ready without address", acp.V20260417, func(s *acp.Session) {
			s.Status = acp.StatusReadyForPayment
			s.FulfillmentOptions = shippingOptions()
			s.SelectedFulfillment = []acp.SelectedFulfillment{{OptionID: "ship_std"}}
		}, "needs a fulfillment address"},
		{"ready without selection", acp.V20260417, func(s *acp.Session) {
			s.Status = acp.StatusReadyForPayment
			s.FulfillmentOptions = shippingOptions()
		}, "needs a selected fulfillment option"},
		{"ready without payment handler", acp.V20260417, func(s *acp.Session) {
			*s = *digitalOnly()
			s.PaymentHandlers = nil
		}, "needs a payment handler"},
		{"no line items", acp.V20260417, func(s *acp.Session) { s.LineItems = nil }, "1 to 100 line items"},
		{"duplicate line ids", acp.V20260417, func(s *acp.Session) { s.LineItems[1].ID = s.LineItems[0].ID }, "duplicate line id"},
		{"quantity zero", acp.V20260417, func(s *acp.Session) { s.LineItems[0].Quantity = 0 }, "quantity 0"},
		{"discount above base", acp.V20260417, func(s *acp.Session) { s.LineItems[1].Discount = 4501 }, "discount 4501"},
		{"negative tax", acp.V20260417, func(s *acp.Session) { s.LineItems[1].Tax = -1 }, "tax -1"},
		{"order discount above subtotal", acp.V20260417, func(s *acp.Session) { s.Discount = 1_000_000 }, "order discount"},
		{"negative fee", acp.V20260417, func(s *acp.Session) { s.Fees = []acp.Fee{{Amount: -5}} }, "fees[0]"},
		{"amount overflow", acp.V20260417, func(s *acp.Session) { s.LineItems[0].UnitAmount = acp.MaxAmount }, "base amount"},
		{"bad currency", acp.V20260417, func(s *acp.Session) { s.Currency = "dollars" }, "ISO 4217"},
		{"unknown currency", acp.V20260417, func(s *acp.Session) { s.Currency = "abc" }, "ISO 4217"},
		{"bad country", acp.V20260417, func(s *acp.Session) {
			s.FulfillmentDetails = &acp.FulfillmentDetails{Address: &acp.Address{Name: "J", LineOne: "1", City: "C", Country: "USA"}}
		}, "alpha-2"},
		{"bad buyer email", acp.V20260417, func(s *acp.Session) { s.Buyer = &acp.Buyer{Email: "jane"} }, "buyer email"},
		{"info with code", acp.V20260417, func(s *acp.Session) {
			s.Messages = []acp.Message{{Type: acp.MessageInfo, Code: "invalid", ContentType: acp.ContentPlain, Content: "x"}}
		}, "no code"},
		{"error without known code", acp.V20260417, func(s *acp.Session) {
			s.Messages = []acp.Message{acp.ErrorMessage("oops", "", "x")}
		}, "unknown error code"},
		{"markdown with raw HTML", acp.V20260417, func(s *acp.Session) {
			s.Messages = []acp.Message{{Type: acp.MessageInfo, ContentType: acp.ContentMarkdown, Content: "hi <script>alert(1)</script>"}}
		}, "raw HTML"},
		{"param not a JSONPath", acp.V20260417, func(s *acp.Session) {
			s.Messages = []acp.Message{acp.ErrorMessage(acp.MessageCodeInvalid, "buyer.email", "x")}
		}, "JSONPath"},
		{"relative link", acp.V20260417, func(s *acp.Session) { s.Links = []acp.Link{{Type: acp.LinkTypeTermsOfUse, URL: "/terms"}} }, "absolute"},
		{"unknown link type", acp.V20260417, func(s *acp.Session) { s.Links = []acp.Link{{Type: "seller_shop_policies", URL: "https://x.example"}} }, "unknown type"},
		{"digital option with carrier", acp.V20260417, func(s *acp.Session) {
			s.FulfillmentOptions = []acp.FulfillmentOption{{Type: acp.FulfillmentDigital, ID: "d", Title: "D", Carrier: "UPS"}}
		}, "digital option"},
		{"unknown status", acp.V20260417, func(s *acp.Session) { s.Status = "paid" }, "unknown status"},
		{"unknown intervention", acp.V20260417, func(s *acp.Session) { s.Interventions = &acp.Interventions{Supported: []string{"retina"}} }, "intervention"},
		{"bad handler", acp.V20260417, func(s *acp.Session) { s.PaymentHandlers = []acp.PaymentHandler{{ID: "x"}} }, "payment handler"},
		{"unsupported version", "2025-12-12", func(*acp.Session) {}, "unsupported version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := notReadyNoAddress()
			tt.mutate(s)
			b, err := acp.EncodeSession(tt.v, s)
			if err == nil {
				t.Fatalf("encoded an invalid session:\n%s", b)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
	if _, err := acp.EncodeSession(acp.V20260417, nil); err == nil {
		t.Error("encoded a nil session")
	}
}

func TestEncodeSessionCurrencyLowercase(t *testing.T) {
	t.Parallel()
	for _, c := range []string{"USD", "usd", "Eur", "JPY"} {
		s := notReadyNoAddress()
		s.Currency = c
		for _, v := range acp.SupportedVersions {
			b, err := acp.EncodeSession(v, s)
			if err != nil {
				t.Fatal(err)
			}
			if got := decodeMap(t, b)["currency"]; got != strings.ToLower(c) {
				t.Errorf("%s: currency %q sent as %v", v, c, got)
			}
		}
	}
}
