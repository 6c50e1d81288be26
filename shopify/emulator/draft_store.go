package emulator

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file holds the shop's draft orders: what draftOrderCreate and
// draftOrderUpdate write (priced as draftOrderCalculate prices them), the
// stock they hold until reserveInventoryUntil, and their completion when the
// buyer pays at the invoice URL (checkout_page.go). A reservation takes the
// held quantity out of the variant's available stock, so nobody else can
// sell it; deleting the draft, replacing its lines or the time passing gives
// it back, and paying turns it into the order's consumption.

// DraftOrder is a draft order of an emulated shop. Drafts returns copies.
type DraftOrder struct {
	ID int64
	// Number is 1, 2, …; Name "#D1".
	Number int
	Name   string
	// Status is OPEN or COMPLETED.
	Status string
	// InvoiceURL is the buyer checkout page on the emulator.
	InvoiceURL      string
	Email           string
	ShippingAddress *Address
	// Lines are priced: UnitCents the unit price, TaxLines the line's
	// tax; Shipping is nil without a shipping line.
	Lines    []OrderLine
	Shipping *OrderShippingLine
	// DiscountCode is the code applied ("" for none), DiscountCents every
	// discount (lines' and order's).
	DiscountCode                                       string
	DiscountCents                                      int64
	SubtotalCents, ShippingCents, TaxCents, TotalCents int64
	CustomAttributes                                   []Attribute
	Tags                                               []string
	SourceName                                         string
	// ReserveInventoryUntil is zero without a reservation. Reserved is the
	// stock held now, by variant id (empty once released or consumed).
	ReserveInventoryUntil time.Time
	Reserved              map[int64]int
	// OrderID is the order the payment created, 0 before.
	OrderID                           int64
	CompletedAt, CreatedAt, UpdatedAt time.Time
	token                             string
	// input is the DraftOrderInput the draft stands on: draftOrderUpdate
	// changes the fields it is given and keeps the others, as Shopify does.
	input map[string]any
}

// GID is the draft's Admin API id.
func (d *DraftOrder) GID() string { return gid("DraftOrder", d.ID) }

func (d *DraftOrder) clone() DraftOrder {
	c := *d
	if d.ShippingAddress != nil {
		a := *d.ShippingAddress
		c.ShippingAddress = &a
	}
	c.Lines = slices.Clone(d.Lines)
	for i := range c.Lines {
		c.Lines[i].TaxLines = slices.Clone(c.Lines[i].TaxLines)
	}
	if d.Shipping != nil {
		sl := *d.Shipping
		sl.TaxLines = slices.Clone(sl.TaxLines)
		c.Shipping = &sl
	}
	c.CustomAttributes = slices.Clone(d.CustomAttributes)
	c.Tags = slices.Clone(d.Tags)
	c.input = maps.Clone(d.input)
	c.Reserved = map[int64]int{}
	for k, v := range d.Reserved {
		c.Reserved[k] = v
	}
	return c
}

// draftBook is one shop's draft orders, guarded by Emulator.mu.
type draftBook struct {
	drafts     []*DraftOrder // ascending ID; deleted ones are removed
	nextNumber int
}

