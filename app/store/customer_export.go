package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
)

// CustomerExport gathers what we hold on a customer of the shop, for a
// customers/data_request: the checkout sessions and carts of the
// customer's email (found by its blind index, personal.go), each with its
// buyer, fulfillment details, lines and Shopify order, opened. A row is
// exported only when the email of its opened buyer (or recipient) is the
// customer's, so the export holds that customer's data and nothing of
// another. Webhook deliveries are not exported: they are Shopify's own
// data, and a processed one keeps no payload.
func (s *Store) CustomerExport(ctx context.Context, shop string, c app.CustomerRef) (*app.CustomerExport, error) {
	out := &app.CustomerExport{
		Shop: shop, Customer: app.ExportedCustomer{ID: c.ID, Email: c.Email}, GeneratedAt: s.Now().UTC(),
		CheckoutSessions: []app.ExportedCheckout{}, Carts: []app.ExportedCart{},
	}
	want := app.NormalizeEmail(c.Email)
	if want == "" {
		return out, nil
	}
	var rows []checkoutSessionRow
	if err := s.customerSessions(ctx, shop, c).Order("created_at, id").Find(&rows).Error; err != nil {
		return nil, translate(err, "customer export: sessions")
	}
	for _, r := range rows {
		cs, err := s.toCheckoutSession(r)
		if err != nil {
			return nil, fmt.Errorf("customer export: %w", err)
		}
		st := cs.State
		if !sameEmail(want, st.Buyer, st.Fulfillment) {
			continue
		}
		e := app.ExportedCheckout{
			ID: cs.ID, Status: string(cs.Status), Currency: cs.Currency, CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt,
			Buyer: exportBuyer(st.Buyer), OrderNotes: st.OrderNotes, Lines: exportLines(st.Quote.Lines, st.Items),
		}
		if f := st.Fulfillment; f != nil {
			e.Fulfillment = &app.ExportedFulfillment{Name: f.Name, Phone: f.PhoneNumber, Email: f.Email, Address: exportAddress(f.Address)}
		}
		if p, err := s.CheckoutPayment(ctx, cs.ID); err == nil {
			e.BillingAddress = exportAddress(p.Details.BillingAddress)
			if e.OrderNotes == "" {
				e.OrderNotes = p.Details.OrderNotes
			}
		} else if !errors.Is(err, app.ErrNotFound) {
			return nil, fmt.Errorf("customer export: %w", err)
		}
		if o := st.Order; o != nil {
			e.Order = &app.ExportedOrder{ID: o.ID, Name: o.Name}
		}
		out.CheckoutSessions = append(out.CheckoutSessions, e)
	}
	var carts []cartRow
	if err := s.customerCarts(ctx, shop, c).Order("created_at, id").Find(&carts).Error; err != nil {
		return nil, translate(err, "customer export: carts")
	}
	for _, r := range carts {
		ct, err := s.toCart(r)
		if err != nil {
			return nil, fmt.Errorf("customer export: %w", err)
		}
		if !sameEmail(want, ct.State.Buyer, nil) {
			continue
		}
		out.Carts = append(out.Carts, app.ExportedCart{
			ID: ct.ID, Currency: ct.Currency, CreatedAt: ct.CreatedAt, UpdatedAt: ct.UpdatedAt,
			Buyer: exportBuyer(ct.State.Buyer), Lines: exportLines(ct.State.Quote.Lines, ct.State.Items),
		})
	}
	return out, nil
}

// sameEmail reports whether the buyer's or the recipient's email is want
// (normalized).
func sameEmail(want string, b *acp.Buyer, f *acp.FulfillmentDetails) bool {
	return (b != nil && app.NormalizeEmail(b.Email) == want) || (f != nil && app.NormalizeEmail(f.Email) == want)
}

func exportBuyer(b *acp.Buyer) *app.ExportedBuyer {
	if b == nil {
		return nil
	}
	return &app.ExportedBuyer{FirstName: b.FirstName, LastName: b.LastName, FullName: b.FullName, Email: b.Email, Phone: b.PhoneNumber}
}

func exportAddress(a *acp.Address) *app.ExportedAddress {
	if a == nil {
		return nil
	}
	return &app.ExportedAddress{Name: a.Name, Company: a.Company, LineOne: a.LineOne, LineTwo: a.LineTwo, City: a.City,
		State: a.State, Country: a.Country, PostalCode: a.PostalCode}
}

// exportLines are the priced lines, or the requested items while nothing
// was priced.
func exportLines(quoted []checkout.QuotedLine, items []checkout.CartItem) []app.ExportedLine {
	out := []app.ExportedLine{}
	if len(quoted) > 0 {
		for _, l := range quoted {
			out = append(out, app.ExportedLine{ItemID: l.ItemID, Title: l.Title, Variant: l.VariantTitle, Quantity: l.Quantity, UnitAmount: l.UnitAmount})
		}
		return out
	}
	for _, it := range items {
		out = append(out, app.ExportedLine{ItemID: it.ItemID, Quantity: it.Quantity})
	}
	return out
}
