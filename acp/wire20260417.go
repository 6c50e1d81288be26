package acp

import (
	"fmt"
	"strings"
)

// The wire shapes of version 2026-04-17 (spec/2026-04-17/
// schema.agentic_checkout.json). Objects are additionalProperties: false
// except where noted (AffiliateAttribution, PaymentData.instrument and its
// credential, IntentTrace, CancelSessionRequest, metadata), where unknown
// fields are ignored.

// --- requests ---

func (r *reader) create20260417(root *jsonValue) *CreateSessionInput {
	o, ok := r.object(root, "$", true, "buyer", "line_items", "currency", "fulfillment_details", "capabilities",
		"fulfillment_groups", "affiliate_attribution", "coupons", "discounts", "locale", "timezone", "quote_id",
		"metadata", "order_notes")
	if !ok {
		return nil
	}
	in := &CreateSessionInput{}
	in.Items = r.items(o, "line_items", true, r.item20260417)
	if v, p := o.require("currency"); v != nil {
		c := r.stringValue(v, p, 0)
		if v.kind == kindString && r.ok() {
			norm, ok := NormalizeCurrency(c)
			if !ok {
				r.fail(CodeInvalid, p, "%s must be an ISO 4217 currency code", p)
			}
			in.Currency = norm
		}
	}
	if v, p := o.require("capabilities"); v != nil {
		in.Capabilities = r.capabilities(v, p)
	}
	if v, p := o.get("buyer"); v != nil {
		in.Buyer = r.buyer20260417(v, p)
	}
	if v, p := o.get("fulfillment_details"); v != nil {
		in.FulfillmentDetails = r.fulfillmentDetails(v, p)
	}
	in.FulfillmentGroups = r.fulfillmentGroups(o)
	if v, p := o.get("affiliate_attribution"); v != nil {
		in.AffiliateAttribution = r.affiliateAttribution(v, p)
	}
	in.DiscountCodes = r.discountCodes(o)
	in.Locale = o.str("locale", 64)
	in.Timezone = o.str("timezone", 64)
	in.QuoteID = o.str("quote_id", maxIDLen)
	if v, p := o.get("metadata"); v != nil {
		if _, ok := r.object(v, p, false); ok {
			in.Metadata, _ = anyValue(v).(map[string]any)
		}
	}
	in.OrderNotes = o.str("order_notes", maxNotesLen)
	return in
}

func (r *reader) update20260417(root *jsonValue) *UpdateSessionInput {
	o, ok := r.object(root, "$", true, "buyer", "line_items", "fulfillment_details", "fulfillment_groups",
		"selected_fulfillment_options", "coupons", "discounts", "order_notes")
	if !ok {
		return nil
	}
	in := &UpdateSessionInput{}
	in.Items = r.items(o, "line_items", false, r.item20260417)
	if v, p := o.get("buyer"); v != nil {
		in.Buyer = r.buyer20260417(v, p)
	}
	if v, p := o.get("fulfillment_details"); v != nil {
		in.FulfillmentDetails = r.fulfillmentDetails(v, p)
	}
	in.FulfillmentGroups = r.fulfillmentGroups(o)
	if list, p, ok := o.array("selected_fulfillment_options", MaxListLen); ok {
		in.SelectedFulfillment = make([]SelectedFulfillmentInput, 0, len(list))
		for i, it := range list {
			ip := indexPath(p, i)
			so, ok := r.object(it, ip, true, "type", "option_id", "item_ids")
			if !ok {
				continue
			}
			sel := SelectedFulfillmentInput{
				Type:     so.reqEnum("type", "shipping", "digital", "pickup", "local_delivery"),
				OptionID: so.reqStr("option_id", maxIDLen, true),
			}
			so.require("item_ids")
			sel.ItemIDs = r.idList(so, "item_ids")
			in.SelectedFulfillment = append(in.SelectedFulfillment, sel)
		}
	}
	in.DiscountCodes = r.discountCodes(o)
	if o.has("order_notes") {
		notes := o.str("order_notes", maxNotesLen)
		in.OrderNotes = &notes
	}
	return in
}

func (r *reader) complete20260417(root *jsonValue) *CompleteSessionInput {
	o, ok := r.object(root, "$", true, "buyer", "payment_data", "authentication_result", "affiliate_attribution",
		"risk_signals", "marketing_consents", "order_notes")
	if !ok {
		return nil
	}
	in := &CompleteSessionInput{}
	if v, p := o.require("payment_data"); v != nil {
		in.Payment = r.paymentData(v, p)
	}
	if v, p := o.get("buyer"); v != nil {
		in.Buyer = r.buyer20260417(v, p)
	}
	if v, p := o.get("authentication_result"); v != nil {
		in.AuthenticationResult = r.authenticationResult(v, p)
	}
	if v, p := o.get("affiliate_attribution"); v != nil {
		in.AffiliateAttribution = r.affiliateAttribution(v, p)
	}
	if v, p := o.get("risk_signals"); v != nil {
		if ro, ok := r.object(v, p, true, "ip_address", "user_agent", "accept_language", "session_id", "device_fingerprint"); ok {
			in.RiskSignals = &RiskSignals{
				IPAddress:         ro.str("ip_address", 64),
				UserAgent:         ro.str("user_agent", maxTextLen),
				AcceptLanguage:    ro.str("accept_language", 256),
				SessionID:         ro.str("session_id", maxIDLen),
				DeviceFingerprint: ro.str("device_fingerprint", maxTextLen),
			}
		}
	}
	if list, p, ok := o.array("marketing_consents", MaxListLen); ok {
		in.MarketingConsents = make([]MarketingConsent, 0, len(list))
		for i, it := range list {
			mo, ok := r.object(it, indexPath(p, i), true, "channel", "opted_in")
			if !ok {
				continue
			}
			mc := MarketingConsent{Channel: mo.reqStr("channel", 64, true)}
			mo.require("opted_in")
			if b := mo.boolean("opted_in"); b != nil {
				mc.OptedIn = *b
			}
			in.MarketingConsents = append(in.MarketingConsents, mc)
		}
	}
	in.OrderNotes = o.str("order_notes", maxNotesLen)
	return in
}

