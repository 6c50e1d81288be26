package shopify

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// This file writes draft orders for the handoff to Shopify's checkout: the
// app creates a draft holding the priced cart, the buyer pays at its
// invoiceUrl, and Shopify turns it into an order (draft_orders/update,
// orders/create, orders/paid). Unlike orderCreate, nothing here records a
// payment: Shopify's checkout takes it, which is what the App Store allows.

// ErrDraftOrderNotFound is a draft order that does not exist (deleted, or
// never created). It matches ErrNotFound too.
var ErrDraftOrderNotFound = fmt.Errorf("draft order: %w", ErrNotFound)

// DraftOrderWrite is a draft order to create or replace.
type DraftOrderWrite struct {
	// DraftOrderInput holds the lines, email, shipping address and
	// discount codes; its ShippingRateHandle is unused here (ShippingLine
	// says it).
	DraftOrderInput
	// ShippingLine is the chosen rate, nil for none.
	ShippingLine *DraftShippingLine
	// ReserveInventoryUntil holds the stock until then; nil for no
	// reservation.
	ReserveInventoryUntil *time.Time
	// CustomAttributes are carried onto the order's note attributes, e.g.
	// "acpbridge_session" → the session id. Sent sorted by key.
	CustomAttributes map[string]string
	Tags             []string
	// SourceName is the order's source, e.g. "acpbridge".
	SourceName string
}

// DraftShippingLine is a draft order's shipping line: a rate of a previous
// quote (Handle), or, without a handle, a custom line of that Title and
// Price (a decimal string in the shop currency).
type DraftShippingLine struct{ Title, Price, Handle string }

// DraftOrder is a draft order as Shopify answers it.
type DraftOrder struct {
	// ID is the DraftOrder GID, Name e.g. "#D1".
	ID   string
	Name string
	// InvoiceURL is Shopify's checkout for the draft.
	InvoiceURL string
	// Status is OPEN, INVOICE_SENT or COMPLETED.
	Status string
	// OrderID is the Order GID once paid, "" before.
	OrderID string
	// TotalPrice is a decimal string in Currency.
	TotalPrice, Currency  string
	ReserveInventoryUntil *time.Time
}

// draftOrderFields is what DraftOrder carries.
const draftOrderFields = `id name invoiceUrl status order { id } currencyCode reserveInventoryUntil
      totalPriceSet { shopMoney { amount currencyCode } }`

const createDraftOrderMutation = `mutation CreateDraftOrder($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) {
    draftOrder { ` + draftOrderFields + ` }
    userErrors { field message }
  }
}`

const updateDraftOrderMutation = `mutation UpdateDraftOrder($id: ID!, $input: DraftOrderInput!) {
  draftOrderUpdate(id: $id, input: $input) {
    draftOrder { ` + draftOrderFields + ` }
    userErrors { field message }
  }
}`

const deleteDraftOrderMutation = `mutation DeleteDraftOrder($input: DraftOrderDeleteInput!) {
  draftOrderDelete(input: $input) {
    deletedId
    userErrors { field message }
  }
}`

const getDraftOrderQuery = `query DraftOrder($id: ID!) {
  draftOrder(id: $id) { ` + draftOrderFields + ` }
}`

// draftOrderJSON decodes draftOrderFields.
type draftOrderJSON struct {
	ID         string  `json:"id"`
	Name       string  `json:"name"`
	InvoiceURL *string `json:"invoiceUrl"`
	Status     string  `json:"status"`
	Order      *struct {
		ID string `json:"id"`
	} `json:"order"`
	CurrencyCode          string   `json:"currencyCode"`
	ReserveInventoryUntil *string  `json:"reserveInventoryUntil"`
	TotalPriceSet         moneyBag `json:"totalPriceSet"`
}

func (j *draftOrderJSON) draftOrder() (*DraftOrder, error) {
	d := &DraftOrder{
		ID: j.ID, Name: j.Name, InvoiceURL: deref(j.InvoiceURL), Status: j.Status,
		TotalPrice: j.TotalPriceSet.ShopMoney.Amount, Currency: j.TotalPriceSet.ShopMoney.CurrencyCode,
	}
	if d.Currency == "" {
		d.Currency = j.CurrencyCode
	}
	if j.Order != nil {
		d.OrderID = j.Order.ID
	}
	if r := deref(j.ReserveInventoryUntil); r != "" {
		t, err := time.Parse(time.RFC3339, r)
		if err != nil {
			return nil, fmt.Errorf("draft order %s: reserveInventoryUntil %q: %w", j.ID, r, err)
		}
		d.ReserveInventoryUntil = &t
	}
	return d, nil
}

