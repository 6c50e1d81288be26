package acp

import (
	"fmt"
	"time"
)

// Carts (2026-04-17 cart capability, spec/2026-04-17/schema.cart.json):
// a basket with estimated totals, no status, no payment. Version
// 2025-09-29 has no carts: its decoders and encoder refuse it, and the
// app answers a 2025-09-29 cart call as an unknown route.

// Cart is a cart as answered.
type Cart struct {
	ID string
	// Currency is an ISO 4217 code, sent lower-case.
	Currency  string
	Buyer     *Buyer
	LineItems []LineItem
	// Discount is an order-level discount not allocated to the lines.
	Discount int64
	// TaxEstimated: the lines' Tax are an estimate to show. When false the
	// tax total is left out, as the cart schema allows while the address
	// is unknown ("may be partial").
	TaxEstimated bool
	Messages     []Message
	// ContinueURL is where the buyer goes on with the cart (this app: the
	// shop's own checkout).
	ContinueURL string
	ExpiresAt   time.Time
}

// Totals is the cart's estimated totals list: ComputeTotals without
// fulfillment or fees, and without tax unless TaxEstimated.
func (c *Cart) Totals() ([]Total, error) {
	ts, err := ComputeTotals(c.LineItems, nil, c.Discount, nil, nil)
	if err != nil || c.TaxEstimated {
		return ts, err
	}
	out := ts[:0:0]
	for _, t := range ts {
		if t.Type == TotalTax {
			if t.Amount != 0 {
				return nil, fmt.Errorf("tax %d present but not estimated", t.Amount)
			}
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// CreateCartInput is a create cart request.
type CreateCartInput struct {
	Items  []ItemInput
	Buyer  *Buyer
	Locale string
	// Ignored are the fields the cart schema does not define.
	Ignored Ignored
}

// UpdateCartInput is an update cart request: a full replacement, so a nil
// Buyer means "no buyer", not "keep".
type UpdateCartInput struct {
	Items []ItemInput
	Buyer *Buyer
	// Ignored are the fields the cart schema does not define.
	Ignored Ignored
}

// DecodeCreateCart reads the body of a create cart request.
func DecodeCreateCart(v Version, body []byte) (*CreateCartInput, error) {
	root, r, err := beginCart(v, body, false)
	if err != nil {
		return nil, err
	}
	o, ok := r.object(root, "$", true, "line_items", "buyer", "locale")
	if !ok {
		return nil, r.failed() // not an object: the reader has said so
	}
	in := &CreateCartInput{}
	in.Items = r.items(o, "line_items", true, r.item20260417)
	if bv, p := o.get("buyer"); bv != nil {
		in.Buyer = r.buyer20260417(bv, p)
	}
	in.Locale = o.str("locale", 64)
	if r.err != nil {
		return nil, r.failed()
	}
	in.Ignored = r.ignored
	return in, nil
}

// DecodeUpdateCart reads the body of an update (PUT) cart request.
func DecodeUpdateCart(v Version, body []byte) (*UpdateCartInput, error) {
	root, r, err := beginCart(v, body, false)
	if err != nil {
		return nil, err
	}
	o, ok := r.object(root, "$", true, "line_items", "buyer")
	if !ok {
		return nil, r.failed()
	}
	in := &UpdateCartInput{}
	in.Items = r.items(o, "line_items", true, r.item20260417)
	if bv, p := o.get("buyer"); bv != nil {
		in.Buyer = r.buyer20260417(bv, p)
	}
	if r.err != nil {
		return nil, r.failed()
	}
	in.Ignored = r.ignored
	return in, nil
}

// DecodeCancelCart checks the optional body of a cancel cart request: empty
// or any JSON object, whose fields are ignored (the spec's request schema is
// a bare "type: object").
func DecodeCancelCart(v Version, body []byte) error {
	root, r, err := beginCart(v, body, true)
	if err != nil || root == nil {
		return err
	}
	r.object(root, "$", false)
	if r.err != nil {
		return r.err
	}
	return nil
}

// beginCart is begin for the cart operations, which 2026-04-17 introduced.
func beginCart(v Version, body []byte, optional bool) (*jsonValue, *reader, error) {
	if v == V20250929 {
		return nil, nil, invalid(CodeUnsupportedAPIVersion, "", "carts are not part of ACP %s; use API-Version %s", v, V20260417)
	}
	return begin(v, body, optional)
}

type w26Cart struct {
	ID          string        `json:"id"`
	LineItems   []w26LineItem `json:"line_items"`
	Buyer       *w26Buyer     `json:"buyer,omitempty"`
	Currency    string        `json:"currency"`
	Totals      []w26Total    `json:"totals"`
	Messages    []w26Message  `json:"messages,omitempty"`
	ContinueURL string        `json:"continue_url,omitempty"`
	ExpiresAt   string        `json:"expires_at,omitempty"`
}

// EncodeCart returns the cart's JSON for version v (2026-04-17 only).
func EncodeCart(v Version, c *Cart) ([]byte, error) {
	if v != V20260417 {
		return nil, fmt.Errorf("acp: EncodeCart: carts are not part of version %q", v)
	}
	if c.ID == "" {
		return nil, fmt.Errorf("acp: EncodeCart: cart without id")
	}
	currency, ok := NormalizeCurrency(c.Currency)
	if !ok {
		return nil, fmt.Errorf("acp: cart %q: bad currency %q", c.ID, c.Currency)
	}
	if c.ContinueURL != "" && !validURL(c.ContinueURL) {
		return nil, fmt.Errorf("acp: cart %q: continue URL must be an absolute http(s) URL", c.ID)
	}
	for i, m := range c.Messages {
		if err := m.Validate(); err != nil {
			return nil, fmt.Errorf("acp: cart %q: messages[%d]: %w", c.ID, i, err)
		}
	}
	totals, err := c.Totals()
	if err != nil {
		return nil, fmt.Errorf("acp: cart %q: %w", c.ID, err)
	}
	w := w26Cart{
		ID: c.ID, Currency: currency, LineItems: make([]w26LineItem, 0, len(c.LineItems)),
		Totals: totals20260417(totals), ContinueURL: c.ContinueURL, ExpiresAt: formatTime(c.ExpiresAt),
	}
	if b := c.Buyer; b != nil && b.Email != "" {
		w.Buyer = &w26Buyer{FirstName: b.FirstName, LastName: b.LastName, FullName: b.FullName, Email: b.Email, PhoneNumber: b.PhoneNumber}
	}
	for _, l := range c.LineItems {
		li := lineItem20260417(l)
		if !c.TaxEstimated {
			li.Totals = withoutTax(li.Totals)
		}
		w.LineItems = append(w.LineItems, li)
	}
	for _, m := range c.Messages {
		w.Messages = append(w.Messages, w26Message{Type: m.Type, Code: m.Code, Severity: m.Severity, Resolution: m.Resolution,
			Param: m.Param, ContentType: m.ContentType, Content: m.Content})
	}
	return marshal(w)
}

// withoutTax drops a line's tax total when the tax is not estimated; its
// total then equals its subtotal.
func withoutTax(ts []w26Total) []w26Total {
	out := ts[:0:0]
	for _, t := range ts {
		if t.Type != TotalTax {
			out = append(out, t)
		}
	}
	return out
}