func (r *reader) cancel20260417(root *jsonValue) *CancelSessionInput {
	// CancelSessionRequest and IntentTrace are open objects.
	o, ok := r.object(root, "$", false)
	if !ok {
		return nil
	}
	in := &CancelSessionInput{}
	v, p := o.get("intent_trace")
	if v == nil {
		return in
	}
	to, ok := r.object(v, p, false)
	if !ok {
		return nil
	}
	// reason_code is an extensible enum: unknown values count as "other".
	in.ReasonCode = to.reqStr("reason_code", maxTextLen, true)
	switch in.ReasonCode {
	case CancelReasonPriceSensitivity, CancelReasonShippingCost, CancelReasonShippingSpeed, CancelReasonProductFit,
		CancelReasonTrustSecurity, CancelReasonReturnsPolicy, CancelReasonPaymentOptions, CancelReasonComparison,
		CancelReasonTimingDeferred, CancelReasonOther, "":
	default:
		in.ReasonCode = CancelReasonOther
	}
	in.TraceSummary = to.str("trace_summary", 500)
	if mv, mp := to.get("metadata"); mv != nil {
		in.Metadata = r.scalarMap(mv, mp)
	}
	return in
}

func (r *reader) item20260417(v *jsonValue, path string) ItemInput {
	o, ok := r.object(v, path, true, "id", "name", "unit_amount", "quantity")
	if !ok {
		return ItemInput{}
	}
	it := ItemInput{ID: o.reqStr("id", maxIDLen, true), Quantity: 1}
	o.str("name", maxTextLen)
	o.integer("unit_amount", -MaxAmount, MaxAmount) // a hint: prices are the merchant's
	if qv, qp := o.get("quantity"); qv != nil {
		it.Quantity = r.quantity(qv, qp)
	}
	return it
}

func (r *reader) buyer20260417(v *jsonValue, path string) *Buyer {
	o, ok := r.object(v, path, true, "first_name", "last_name", "full_name", "email", "phone_number", "customer_id",
		"account_type", "authentication_status", "company", "loyalty", "tax_exemption")
	if !ok {
		return nil
	}
	b := &Buyer{
		FirstName:   o.str("first_name", maxTextLen),
		LastName:    o.str("last_name", maxTextLen),
		FullName:    o.str("full_name", maxTextLen),
		Email:       o.email("email", true),
		PhoneNumber: o.phone("phone_number"),
	}
	// Checked for shape; this app does not use them.
	o.str("customer_id", maxIDLen)
	o.enum("account_type", "guest", "registered", "business")
	o.enum("authentication_status", "authenticated", "guest", "requires_signin")
	if cv, cp := o.get("company"); cv != nil {
		if co, ok := r.object(cv, cp, true, "name", "tax_id", "department", "cost_center"); ok {
			co.reqStr("name", maxTextLen, false)
			co.str("tax_id", maxIDLen)
			co.str("department", maxTextLen)
			co.str("cost_center", maxTextLen)
		}
	}
	if lv, lp := o.get("loyalty"); lv != nil {
		if lo, ok := r.object(lv, lp, true, "tier", "points_balance", "member_since"); ok {
			lo.str("tier", maxTextLen)
			lo.integer("points_balance", -MaxAmount, MaxAmount)
			lo.dateTime("member_since")
		}
	}
	if tv, tp := o.get("tax_exemption"); tv != nil {
		if te, ok := r.object(tv, tp, true, "certificate_id", "certificate_type", "exempt_regions", "expires_at"); ok {
			te.reqStr("certificate_id", maxIDLen, false)
			te.reqEnum("certificate_type", "resale", "exempt_organization", "government")
			te.stringList("exempt_regions", MaxListLen, 64)
			te.dateTime("expires_at")
		}
	}
	return b
}

func (r *reader) fulfillmentDetails(v *jsonValue, path string) *FulfillmentDetails {
	o, ok := r.object(v, path, true, "name", "phone_number", "email", "address")
	if !ok {
		return nil
	}
	fd := &FulfillmentDetails{
		Name:        o.str("name", maxTextLen),
		PhoneNumber: o.phone("phone_number"),
		Email:       o.email("email", false),
	}
	if av, ap := o.get("address"); av != nil {
		fd.Address = r.address(av, ap, true)
	}
	return fd
}

