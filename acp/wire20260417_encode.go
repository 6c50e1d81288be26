package acp

import (
	"fmt"
	"strings"
)

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
	Discounts                  *w26Discounts            `json:"discounts,omitempty"`
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
	Extensions    []w26Extension    `json:"extensions,omitempty"`
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
		Discounts:          discounts20260417(s.Discounts),
	}
	w.Capabilities.Extensions = extensions20260417(s.Extensions)
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