// input is the DraftOrderInput of a write.
func (in *DraftOrderWrite) input() (map[string]any, error) {
	if len(in.Lines) == 0 {
		return nil, errors.New("no lines")
	}
	m := draftOrderInput(in.DraftOrderInput)
	if sl := in.ShippingLine; sl != nil {
		switch {
		case sl.Handle != "":
			m["shippingLine"] = map[string]any{"shippingRateHandle": sl.Handle}
		case strings.TrimSpace(sl.Title) != "":
			// Money without a currency is the shop's: the caller knows only
			// the decimal string, as the quote gave it.
			m["shippingLine"] = map[string]any{"title": sl.Title, "price": sl.Price}
		default:
			return nil, errors.New("shipping line has neither handle nor title")
		}
	}
	if in.ReserveInventoryUntil != nil {
		m["reserveInventoryUntil"] = in.ReserveInventoryUntil.UTC().Format(time.RFC3339)
	}
	if len(in.CustomAttributes) > 0 {
		keys := make([]string, 0, len(in.CustomAttributes))
		for k := range in.CustomAttributes {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		attrs := make([]any, len(keys))
		for i, k := range keys {
			attrs[i] = map[string]any{"key": k, "value": in.CustomAttributes[k]}
		}
		m["customAttributes"] = attrs
	}
	if len(in.Tags) > 0 {
		m["tags"] = in.Tags
	}
	if in.SourceName != "" {
		m["sourceName"] = in.SourceName
	}
	return m, nil
}

// draftPayload decodes a draftOrderCreate or draftOrderUpdate answer.
type draftPayload struct {
	DraftOrder *draftOrderJSON `json:"draftOrder"`
	UserErrors []UserError     `json:"userErrors"`
}

func (p *draftPayload) result(op string) (*DraftOrder, error) {
	if p == nil {
		return nil, fmt.Errorf("%s: no payload", op)
	}
	if err := UserErrorsErr(op, p.UserErrors); err != nil {
		return nil, err
	}
	if p.DraftOrder == nil {
		return nil, fmt.Errorf("%s: no draft order", op)
	}
	return p.DraftOrder.draftOrder()
}

// CreateDraftOrder creates a draft order with draftOrderCreate. Input
// Shopify refuses comes back as a *UserErrorsError.
func CreateDraftOrder(ctx context.Context, q Querier, shop string, in DraftOrderWrite) (*DraftOrder, error) {
	input, err := in.input()
	if err != nil {
		return nil, fmt.Errorf("create draft order: %w", err)
	}
	var resp struct {
		P *draftPayload `json:"draftOrderCreate"`
	}
	if err := q.Query(ctx, shop, createDraftOrderMutation, map[string]any{"input": input}, &resp); err != nil {
		return nil, fmt.Errorf("create draft order: %w", err)
	}
	return resp.P.result("draftOrderCreate")
}

// UpdateDraftOrder replaces draft order id (a GID) with in, whole: lines,
// email, address, shipping, discounts, reservation, attributes, tags and
// source. A completed draft cannot change: Shopify refuses with a
// *UserErrorsError.
func UpdateDraftOrder(ctx context.Context, q Querier, shop, id string, in DraftOrderWrite) (*DraftOrder, error) {
	input, err := in.input()
	if err != nil {
		return nil, fmt.Errorf("update draft order %s: %w", id, err)
	}
	// draftOrderUpdate keeps the fields it is not given: clear those in
	// is without, explicitly.
	for _, k := range []string{"email", "shippingAddress", "shippingLine", "reserveInventoryUntil", "sourceName", "acceptAutomaticDiscounts"} {
		if _, ok := input[k]; !ok {
			input[k] = nil
		}
	}
	for _, k := range []string{"discountCodes", "customAttributes", "tags"} {
		if _, ok := input[k]; !ok {
			input[k] = []any{}
		}
	}
	var resp struct {
		P *draftPayload `json:"draftOrderUpdate"`
	}
	if err := q.Query(ctx, shop, updateDraftOrderMutation, map[string]any{"id": id, "input": input}, &resp); err != nil {
		return nil, fmt.Errorf("update draft order %s: %w", id, err)
	}
	return resp.P.result("draftOrderUpdate")
}

// DeleteDraftOrder deletes draft order id, releasing its reservation. A
// draft that does not exist (already deleted) is not an error: deleting
// twice is safe. Other refusals are a *UserErrorsError.
func DeleteDraftOrder(ctx context.Context, q Querier, shop, id string) error {
	var resp struct {
		P *struct {
			DeletedID  *string     `json:"deletedId"`
			UserErrors []UserError `json:"userErrors"`
		} `json:"draftOrderDelete"`
	}
	if err := q.Query(ctx, shop, deleteDraftOrderMutation, map[string]any{"input": map[string]any{"id": id}}, &resp); err != nil {
		return fmt.Errorf("delete draft order %s: %w", id, err)
	}
	if resp.P == nil {
		return fmt.Errorf("delete draft order %s: no payload", id)
	}
	uerr := UserErrorsErr("draftOrderDelete", resp.P.UserErrors)
	if uerr == nil {
		return nil
	}
	// Shopify's message for an unknown id is not a stable contract: ask
	// whether the draft still exists instead of reading it.
	if _, err := GetDraftOrder(ctx, q, shop, id); errors.Is(err, ErrDraftOrderNotFound) {
		return nil
	}
	return uerr
}

// GetDraftOrder reads draft order id; one that does not exist is an error
// matching ErrDraftOrderNotFound (and ErrNotFound).
func GetDraftOrder(ctx context.Context, q Querier, shop, id string) (*DraftOrder, error) {
	var resp struct {
		DraftOrder *draftOrderJSON `json:"draftOrder"`
	}
	if err := q.Query(ctx, shop, getDraftOrderQuery, map[string]any{"id": id}, &resp); err != nil {
		return nil, fmt.Errorf("get draft order %s: %w", id, err)
	}
	if resp.DraftOrder == nil {
		return nil, fmt.Errorf("get draft order %s: %w", id, ErrDraftOrderNotFound)
	}
	return resp.DraftOrder.draftOrder()
}