func (r *reader) capabilities(v *jsonValue, path string) *AgentCapabilities {
	o, ok := r.object(v, path, true, "payment", "interventions", "extensions")
	if !ok {
		return nil
	}
	c := &AgentCapabilities{}
	if iv, ip := o.get("interventions"); iv != nil {
		// Unknown capability values are ignored, not refused (capability
		// negotiation RFC §9), so the enums are not enforced here.
		if io, ok := r.object(iv, ip, true, "supported", "required", "enforcement", "display_context",
			"redirect_context", "max_redirects", "max_interaction_depth"); ok {
			c.InterventionsSupported = io.stringList("supported", MaxListLen, 64)
			io.stringList("required", MaxListLen, 64)
			io.str("enforcement", 64)
			c.DisplayContext = io.str("display_context", 64)
			c.RedirectContext = io.str("redirect_context", 64)
			if n := io.integer("max_redirects", 0, 1000); n != nil {
				c.MaxRedirects = new(int(*n))
			}
			if n := io.integer("max_interaction_depth", 1, 1000); n != nil {
				c.MaxInteractionDepth = new(int(*n))
			}
		}
	}
	if list, ep, ok := o.array("extensions", MaxListLen); ok {
		c.Extensions = make([]string, 0, len(list))
		objects := len(list) > 0 && list[0].kind == kindObject
		for i, it := range list {
			ip := indexPath(ep, i)
			var name string
			if objects {
				eo, ok := r.object(it, ip, true, "name", "extends", "schema", "spec")
				if !ok {
					continue
				}
				name = eo.reqStr("name", 128, true)
				eo.stringList("extends", MaxListLen, 256)
				r.urlField(eo, "schema")
				r.urlField(eo, "spec")
			} else {
				name = r.stringValue(it, ip, 128)
			}
			if name != "" && contains(c.Extensions, name) {
				r.fail(CodeInvalid, ip, "%s repeats extension %s", ip, quoteBounded(name, 64))
			}
			c.Extensions = append(c.Extensions, name)
		}
	}
	if pv, pp := o.get("payment"); pv != nil {
		// Sellers declare handlers; an agent has no reason to, but the schema
		// allows it. Checked for shape and ignored.
		if po, ok := r.object(pv, pp, true, "handlers"); ok {
			po.require("handlers")
			if list, hp, ok := po.array("handlers", MaxListLen); ok {
				for i, it := range list {
					r.paymentHandlerShape(it, indexPath(hp, i))
				}
			}
		}
	}
	return c
}

func (r *reader) paymentHandlerShape(v *jsonValue, path string) {
	o, ok := r.object(v, path, true, "id", "name", "display_name", "version", "spec", "requires_delegate_payment",
		"requires_pci_compliance", "psp", "config_schema", "instrument_schemas", "config", "display_order")
	if !ok {
		return
	}
	o.reqStr("id", maxIDLen, false)
	o.reqStr("name", maxIDLen, false)
	o.str("display_name", maxTextLen)
	o.reqStr("version", 10, false)
	o.reqStr("spec", 2048, false)
	for _, k := range []string{"requires_delegate_payment", "requires_pci_compliance"} {
		o.require(k)
		o.boolean(k)
	}
	o.reqStr("psp", maxIDLen, false)
	o.reqStr("config_schema", 2048, false)
	o.require("instrument_schemas")
	o.stringList("instrument_schemas", MaxListLen, 2048)
	if cv, cp := o.require("config"); cv != nil {
		r.object(cv, cp, false)
	}
	o.integer("display_order", -1000000, 1000000)
}

func (r *reader) urlField(o object, key string) string {
	s := o.str(key, 2048)
	if s != "" && !validURL(s) {
		_, p := o.get(key)
		r.fail(CodeInvalid, p, "%s must be an absolute http(s) URL", p)
		return ""
	}
	return s
}

// idList reads an optional list of non-empty ids (non-nil when present).
func (r *reader) idList(o object, key string) []string {
	ids := o.stringList(key, MaxListLen, maxIDLen)
	_, p := o.get(key)
	for i, id := range ids {
		if id == "" {
			r.fail(CodeInvalid, indexPath(p, i), "%s must not be empty", indexPath(p, i))
		}
	}
	return ids
}

func (r *reader) fulfillmentGroups(o object) []FulfillmentGroup {
	list, p, ok := o.array("fulfillment_groups", MaxListLen)
	if !ok {
		return nil
	}
	out := make([]FulfillmentGroup, 0, len(list))
	for i, it := range list {
		ip := indexPath(p, i)
		g, ok := r.object(it, ip, true, "id", "item_ids", "destination_type", "fulfillment_details", "location_id", "instructions")
		if !ok {
			continue
		}
		fg := FulfillmentGroup{ID: g.reqStr("id", maxIDLen, true)}
		g.require("item_ids")
		fg.ItemIDs = r.idList(g, "item_ids")
		fg.DestinationType = g.reqEnum("destination_type", "shipping", "pickup", "local_delivery", "digital")
		if fv, fp := g.get("fulfillment_details"); fv != nil {
			fg.FulfillmentDetails = r.fulfillmentDetails(fv, fp)
		}
		fg.LocationID = g.str("location_id", maxIDLen)
		fg.Instructions = g.str("instructions", maxTextLen)
		out = append(out, fg)
	}
	return out
}

// discountCodes joins discounts.codes and the deprecated coupons. nil when
// neither is present; non-nil (maybe empty) otherwise.
func (r *reader) discountCodes(o object) []string {
	var codes []string
	present := false
	if v, p := o.get("discounts"); v != nil {
		if d, ok := r.object(v, p, true, "codes"); ok && d.has("codes") {
			present = true
			codes = append(codes, d.stringList("codes", MaxListLen, maxIDLen)...)
		}
	}
	if o.has("coupons") {
		present = true
		codes = append(codes, o.stringList("coupons", MaxListLen, maxIDLen)...)
	}
	if present && codes == nil {
		codes = []string{}
	}
	return codes
}

