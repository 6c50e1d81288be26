package acp

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The wire shapes of version 2025-09-29 (spec/2025-09-29/
// schema.agentic_checkout.json). Every object there is
// additionalProperties: false, so each struct below lists exactly the
// schema's properties, required ones without omitempty. The request
// readers ignore (and report) keys they do not know, except in
// payment_data (reader.strictObject).

// --- requests ---

func (r *reader) create20250929(root *jsonValue) *CreateSessionInput {
	o, ok := r.object(root, "$", true, "buyer", "items", "fulfillment_address")
	if !ok {
		return nil
	}
	in := &CreateSessionInput{}
	in.Items = r.items(o, "items", true, r.item20250929)
	if v, p := o.get("buyer"); v != nil {
		in.Buyer = r.buyer20250929(v, p)
	}
	if v, p := o.get("fulfillment_address"); v != nil {
		if a := r.address(v, p, false); a != nil {
			in.FulfillmentDetails = &FulfillmentDetails{Address: a}
		}
	}
	return in
}

func (r *reader) update20250929(root *jsonValue) *UpdateSessionInput {
	o, ok := r.object(root, "$", true, "buyer", "items", "fulfillment_address", "fulfillment_option_id")
	if !ok {
		return nil
	}
	in := &UpdateSessionInput{}
	in.Items = r.items(o, "items", false, r.item20250929)
	if v, p := o.get("buyer"); v != nil {
		in.Buyer = r.buyer20250929(v, p)
	}
	if v, p := o.get("fulfillment_address"); v != nil {
		if a := r.address(v, p, false); a != nil {
			in.FulfillmentDetails = &FulfillmentDetails{Address: a}
		}
	}
	if o.has("fulfillment_option_id") {
		id := o.reqStr("fulfillment_option_id", maxIDLen, true)
		in.SelectedFulfillment = []SelectedFulfillmentInput{{OptionID: id}}
	}
	return in
}

func (r *reader) complete20250929(root *jsonValue) *CompleteSessionInput {
	o, ok := r.object(root, "$", true, "buyer", "payment_data", "fulfillment_details")
	if !ok {
		return nil
	}
	in := &CompleteSessionInput{}
	if v, p := o.get("fulfillment_details"); v != nil {
		in.FulfillmentDetails = r.fulfillmentDetails(v, p) // the unreleased field (CompleteSessionInput)
	}
	if v, p := o.require("payment_data"); v != nil {
		if po, ok := r.strictObject(v, p, "token", "provider", "billing_address"); ok {
			in.Payment.Token = po.reqStr("token", maxIDLen, true)
			in.Payment.Provider = po.reqEnum("provider", ProviderStripe)
			if bv, bp := po.get("billing_address"); bv != nil {
				in.Payment.BillingAddress = r.address(bv, bp, false)
			}
		}
	}
	if v, p := o.get("buyer"); v != nil {
		in.Buyer = r.buyer20250929(v, p)
	}
	return in
}

func (r *reader) item20250929(v *jsonValue, path string) ItemInput {
	o, ok := r.object(v, path, true, "id", "quantity")
	if !ok {
		return ItemInput{}
	}
	it := ItemInput{ID: o.reqStr("id", maxIDLen, true)}
	if qv, qp := o.require("quantity"); qv != nil {
		it.Quantity = r.quantity(qv, qp)
	}
	return it
}

func (r *reader) buyer20250929(v *jsonValue, path string) *Buyer {
	o, ok := r.object(v, path, true, "first_name", "last_name", "email", "phone_number")
	if !ok {
		return nil
	}
	return &Buyer{
		FirstName:   o.reqStr("first_name", maxTextLen, true),
		LastName:    o.reqStr("last_name", maxTextLen, true),
		Email:       o.email("email", true),
		PhoneNumber: o.phone("phone_number"),
	}
}

// --- responses ---

type w25Session struct {
	ID                  string                 `json:"id"`
	Buyer               *w25Buyer              `json:"buyer,omitempty"`
	PaymentProvider     *w25PaymentProvider    `json:"payment_provider,omitempty"`
	Status              Status                 `json:"status"`
	Currency            string                 `json:"currency"`
	LineItems           []w25LineItem          `json:"line_items"`
	FulfillmentAddress  *w25Address            `json:"fulfillment_address,omitempty"`
	FulfillmentOptions  []w25FulfillmentOption `json:"fulfillment_options"`
	FulfillmentOptionID string                 `json:"fulfillment_option_id,omitempty"`
	Totals              []w25Total             `json:"totals"`
	Messages            []w25Message           `json:"messages"`
	Links               []w25Link              `json:"links"`
	Order               *w25Order              `json:"order,omitempty"`
}

type w25Buyer struct {
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	Email       string `json:"email"`
	PhoneNumber string `json:"phone_number,omitempty"`
}

type w25PaymentProvider struct {
	Provider                string   `json:"provider"`
	SupportedPaymentMethods []string `json:"supported_payment_methods"`
}

type w25Item struct {
	ID       string `json:"id"`
	Quantity int    `json:"quantity"`
}

type w25LineItem struct {
	ID         string  `json:"id"`
	Item       w25Item `json:"item"`
	BaseAmount int64   `json:"base_amount"`
	Discount   int64   `json:"discount"`
	Subtotal   int64   `json:"subtotal"`
	Tax        int64   `json:"tax"`
	Total      int64   `json:"total"`
}

type w25Address struct {
	Name       string `json:"name"`
	LineOne    string `json:"line_one"`
	LineTwo    string `json:"line_two,omitempty"`
	City       string `json:"city"`
	State      string `json:"state"`
	Country    string `json:"country"`
	PostalCode string `json:"postal_code"`
}

type w25FulfillmentOption struct {
	Type                 FulfillmentType `json:"type"`
	ID                   string          `json:"id"`
	Title                string          `json:"title"`
	Subtitle             string          `json:"subtitle,omitempty"`
	Carrier              string          `json:"carrier,omitempty"`
	EarliestDeliveryTime string          `json:"earliest_delivery_time,omitempty"`
	LatestDeliveryTime   string          `json:"latest_delivery_time,omitempty"`
	Subtotal             int64           `json:"subtotal"`
	Tax                  int64           `json:"tax"`
	Total                int64           `json:"total"`
}

type w25Total struct {
	Type        TotalType `json:"type"`
	DisplayText string    `json:"display_text"`
	Amount      int64     `json:"amount"`
}

type w25Message struct {
	Type        MessageType `json:"type"`
	Code        MessageCode `json:"code,omitempty"`
	Param       string      `json:"param,omitempty"`
	ContentType ContentType `json:"content_type"`
	Content     string      `json:"content"`
}

type w25Link struct {
	Type string `json:"type"`
	URL  string `json:"url"`
}

type w25Order struct {
	ID                string `json:"id"`
	CheckoutSessionID string `json:"checkout_session_id"`
	PermalinkURL      string `json:"permalink_url"`
}

// status20250929 maps a status to the five of 2025-09-29.
func status20250929(s Status) (Status, error) {
	switch s {
	case StatusNotReadyForPayment, StatusReadyForPayment, StatusCompleted, StatusCanceled, StatusInProgress:
		return s, nil
	case StatusIncomplete, StatusRequiresEscalation, StatusPendingApproval:
		return StatusNotReadyForPayment, nil
	case StatusCompleteInProgress:
		return StatusInProgress, nil
	case StatusExpired:
		return StatusCanceled, nil
	}
	return "", fmt.Errorf("status %q does not exist in %s", s, V20250929)
}

func encode20250929(s *Session) ([]byte, error) {
	status, err := status20250929(s.Status)
	if err != nil {
		return nil, err
	}
	if len(s.SelectedFulfillment) > 1 {
		return nil, fmt.Errorf("%s selects one fulfillment option, not %d", V20250929, len(s.SelectedFulfillment))
	}
	totals, err := s.Totals()
	if err != nil {
		return nil, err
	}
	currency, _ := NormalizeCurrency(s.Currency)
	w := w25Session{
		ID:                 s.ID,
		Status:             status,
		Currency:           currency,
		LineItems:          make([]w25LineItem, 0, len(s.LineItems)),
		FulfillmentOptions: make([]w25FulfillmentOption, 0, len(s.FulfillmentOptions)),
		Totals:             make([]w25Total, 0, len(totals)),
		Messages:           make([]w25Message, 0, len(s.Messages)),
		Links:              make([]w25Link, 0, len(s.Links)),
	}
	if b := s.Buyer; b != nil && b.FirstName != "" && b.LastName != "" && b.Email != "" {
		w.Buyer = &w25Buyer{FirstName: b.FirstName, LastName: b.LastName, Email: b.Email, PhoneNumber: b.PhoneNumber}
	}
	for _, h := range s.PaymentHandlers {
		if h.PSP == ProviderStripe {
			w.PaymentProvider = &w25PaymentProvider{Provider: ProviderStripe, SupportedPaymentMethods: []string{"card"}}
			break
		}
	}
	for _, l := range s.LineItems {
		w.LineItems = append(w.LineItems, w25LineItem{
			ID:         l.ID,
			Item:       w25Item{ID: l.ItemID, Quantity: l.Quantity},
			BaseAmount: l.BaseAmount(),
			Discount:   l.Discount,
			Subtotal:   l.Subtotal(),
			Tax:        l.Tax,
			Total:      l.Total(),
		})
	}
	if fd := s.FulfillmentDetails; fd != nil && fd.Address != nil {
		w.FulfillmentAddress = address20250929(fd.Address)
	}
	for _, f := range s.FulfillmentOptions {
		w.FulfillmentOptions = append(w.FulfillmentOptions, w25FulfillmentOption{
			Type:                 f.Type,
			ID:                   f.ID,
			Title:                f.Title,
			Subtitle:             f.Subtitle,
			Carrier:              f.Carrier,
			EarliestDeliveryTime: formatTime(f.EarliestDelivery),
			LatestDeliveryTime:   formatTime(f.LatestDelivery),
			Subtotal:             f.Subtotal,
			Tax:                  f.Tax,
			Total:                f.Total(),
		})
	}
	if len(s.SelectedFulfillment) == 1 {
		w.FulfillmentOptionID = s.SelectedFulfillment[0].OptionID
	}
	for _, t := range totals {
		w.Totals = append(w.Totals, w25Total{Type: t.Type, DisplayText: t.DisplayText, Amount: t.Amount})
	}
	for _, m := range s.Messages {
		wm := w25Message{Type: m.Type, Code: m.Code, Param: m.Param, ContentType: m.ContentType, Content: m.Content}
		switch m.Type {
		case MessageWarning:
			// No warnings in 2025-09-29: an info message says the same.
			wm.Type, wm.Code = MessageInfo, ""
		case MessageError:
			if !containsCode(errorCodes20250929, m.Code) {
				wm.Code = MessageCodeInvalid
			}
		}
		w.Messages = append(w.Messages, wm)
	}
	for _, l := range s.Links {
		switch l.Type {
		case LinkTypeTermsOfUse, LinkTypePrivacyPolicy:
			w.Links = append(w.Links, w25Link{Type: string(l.Type), URL: l.URL})
		case LinkTypeReturnPolicy, LinkTypeShippingPolicy:
			w.Links = append(w.Links, w25Link{Type: "seller_shop_policies", URL: l.URL})
		}
	}
	if o := s.Order; o != nil {
		w.Order = &w25Order{ID: o.ID, CheckoutSessionID: o.CheckoutSessionID, PermalinkURL: o.PermalinkURL}
	}
	return marshal(w)
}

func address20250929(a *Address) *w25Address {
	country, _ := NormalizeCountry(a.Country)
	return &w25Address{
		Name: a.Name, LineOne: a.LineOne, LineTwo: a.LineTwo, City: a.City,
		State: a.State, Country: country, PostalCode: a.PostalCode,
	}
}

// formatTime formats a time as RFC 3339 in UTC; the zero time gives "".
func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// marshal encodes without HTML escaping (the bodies are JSON for agents,
// and markdown content keeps its "<" and ">" readable).
func marshal(v any) ([]byte, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return []byte(strings.TrimSuffix(b.String(), "\n")), nil
}

// EncodeSession returns the checkout session in the wire shape of version
// v: the response body of create, update, get, complete and cancel. It
// validates the session first (Session.Validate) and refuses states the
// version cannot express. Down-mapping to 2025-09-29:
//
//   - statuses incomplete, requires_escalation and pending_approval are sent
//     as not_ready_for_payment, complete_in_progress as in_progress and
//     expired as canceled; authentication_required is refused;
//   - warnings are sent as info messages, error codes it lacks as "invalid";
//   - return_policy and shipping_policy links as seller_shop_policies, the
//     other link types it lacks are left out;
//   - only the order's id, checkout_session_id and permalink_url are sent,
//     and at most one selected fulfillment option (fulfillment_option_id).
func EncodeSession(v Version, s *Session) ([]byte, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var b []byte
	var err error
	switch v {
	case V20250929:
		b, err = encode20250929(s)
	case V20260417:
		b, err = encode20260417(s)
	default:
		return nil, fmt.Errorf("acp: EncodeSession: unsupported version %q", v)
	}
	if err != nil {
		return nil, fmt.Errorf("acp: session %q for %s: %w", s.ID, v, err)
	}
	return b, nil
}
