package acp

// The wire shapes of version 2026-04-17 (spec/2026-04-17/
// schema.agentic_checkout.json). Objects are additionalProperties: false
// except where noted (AffiliateAttribution, PaymentData.instrument and its
// credential, IntentTrace, CancelSessionRequest, metadata), where unknown
// fields are ignored silently. In the closed ones they are ignored and
// reported (Ignored), except in payment_data (reader.strictObject).

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
		"risk_signals", "marketing_consents", "order_notes", "fulfillment_details")
	if !ok {
		return nil
	}
	in := &CompleteSessionInput{}
	if v, p := o.get("fulfillment_details"); v != nil {
		in.FulfillmentDetails = r.fulfillmentDetails(v, p) // the unreleased field (CompleteSessionInput)
	}
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

// discountCodes reads discounts.codes, else the deprecated coupons (its
// alias: when both are sent, discounts.codes takes precedence, as the
// discount extension's RFC §10.1 says; coupons is still checked). nil when
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
		coupons := o.stringList("coupons", MaxListLen, maxIDLen)
		if !present {
			present = true
			codes = append(codes, coupons...)
		}
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
	o, ok := r.strictObject(v, path, "handler_id", "instrument", "billing_address", "purchase_order_number",
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