func (r *reader) affiliateAttribution(v *jsonValue, path string) *AffiliateAttribution {
	o, ok := r.object(v, path, false) // an open object in the schema
	if !ok {
		return nil
	}
	a := &AffiliateAttribution{
		Provider:    o.reqStr("provider", maxIDLen, true),
		Token:       o.str("token", maxTextLen),
		PublisherID: o.str("publisher_id", maxIDLen),
		CampaignID:  o.str("campaign_id", maxIDLen),
		CreativeID:  o.str("creative_id", maxIDLen),
		SubID:       o.str("sub_id", maxIDLen),
		IssuedAt:    o.dateTime("issued_at"),
		ExpiresAt:   o.dateTime("expires_at"),
		Touchpoint:  o.enum("touchpoint", "first", "last"),
	}
	if !o.has("token") && !o.has("publisher_id") {
		r.fail(CodeMissing, fieldPath(path, "token"), "%s needs token or publisher_id", path)
	}
	if sv, sp := o.get("source"); sv != nil {
		if so, ok := r.object(sv, sp, true, "type", "url"); ok {
			a.SourceType = so.reqEnum("type", "url", "platform", "unknown")
			a.SourceURL = r.urlField(so, "url")
		}
	}
	if mv, mp := o.get("metadata"); mv != nil {
		a.Metadata = r.scalarMap(mv, mp)
	}
	return a
}

// scalarMap reads an object whose values are strings, numbers or booleans.
func (r *reader) scalarMap(v *jsonValue, path string) map[string]any {
	if _, ok := r.object(v, path, false); !ok {
		return nil
	}
	out := make(map[string]any, len(v.fields))
	for _, f := range v.fields {
		switch f.value.kind {
		case kindString, kindNumber, kindBool:
			out[f.key] = anyValue(f.value)
		default:
			r.wrongType(f.value, fieldPath(path, f.key), "a string, number or boolean")
		}
	}
	return out
}

func (r *reader) paymentData(v *jsonValue, path string) PaymentInput {
	var pay PaymentInput
	o, ok := r.object(v, path, true, "handler_id", "instrument", "billing_address", "purchase_order_number",
		"payment_terms", "due_date", "approval_required")
	if !ok {
		return pay
	}
	// Shape of the optional B2B fields first.
	o.str("purchase_order_number", maxIDLen)
	o.enum("payment_terms", "immediate", "net_15", "net_30", "net_60", "net_90")
	o.dateTime("due_date")
	o.boolean("approval_required")
	if !o.has("handler_id") && !o.has("instrument") && o.has("purchase_order_number") {
		r.fail(CodeUnsupported, fieldPath(path, "handler_id"),
			"purchase-order payment is not supported; send handler_id and instrument with a shared payment token")
		return pay
	}
	pay.HandlerID = o.reqStr("handler_id", maxIDLen, true)
	if iv, ip := o.require("instrument"); iv != nil {
		// instrument and credential are open objects (the handler defines
		// them); unknown fields are ignored.
		if io, ok := r.object(iv, ip, false); ok {
			pay.InstrumentType = io.reqStr("type", 64, true)
			if cv, cp := io.require("credential"); cv != nil {
				if co, ok := r.object(cv, cp, false); ok {
					ct := co.reqStr("type", 64, true)
					if ct != "" && ct != CredentialTypeSPT {
						r.fail(CodeUnsupported, fieldPath(cp, "type"),
							"%s must be %q: this merchant accepts Stripe shared payment tokens only", fieldPath(cp, "type"), CredentialTypeSPT)
					}
					pay.CredentialType = ct
					pay.Token = co.reqStr("token", maxIDLen, true)
				}
			}
		}
	}
	pay.Provider = ProviderStripe
	if bv, bp := o.get("billing_address"); bv != nil {
		pay.BillingAddress = r.address(bv, bp, true)
	}
	return pay
}

var successOutcomes = []string{"authenticated", "informational", "attempt_acknowledged"}

func (r *reader) authenticationResult(v *jsonValue, path string) *AuthenticationResult {
	o, ok := r.object(v, path, true, "outcome", "outcome_details")
	if !ok {
		return nil
	}
	res := &AuthenticationResult{Outcome: o.reqEnum("outcome", "abandoned", "attempt_acknowledged", "authenticated",
		"canceled", "denied", "informational", "internal_error", "not_supported", "processing_error", "rejected")}
	needDetails := contains(successOutcomes, res.Outcome)
	dv, dp := o.get("outcome_details")
	if dv == nil {
		if needDetails {
			r.fail(CodeMissing, dp, "%s is required when the outcome is %s", dp, res.Outcome)
		}
		return res
	}
	d, ok := r.object(dv, dp, true, "three_ds_cryptogram", "electronic_commerce_indicator", "transaction_id", "version")
	if !ok {
		return res
	}
	// The schema requires all four fields inside outcome_details, but the
	// official "denied" example sends only transaction_id and version: the
	// fields are required only when the outcome carries a cryptogram.
	str := d.str
	if needDetails {
		str = func(key string, max int) string { return d.reqStr(key, max, true) }
	}
	res.Details = &AuthenticationDetails{
		ThreeDSCryptogram: str("three_ds_cryptogram", 256),
		TransactionID:     str("transaction_id", maxIDLen),
		Version:           str("version", 16),
	}
	if needDetails {
		res.Details.ElectronicCommerceIndicator = d.reqEnum("electronic_commerce_indicator", "01", "02", "05", "06", "07")
	} else {
		res.Details.ElectronicCommerceIndicator = d.enum("electronic_commerce_indicator", "01", "02", "05", "06", "07")
	}
	return res
}