// draft finds a draft by numeric id.
func (s *shopState) draft(id int64) *DraftOrder {
	for _, d := range s.drafts.drafts {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// draftByToken finds a draft by its invoice URL token.
func (s *shopState) draftByToken(token string) *DraftOrder {
	for _, d := range s.drafts.drafts {
		if token != "" && d.token == token {
			return d
		}
	}
	return nil
}

// reserve holds the draft's tracked stock until d.ReserveInventoryUntil:
// as much of each line as is available (an oversold line holds what there
// is, as Shopify's reservation does).
func (s *shopState) reserve(d *DraftOrder, now time.Time) {
	d.Reserved = map[int64]int{}
	if d.ReserveInventoryUntil.IsZero() || !now.Before(d.ReserveInventoryUntil) {
		return
	}
	for _, l := range d.Lines {
		p, v := s.variant(l.VariantID)
		if v == nil || !v.Tracked {
			continue
		}
		hold := min(l.Quantity, max(v.InventoryQuantity, 0))
		if hold == 0 {
			continue
		}
		v.InventoryQuantity -= hold
		v.UpdatedAt, p.UpdatedAt = now, now
		d.Reserved[v.ID] += hold
	}
}

// release gives the draft's held stock back.
func (s *shopState) release(d *DraftOrder, now time.Time) {
	for vid, n := range d.Reserved {
		if p, v := s.variant(vid); v != nil {
			v.InventoryQuantity += n
			v.UpdatedAt, p.UpdatedAt = now, now
		}
	}
	d.Reserved = map[int64]int{}
}

// sweepDrafts releases the reservations that ran out.
func (s *shopState) sweepDrafts(now time.Time) {
	for _, d := range s.drafts.drafts {
		if len(d.Reserved) > 0 && !now.Before(d.ReserveInventoryUntil) {
			s.release(d, now)
		}
	}
}

// Errors of PayDraft, which the checkout page answers with 4xx pages.
var (
	// ErrDraftCompleted is a draft already paid.
	ErrDraftCompleted = errors.New("emulator: draft order is already completed")
	// ErrSoldOut is a line whose stock (not held for the draft) ran out.
	ErrSoldOut = errors.New("emulator: not enough stock")
)

// payment is what a completed checkout sends.
type payment struct {
	order *Order
	hooks []webhook
}

// payDraft completes the draft with the test card: an order with the
// draft's lines, totals, email, address and attributes, PAID, its stock
// taken (from the reservation first). The caller holds e.mu.
func (e *Emulator) payDraft(s *shopState, d *DraftOrder, email string, now time.Time) (*payment, error) {
	if d.Status == "COMPLETED" {
		return nil, fmt.Errorf("pay %s: %w", d.Name, ErrDraftCompleted)
	}
	// Stock the reservation does not cover must be available now.
	need := map[int64]int{}
	for _, l := range d.Lines {
		need[l.VariantID] += l.Quantity
	}
	for vid, n := range need {
		_, v := s.variant(vid)
		if v == nil || !v.Tracked {
			continue
		}
		if extra := n - d.Reserved[vid]; extra > 0 && v.InventoryPolicy == "DENY" && extra > v.InventoryQuantity {
			return nil, fmt.Errorf("pay %s: %s: %w", d.Name, v.Title, ErrSoldOut)
		}
	}
	if strings.TrimSpace(email) != "" {
		d.Email = strings.TrimSpace(email)
	}
	if s.orders.nextNumber == 0 {
		s.orders.nextNumber = 1001
	}
	o := &Order{
		ID: s.newID(), Number: s.orders.nextNumber, Currency: shopCurrency, Email: d.Email,
		ShippingAddress: cloneAddress(d.ShippingAddress), BillingAddress: cloneAddress(d.ShippingAddress),
		DiscountCode: d.DiscountCode, DiscountKind: "FIXED_AMOUNT", DiscountCents: d.DiscountCents,
		SubtotalCents: d.SubtotalCents, ShippingCents: d.ShippingCents, TaxCents: d.TaxCents, TotalCents: d.TotalCents,
		FinancialStatus: "PAID", SourceName: orDefault(d.SourceName, "shopify_draft_order"),
		Tags: slices.Clone(d.Tags), CustomAttributes: slices.Clone(d.CustomAttributes), Test: true,
		InventoryBehaviour: "DECREMENT_OBEYING_POLICY", SendReceipt: true,
		ProcessedAt: now, CreatedAt: now, UpdatedAt: now, token: randomHex(16),
	}
	if d.DiscountCents == 0 {
		o.DiscountKind = ""
	}
	s.orders.nextNumber++
	o.Name = "#" + strconv.Itoa(o.Number)
	o.StatusPageURL = fmt.Sprintf("https://%s/%d/orders/%s/authenticate?key=%s", s.domain, s.id, o.token, randomHex(16))
	var shipping []OrderShippingLine
	if d.Shipping != nil {
		shipping = append(shipping, *d.Shipping)
	}
	sale := OrderTransaction{
		Kind: "SALE", Status: "SUCCESS", Gateway: "bogus", AuthorizationCode: "53433", AmountCents: d.TotalCents, Test: true, ProcessedAt: now,
	}
	s.addOrderRows(o, slices.Clone(d.Lines), shipping, []OrderTransaction{sale})
	if o.Email != "" {
		s.setOrderCustomer(o, &customerInput{email: o.Email}, nil, now)
	}

	// The reservation becomes the order's stock; the rest is taken now.
	var hooks []webhook
	for vid, n := range need {
		p, v := s.variant(vid)
		if v == nil || !v.Tracked {
			continue
		}
		if extra := n - d.Reserved[vid]; extra > 0 {
			v.InventoryQuantity -= extra
		}
		v.UpdatedAt, p.UpdatedAt = now, now
		hooks = append(hooks, webhook{"inventory_levels/update", inventoryLevelPayload(s, v, now)})
	}
	d.Reserved = map[int64]int{}
	d.Status, d.OrderID, d.CompletedAt, d.UpdatedAt = "COMPLETED", o.ID, now, now
	s.orders.orders = append(s.orders.orders, o)
	hooks = append(hooks,
		webhook{"draft_orders/update", draftOrderPayload(d)},
		webhook{"orders/create", orderPayload(s, o)},
		webhook{"orders/paid", orderPayload(s, o)},
	)
	return &payment{order: o, hooks: hooks}, nil
}

func cloneAddress(a *Address) *Address {
	if a == nil {
		return nil
	}
	c := *a
	return &c
}

// draftOrderPayload is the REST draft order, the draft_orders/update body.
func draftOrderPayload(d *DraftOrder) map[string]any {
	var orderID, completedAt, reserve any
	if d.OrderID != 0 {
		orderID = d.OrderID
	}
	if !d.CompletedAt.IsZero() {
		completedAt = restTime(d.CompletedAt)
	}
	if !d.ReserveInventoryUntil.IsZero() {
		reserve = restTime(d.ReserveInventoryUntil)
	}
	lines := make([]any, len(d.Lines))
	for i, l := range d.Lines {
		lines[i] = map[string]any{
			"id": l.ID, "admin_graphql_api_id": gid("DraftOrderLineItem", l.ID), "variant_id": l.VariantID, "product_id": l.ProductID,
			"title": l.Title, "variant_title": nilIfEmpty(l.VariantTitle), "sku": nilIfEmpty(l.SKU), "quantity": l.Quantity,
			"price": formatMoney(l.UnitCents), "taxable": l.Taxable, "requires_shipping": l.RequiresShipping,
			"tax_lines": restTaxLines(l.TaxLines), "custom": l.VariantID == 0, "properties": []any{},
		}
	}
	attrs := make([]any, len(d.CustomAttributes))
	for i, a := range d.CustomAttributes {
		attrs[i] = map[string]any{"name": a.Key, "value": a.Value}
	}
	var shipping any
	if sl := d.Shipping; sl != nil {
		shipping = map[string]any{"title": sl.Title, "price": formatMoney(sl.Cents), "handle": nilIfEmpty(sl.Code), "custom": sl.Source == ""}
	}
	return map[string]any{
		"id": d.ID, "admin_graphql_api_id": d.GID(), "name": d.Name, "status": strings.ToLower(d.Status),
		"order_id": orderID, "email": nilIfEmpty(d.Email), "currency": shopCurrency, "invoice_url": d.InvoiceURL,
		"invoice_sent_at": nil, "taxes_included": false, "tax_exempt": false, "note": nil, "note_attributes": attrs,
		"tags": strings.Join(d.Tags, ", "), "source_name": nilIfEmpty(d.SourceName),
		"subtotal_price": formatMoney(d.SubtotalCents), "total_tax": formatMoney(d.TaxCents), "total_price": formatMoney(d.TotalCents),
		"line_items": lines, "shipping_line": shipping, "shipping_address": restAddress(d.ShippingAddress),
		"billing_address": restAddress(d.ShippingAddress), "reserve_inventory_until": reserve,
		"created_at": restTime(d.CreatedAt), "updated_at": restTime(d.UpdatedAt), "completed_at": completedAt,
	}
}

// Drafts returns copies of the shop's draft orders (deleted ones are gone),
// oldest first, or nil for an unknown shop.
func (e *Emulator) Drafts(shop string) []DraftOrder {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	if s == nil {
		return nil
	}
	s.sweepDrafts(e.now())
	out := make([]DraftOrder, len(s.drafts.drafts))
	for i, d := range s.drafts.drafts {
		out[i] = d.clone()
	}
	return out
}

// Draft returns a copy of a draft order (id is a GID or a number), with its
// reservation as it stands now.
func (e *Emulator) Draft(shop, id string) (DraftOrder, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	did, ok := parseGID(id, "DraftOrder")
	if s == nil || !ok || s.draft(did) == nil {
		return DraftOrder{}, fmt.Errorf("draft order %s in %s: %w", id, shop, ErrNotFound)
	}
	s.sweepDrafts(e.now())
	return s.draft(did).clone(), nil
}

// Reserved is the stock the draft holds now, by variant GID (none once
// deleted, expired or paid).
func (e *Emulator) Reserved(shop, id string) map[string]int {
	d, err := e.Draft(shop, id)
	out := map[string]int{}
	if err != nil {
		return out
	}
	for vid, n := range d.Reserved {
		out[gid("ProductVariant", vid)] = n
	}
	return out
}

// Payment is a paid checkout: the order it created and the webhooks sent,
// in order (inventory_levels/update…, draft_orders/update, orders/create,
// orders/paid); redeliver them with Redeliver.
type Payment struct {
	Order      Order
	Deliveries []*Delivery
}

// PayDraft pays the draft order at invoiceURL as a buyer at the checkout
// page does (POST), with email ("" keeps the draft's), and sends the
// webhooks synchronously. A completed draft is ErrDraftCompleted, a deleted
// or unknown one ErrNotFound, a line out of stock ErrSoldOut.
func (e *Emulator) PayDraft(invoiceURL, email string) (*Payment, error) {
	shop, token, ok := parseInvoiceURL(invoiceURL)
	if !ok {
		return nil, fmt.Errorf("pay %s: not an invoice URL: %w", invoiceURL, ErrNotFound)
	}
	return e.pay(shop, token, email)
}

// pay completes the draft with the token and delivers the webhooks.
func (e *Emulator) pay(shop, token, email string) (*Payment, error) {
	e.mu.Lock()
	s := e.shop(shop)
	var d *DraftOrder
	if s != nil {
		d = s.draftByToken(token)
	}
	if d == nil {
		e.mu.Unlock()
		return nil, fmt.Errorf("pay draft order in %s: %w", shop, ErrNotFound)
	}
	now := e.now()
	s.sweepDrafts(now)
	p, err := e.payDraft(s, d, email, now)
	installed := s.installed
	e.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := &Payment{Order: p.order.clone()}
	if !installed {
		return out, nil
	}
	for _, h := range p.hooks {
		ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
		d, err := e.SendWebhook(ctx, s.domain, h.topic, h.payload)
		cancel()
		if err != nil {
			e.log.Warn("webhook not delivered", "shop", s.domain, "topic", h.topic, "err", err)
		}
		if d != nil {
			out.Deliveries = append(out.Deliveries, d)
		}
	}
	return out, nil
}

// parseInvoiceURL reads the shop and token of an invoice URL (absolute, or
// a path).
func parseInvoiceURL(u string) (shop, token string, ok bool) {
	i := strings.Index(u, checkoutPathPrefix)
	if i < 0 {
		return "", "", false
	}
	rest := strings.TrimSuffix(u[i+len(checkoutPathPrefix):], "/")
	shop, token, ok = strings.Cut(rest, "/")
	return shop, token, ok && shop != "" && token != "" && !strings.Contains(token, "/")
}
