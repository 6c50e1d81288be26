package checkout

import (
	"context"
	"errors"
	"strings"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/shopify"
)

// ShopifyOrders is Orders through the Admin API (orderCreate), with the
// shop's own token.
type ShopifyOrders struct {
	Shopify shopify.Querier
	// Gateway names the payment on the Shopify order.
	Gateway string
}

// FindBySource implements Orders.
func (o *ShopifyOrders) FindBySource(ctx context.Context, shop, sessionID string) (*ShopOrder, error) {
	ord, err := shopify.FindOrderBySource(ctx, o.Shopify, shop, sessionID)
	if err != nil || ord == nil {
		return nil, err
	}
	return &ShopOrder{ID: ord.ID, Name: ord.Name, StatusURL: ord.StatusPageURL}, nil
}

// decimal writes minor units as Shopify's decimal amount.
func decimal(minor int64, currency string) string {
	return strings.TrimSuffix(feed.FormatPrice(minor, currency), " "+strings.ToUpper(currency))
}

// Create implements Orders: the quoted lines, tax and shipping, paid.
func (o *ShopifyOrders) Create(ctx context.Context, shop string, in OrderRequest) (*ShopOrder, error) {
	gateway := o.Gateway
	if gateway == "" {
		gateway = "acpbridge (Stripe)"
	}
	req := shopify.OrderInput{
		SourceIdentifier: in.SessionID, SourceName: "acpbridge", Currency: in.Currency,
		Payment: shopify.OrderPayment{Gateway: gateway, Amount: decimal(in.Total, in.Currency), AuthorizationCode: in.PaymentIntentID},
		Tags:    []string{"acpbridge", "agentic-checkout"}, Note: in.Note, BuyerAcceptsMarketing: in.AcceptsEmail,
		Attributes: []shopify.OrderAttribute{{Key: "Checkout session", Value: in.SessionID}, {Key: "Channel", Value: in.Agent}},
	}
	var discount int64
	for _, l := range in.Lines {
		line := shopify.OrderLineInput{
			VariantID: variantGID(l.VariantID), Quantity: l.Quantity, UnitPrice: decimal(l.UnitAmount, in.Currency),
			RequiresShipping: l.RequiresShipping, Taxable: l.Tax > 0,
		}
		if l.Tax > 0 {
			line.TaxLines = []shopify.TaxLine{{Title: "Tax", Amount: decimal(l.Tax, in.Currency)}}
		}
		discount += l.Discount
		req.Lines = append(req.Lines, line)
	}
	if discount > 0 {
		// orderCreate takes one code, with the quoted amount: the codes
		// Shopify applied name it (so the merchant sees which), else AGENT
		// (automatic discounts only).
		code := "AGENT"
		if len(in.DiscountCodes) > 0 {
			code = strings.Join(in.DiscountCodes, " + ")
		}
		req.Discount = &shopify.OrderDiscountInput{Code: code, Amount: decimal(discount, in.Currency)}
	}
	if s := in.Shipping; s != nil {
		req.Shipping = &shopify.OrderShippingInput{Title: s.Title, Code: s.ID, Source: "shopify", Price: decimal(s.Subtotal, in.Currency)}
		if s.Tax > 0 {
			req.Shipping.TaxLines = []shopify.TaxLine{{Title: "Shipping tax", Amount: decimal(s.Tax, in.Currency)}}
		}
	}
	req.Email = in.Email
	if b := in.Buyer; b != nil {
		req.Phone = b.PhoneNumber
	}
	// customer.toUpsert needs write_customers, an optional scope: without
	// it the order's email, phone and addresses are all Shopify gets.
	if b := in.Buyer; in.UpsertCustomer && b != nil {
		req.Customer = &shopify.OrderCustomer{Email: in.Email, Phone: b.PhoneNumber, FirstName: b.FirstName, LastName: b.LastName}
	} else if in.UpsertCustomer && in.Email != "" {
		req.Customer = &shopify.OrderCustomer{Email: in.Email}
	}
	req.ShippingAddress = mailingAddress(in.Address, req.Phone)
	req.BillingAddress = mailingAddress(in.BillingAddress, req.Phone)
	ord, err := shopify.CreateOrder(ctx, o.Shopify, shop, req)
	if err != nil {
		var ue *shopify.UserErrorsError
		if shopify.IsOutOfStock(err) || errors.As(err, &ue) {
			return nil, errors.Join(ErrOrderRefused, err)
		}
		return nil, err
	}
	return &ShopOrder{ID: ord.ID, Name: ord.Name, StatusURL: ord.StatusPageURL}, nil
}

func mailingAddress(a *acp.Address, phone string) *shopify.MailingAddress {
	if a == nil {
		return nil
	}
	first, last := splitName(a.Name)
	return &shopify.MailingAddress{FirstName: first, LastName: last, Company: a.Company, Address1: a.LineOne, Address2: a.LineTwo,
		City: a.City, Province: a.State, Country: a.Country, Zip: a.PostalCode, Phone: phone}
}