// --- responses ---

type w26Session struct {
	ID                         string                   `json:"id"`
	Protocol                   w26Protocol              `json:"protocol"`
	Capabilities               w26Capabilities          `json:"capabilities"`
	Buyer                      *w26Buyer                `json:"buyer,omitempty"`
	Status                     Status                   `json:"status"`
	Currency                   string                   `json:"currency"`
	LineItems                  []w26LineItem            `json:"line_items"`
	FulfillmentDetails         *w26FulfillmentDetails   `json:"fulfillment_details,omitempty"`
	FulfillmentOptions         []w26FulfillmentOption   `json:"fulfillment_options"`
	SelectedFulfillmentOptions []w26SelectedFulfillment `json:"selected_fulfillment_options,omitempty"`
	Totals                     []w26Total               `json:"totals"`
	Messages                   []w26Message             `json:"messages"`
	Links                      []w26Link                `json:"links"`
	AuthenticationMetadata     *w26AuthMetadata         `json:"authentication_metadata,omitempty"`
	CreatedAt                  string                   `json:"created_at,omitempty"`
	UpdatedAt                  string                   `json:"updated_at,omitempty"`
	ExpiresAt                  string                   `json:"expires_at,omitempty"`
	ContinueURL                string                   `json:"continue_url,omitempty"`
	Order                      *w26Order                `json:"order,omitempty"`
}

type w26Protocol struct {
	Version Version `json:"version"`
}

type w26Capabilities struct {
	Payment       *w26Payment       `json:"payment,omitempty"`
	Interventions *w26Interventions `json:"interventions,omitempty"`
}

type w26Payment struct {
	Handlers []w26PaymentHandler `json:"handlers"`
}

type w26PaymentHandler struct {
	ID                      string         `json:"id"`
	Name                    string         `json:"name"`
	DisplayName             string         `json:"display_name,omitempty"`
	Version                 string         `json:"version"`
	Spec                    string         `json:"spec"`
	RequiresDelegatePayment bool           `json:"requires_delegate_payment"`
	RequiresPCICompliance   bool           `json:"requires_pci_compliance"`
	PSP                     string         `json:"psp"`
	ConfigSchema            string         `json:"config_schema"`
	InstrumentSchemas       []string       `json:"instrument_schemas"`
	Config                  map[string]any `json:"config"`
	DisplayOrder            *int           `json:"display_order,omitempty"`
}

type w26Interventions struct {
	Supported   []string `json:"supported"`
	Required    []string `json:"required"`
	Enforcement string   `json:"enforcement,omitempty"`
}

type w26Buyer struct {
	FirstName   string `json:"first_name,omitempty"`
	LastName    string `json:"last_name,omitempty"`
	FullName    string `json:"full_name,omitempty"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phone_number,omitempty"`
}

type w26Item struct {
	ID string `json:"id"`
}

type w26LineItem struct {
	ID          string     `json:"id"`
	Item        w26Item    `json:"item"`
	Quantity    int        `json:"quantity"`
	Name        string     `json:"name,omitempty"`
	Description string     `json:"description,omitempty"`
	Images      []string   `json:"images,omitempty"`
	UnitAmount  int64      `json:"unit_amount"`
	ProductID   string     `json:"product_id,omitempty"`
	SKU         string     `json:"sku,omitempty"`
	VariantID   string     `json:"variant_id,omitempty"`
	Totals      []w26Total `json:"totals"`
}

type w26Total struct {
	Type        TotalType `json:"type"`
	DisplayText string    `json:"display_text"`
	Amount      int64     `json:"amount"`
	Description string    `json:"description,omitempty"`
}

type w26Address struct {
	Name       string `json:"name"`
	LineOne    string `json:"line_one"`
	LineTwo    string `json:"line_two,omitempty"`
	City       string `json:"city"`
	State      string `json:"state"`
	Country    string `json:"country"`
	PostalCode string `json:"postal_code"`
	Company    string `json:"company,omitempty"`
}

type w26FulfillmentDetails struct {
	Name        string      `json:"name,omitempty"`
	PhoneNumber string      `json:"phone_number,omitempty"`
	Email       string      `json:"email,omitempty"`
	Address     *w26Address `json:"address,omitempty"`
}

type w26FulfillmentOption struct {
	Type                 FulfillmentType `json:"type"`
	ID                   string          `json:"id"`
	Title                string          `json:"title"`
	Description          string          `json:"description,omitempty"`
	Carrier              string          `json:"carrier,omitempty"`
	EarliestDeliveryTime string          `json:"earliest_delivery_time,omitempty"`
	LatestDeliveryTime   string          `json:"latest_delivery_time,omitempty"`
	Totals               []w26Total      `json:"totals"`
}

type w26SelectedFulfillment struct {
	Type     FulfillmentType `json:"type"`
	OptionID string          `json:"option_id"`
	ItemIDs  []string        `json:"item_ids"`
}

type w26Message struct {
	Type        MessageType `json:"type"`
	Code        MessageCode `json:"code,omitempty"`
	Severity    string      `json:"severity,omitempty"`
	Resolution  string      `json:"resolution,omitempty"`
	Param       string      `json:"param,omitempty"`
	ContentType ContentType `json:"content_type"`
	Content     string      `json:"content"`
}

type w26Link struct {
	Type  LinkType `json:"type"`
	Title string   `json:"title,omitempty"`
	URL   string   `json:"url"`
}

type w26AuthMetadata struct {
	AcquirerDetails w26AcquirerDetails `json:"acquirer_details"`
	DirectoryServer string             `json:"directory_server"`
	FlowPreference  *w26FlowPreference `json:"flow_preference,omitempty"`
}

type w26AcquirerDetails struct {
	AcquirerBIN        string `json:"acquirer_bin"`
	AcquirerCountry    string `json:"acquirer_country"`
	AcquirerMerchantID string `json:"acquirer_merchant_id"`
	MerchantName       string `json:"merchant_name"`
	RequestorID        string `json:"requestor_id,omitempty"`
}

type w26FlowPreference struct {
	Type         string   `json:"type"`
	Challenge    *w26Kind `json:"challenge,omitempty"`
	Frictionless *w26Kind `json:"frictionless,omitempty"`
}

type w26Kind struct {
	Type string `json:"type"`
}

type w26Order struct {
	Type              string                `json:"type"`
	ID                string                `json:"id"`
	CheckoutSessionID string                `json:"checkout_session_id"`
	OrderNumber       string                `json:"order_number,omitempty"`
	ClientReferenceID string                `json:"client_reference_id,omitempty"`
	PermalinkURL      string                `json:"permalink_url"`
	Status            string                `json:"status,omitempty"`
	EstimatedDelivery *w26EstimatedDelivery `json:"estimated_delivery,omitempty"`
	Confirmation      *w26Confirmation      `json:"confirmation,omitempty"`
	Support           *w26Support           `json:"support,omitempty"`
	LineItems         []w26OrderLineItem    `json:"line_items,omitempty"`
	Fulfillments      []w26Fulfillment      `json:"fulfillments,omitempty"`
	Adjustments       []w26Adjustment       `json:"adjustments,omitempty"`
	Totals            []w26Total            `json:"totals,omitempty"`
}

type w26Fulfillment struct {
	ID             string                `json:"id"`
	Type           string                `json:"type"`
	Status         string                `json:"status,omitempty"`
	LineItems      []w26LineItemRef      `json:"line_items,omitempty"`
	Carrier        string                `json:"carrier,omitempty"`
	TrackingNumber string                `json:"tracking_number,omitempty"`
	TrackingURL    string                `json:"tracking_url,omitempty"`
	Events         []w26FulfillmentEvent `json:"events,omitempty"`
}

type w26LineItemRef struct {
	ID       string `json:"id"`
	Quantity int    `json:"quantity"`
}

type w26FulfillmentEvent struct {
	ID          string `json:"id"`
	Type        string `json:"type"`
	OccurredAt  string `json:"occurred_at"`
	Description string `json:"description,omitempty"`
}

type w26Adjustment struct {
	ID          string           `json:"id"`
	Type        string           `json:"type"`
	OccurredAt  string           `json:"occurred_at"`
	Status      string           `json:"status"`
	LineItems   []w26LineItemRef `json:"line_items,omitempty"`
	Amount      int64            `json:"amount"`
	Currency    string           `json:"currency,omitempty"`
	Description string           `json:"description,omitempty"`
	Reason      string           `json:"reason,omitempty"`
}

func lineRefs20260417(refs []LineItemRef) []w26LineItemRef {
	var out []w26LineItemRef
	for _, r := range refs {
		out = append(out, w26LineItemRef{ID: r.ID, Quantity: r.Quantity})
	}
	return out
}

type w26EstimatedDelivery struct {
	Earliest string `json:"earliest"`
	Latest   string `json:"latest"`
}

type w26Confirmation struct {
	ConfirmationNumber    string `json:"confirmation_number,omitempty"`
	ConfirmationEmailSent *bool  `json:"confirmation_email_sent,omitempty"`
	ReceiptURL            string `json:"receipt_url,omitempty"`
	InvoiceNumber         string `json:"invoice_number,omitempty"`
	OrderNotes            string `json:"order_notes,omitempty"`
}

type w26Support struct {
	Email         string `json:"email,omitempty"`
	Phone         string `json:"phone,omitempty"`
	Hours         string `json:"hours,omitempty"`
	HelpCenterURL string `json:"help_center_url,omitempty"`
}

type w26OrderLineItem struct {
	ID          string               `json:"id"`
	Title       string               `json:"title"`
	ProductID   string               `json:"product_id,omitempty"`
	Description string               `json:"description,omitempty"`
	ImageURL    string               `json:"image_url,omitempty"`
	URL         string               `json:"url,omitempty"`
	Quantity    w26OrderLineQuantity `json:"quantity"`
	UnitPrice   int64                `json:"unit_price"`
	Subtotal    int64                `json:"subtotal"`
	Status      string               `json:"status,omitempty"`
}

type w26OrderLineQuantity struct {
	Ordered   int `json:"ordered"`
	Current   int `json:"current"`
	Fulfilled int `json:"fulfilled"`
}

func totals20260417(ts []Total) []w26Total {
	out := make([]w26Total, 0, len(ts))
	for _, t := range ts {
		out = append(out, w26Total{Type: t.Type, DisplayText: t.DisplayText, Amount: t.Amount, Description: t.Description})
	}
	return out
}

func address20260417(a *Address) *w26Address {
	country, _ := NormalizeCountry(a.Country)
	return &w26Address{
		Name: a.Name, LineOne: a.LineOne, LineTwo: a.LineTwo, City: a.City,
		State: a.State, Country: country, PostalCode: a.PostalCode, Company: a.Company,
	}
}

func encode20260417(s *Session) ([]byte, error) {
	totals, err := s.Totals()
	if err != nil {
		return nil, err
	}
	currency, _ := NormalizeCurrency(s.Currency)
	w := w26Session{
		ID:                 s.ID,
		Protocol:           w26Protocol{Version: V20260417},
		Status:             s.Status,
		Currency:           currency,
		LineItems:          make([]w26LineItem, 0, len(s.LineItems)),
		FulfillmentOptions: make([]w26FulfillmentOption, 0, len(s.FulfillmentOptions)),
		Totals:             totals20260417(totals),
		Messages:           make([]w26Message, 0, len(s.Messages)),
		Links:              make([]w26Link, 0, len(s.Links)),
		CreatedAt:          formatTime(s.CreatedAt),
		UpdatedAt:          formatTime(s.UpdatedAt),
		ExpiresAt:          formatTime(s.ExpiresAt),
		ContinueURL:        s.ContinueURL,
	}
	if len(s.PaymentHandlers) > 0 {
		w.Capabilities.Payment = payment20260417(s.PaymentHandlers)
	}
	if iv := s.Interventions; iv != nil {
		wi, err := interventions20260417(iv)
		if err != nil {
			return nil, err
		}
		w.Capabilities.Interventions = wi
	}
	if b := s.Buyer; b != nil && b.Email != "" {
		w.Buyer = &w26Buyer{FirstName: b.FirstName, LastName: b.LastName, FullName: b.FullName, Email: b.Email, PhoneNumber: b.PhoneNumber}
	}
	for _, l := range s.LineItems {
		w.LineItems = append(w.LineItems, lineItem20260417(l))
	}
	if fd := s.FulfillmentDetails; fd != nil {
		wf := &w26FulfillmentDetails{Name: fd.Name, PhoneNumber: fd.PhoneNumber, Email: fd.Email}
		if fd.Address != nil {
			wf.Address = address20260417(fd.Address)
		}
		w.FulfillmentDetails = wf
	}
	for _, f := range s.FulfillmentOptions {
		w.FulfillmentOptions = append(w.FulfillmentOptions, fulfillmentOption20260417(f))
	}
	if w.SelectedFulfillmentOptions, err = selectedFulfillments20260417(s); err != nil {
		return nil, err
	}
	for _, m := range s.Messages {
		w.Messages = append(w.Messages, w26Message{Type: m.Type, Code: m.Code, Severity: m.Severity, Resolution: m.Resolution,
			Param: m.Param, ContentType: m.ContentType, Content: m.Content})
	}
	for _, l := range s.Links {
		w.Links = append(w.Links, w26Link{Type: l.Type, Title: l.Title, URL: l.URL})
	}
	if a := s.AuthenticationMetadata; a != nil {
		w.AuthenticationMetadata = authMetadata20260417(a)
	}
	if o := s.Order; o != nil {
		w.Order = order20260417(o)
	}
	return marshal(w)
}

// payment20260417 is the payment capability: the handlers, each with its
// config and instrument schemas never null.
func payment20260417(hs []PaymentHandler) *w26Payment {
	p := &w26Payment{Handlers: make([]w26PaymentHandler, 0, len(hs))}
	for _, h := range hs {
		cfg := h.Config
		if cfg == nil {
			cfg = map[string]any{}
		}
		schemas := h.InstrumentSchemas
		if schemas == nil {
			schemas = []string{}
		}
		p.Handlers = append(p.Handlers, w26PaymentHandler{
			ID: h.ID, Name: h.Name, DisplayName: h.DisplayName, Version: h.Version, Spec: h.Spec,
			RequiresDelegatePayment: h.RequiresDelegatePayment, RequiresPCICompliance: h.RequiresPCICompliance,
			PSP: h.PSP, ConfigSchema: h.ConfigSchema, InstrumentSchemas: schemas, Config: cfg,
			DisplayOrder: h.DisplayOrder,
		})
	}
	return p
}

// lineItem20260417 is a line item with its own totals.
func lineItem20260417(l LineItem) w26LineItem {
	return w26LineItem{
		ID:          l.ID,
		Item:        w26Item{ID: l.ItemID},
		Quantity:    l.Quantity,
		Name:        l.Name,
		Description: l.Description,
		Images:      l.Images,
		UnitAmount:  l.UnitAmount,
		ProductID:   l.ProductID,
		SKU:         l.SKU,
		VariantID:   l.VariantID,
		Totals: []w26Total{
			{Type: TotalItemsBaseAmount, DisplayText: "Base Amount", Amount: l.BaseAmount()},
			{Type: TotalDiscount, DisplayText: "Discount", Amount: l.Discount},
			{Type: TotalSubtotal, DisplayText: "Subtotal", Amount: l.Subtotal()},
			{Type: TotalTax, DisplayText: "Tax", Amount: l.Tax},
			{Type: TotalTotal, DisplayText: "Total", Amount: l.Total()},
		},
	}
}

// fulfillmentOption20260417 is a fulfillment option with its own totals.
func fulfillmentOption20260417(f FulfillmentOption) w26FulfillmentOption {
	return w26FulfillmentOption{
		Type:                 f.Type,
		ID:                   f.ID,
		Title:                f.Title,
		Description:          f.Subtitle,
		Carrier:              f.Carrier,
		EarliestDeliveryTime: formatTime(f.EarliestDelivery),
		LatestDeliveryTime:   formatTime(f.LatestDelivery),
		Totals: []w26Total{
			{Type: TotalSubtotal, DisplayText: "Subtotal", Amount: f.Subtotal},
			{Type: TotalTax, DisplayText: "Tax", Amount: f.Tax},
			{Type: TotalTotal, DisplayText: "Total", Amount: f.Total()},
		},
	}
}

// selectedFulfillments20260417 lists the selected options, each with the
// item ids it covers: a selection naming none covers every line's item.
func selectedFulfillments20260417(s *Session) ([]w26SelectedFulfillment, error) {
	sel, err := s.selectedOptions()
	if err != nil {
		return nil, err
	}
	var out []w26SelectedFulfillment
	for i, o := range sel {
		ids := s.SelectedFulfillment[i].ItemIDs
		if len(ids) == 0 {
			ids = make([]string, 0, len(s.LineItems))
			for _, l := range s.LineItems {
				if !contains(ids, l.ItemID) {
					ids = append(ids, l.ItemID)
				}
			}
		}
		out = append(out, w26SelectedFulfillment{Type: o.Type, OptionID: o.ID, ItemIDs: ids})
	}
	return out, nil
}

// authMetadata20260417 is the authentication metadata, the acquirer's
// country in upper case.
func authMetadata20260417(a *AuthenticationMetadata) *w26AuthMetadata {
	country := strings.ToUpper(a.AcquirerCountry)
	wa := &w26AuthMetadata{
		AcquirerDetails: w26AcquirerDetails{AcquirerBIN: a.AcquirerBIN, AcquirerCountry: country,
			AcquirerMerchantID: a.AcquirerMerchantID, MerchantName: a.MerchantName, RequestorID: a.RequestorID},
		DirectoryServer: a.DirectoryServer,
	}
	if f := a.FlowPreference; f != nil {
		wa.FlowPreference = &w26FlowPreference{Type: f.Type}
		if f.Challenge != "" {
			wa.FlowPreference.Challenge = &w26Kind{Type: f.Challenge}
		}
		if f.Frictionless != "" {
			wa.FlowPreference.Frictionless = &w26Kind{Type: f.Frictionless}
		}
	}
	return wa
}

func interventions20260417(iv *Interventions) (*w26Interventions, error) {
	wi := &w26Interventions{Supported: []string{}, Required: []string{}, Enforcement: iv.Enforcement}
	for _, x := range iv.Supported {
		switch x {
		case "3ds", "biometric", "address_verification":
			wi.Supported = append(wi.Supported, x)
		default:
			return nil, fmt.Errorf("unknown supported intervention %q", x)
		}
	}
	for _, x := range iv.Required {
		switch x {
		case "3ds", "biometric":
			wi.Required = append(wi.Required, x)
		default:
			return nil, fmt.Errorf("unknown required intervention %q", x)
		}
	}
	switch iv.Enforcement {
	case "", "always", "conditional", "optional":
	default:
		return nil, fmt.Errorf("unknown intervention enforcement %q", iv.Enforcement)
	}
	return wi, nil
}

func order20260417(o *Order) *w26Order {
	w := &w26Order{
		Type:              "order",
		ID:                o.ID,
		CheckoutSessionID: o.CheckoutSessionID,
		OrderNumber:       o.OrderNumber,
		ClientReferenceID: o.ClientReferenceID,
		PermalinkURL:      o.PermalinkURL,
		Status:            o.Status,
	}
	if d := o.EstimatedDelivery; d != nil {
		w.EstimatedDelivery = &w26EstimatedDelivery{Earliest: formatTime(d.Earliest), Latest: formatTime(d.Latest)}
	}
	if c := o.Confirmation; c != nil {
		w.Confirmation = &w26Confirmation{ConfirmationNumber: c.ConfirmationNumber, ConfirmationEmailSent: c.ConfirmationEmailSent,
			ReceiptURL: c.ReceiptURL, InvoiceNumber: c.InvoiceNumber, OrderNotes: c.OrderNotes}
	}
	if s := o.Support; s != nil {
		w.Support = &w26Support{Email: s.Email, Phone: s.Phone, Hours: s.Hours, HelpCenterURL: s.HelpCenterURL}
	}
	for _, l := range o.LineItems {
		w.LineItems = append(w.LineItems, w26OrderLineItem{
			ID: l.ID, Title: l.Title, ProductID: l.ProductID, Description: l.Description, ImageURL: l.ImageURL, URL: l.URL,
			Quantity:  w26OrderLineQuantity{Ordered: l.Ordered, Current: l.Current, Fulfilled: l.Fulfilled},
			UnitPrice: l.UnitPrice, Subtotal: l.Subtotal, Status: l.Status,
		})
	}
	for _, f := range o.Fulfillments {
		wf := w26Fulfillment{ID: f.ID, Type: string(f.Type), Status: f.Status, LineItems: lineRefs20260417(f.LineItems),
			Carrier: f.Carrier, TrackingNumber: f.TrackingNumber, TrackingURL: f.TrackingURL}
		for _, e := range f.Events {
			wf.Events = append(wf.Events, w26FulfillmentEvent{ID: e.ID, Type: e.Type, OccurredAt: formatTime(e.OccurredAt), Description: e.Description})
		}
		w.Fulfillments = append(w.Fulfillments, wf)
	}
	for _, a := range o.Adjustments {
		w.Adjustments = append(w.Adjustments, w26Adjustment{ID: a.ID, Type: a.Type, OccurredAt: formatTime(a.OccurredAt), Status: a.Status,
			LineItems: lineRefs20260417(a.LineItems), Amount: a.Amount, Currency: a.Currency, Description: a.Description, Reason: a.Reason})
	}
	if len(o.Totals) > 0 {
		w.Totals = totals20260417(o.Totals)
	}
	return w
}
