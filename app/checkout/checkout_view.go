package checkout

import (
	"context"
	"errors"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// View is the protocol's session of a stored one: what every answer of
// the checkout API encodes, in whichever version the caller speaks. It is
// a pure function of the stored session.
func (cs *Session) View() *acp.Session {
	st := &cs.State
	q := &st.Quote
	s := &acp.Session{
		ID: cs.ID, Status: cs.Status, Currency: cs.Currency,
		Buyer: st.Buyer, FulfillmentDetails: st.Fulfillment,
		Discount:  q.Discount,
		CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt, ExpiresAt: cs.ExpiresAt,
	}
	for i, l := range q.Lines {
		s.LineItems = append(s.LineItems, viewLine(i, l))
	}
	for _, o := range q.Options {
		fo := acp.FulfillmentOption{
			Type: o.Type, ID: o.ID, Title: o.Title, Subtitle: o.Subtitle, Carrier: o.Carrier,
			Subtotal: o.Subtotal, Tax: o.Tax,
		}
		if o.Earliest != nil && o.Latest != nil {
			fo.EarliestDelivery, fo.LatestDelivery = *o.Earliest, *o.Latest
		}
		s.FulfillmentOptions = append(s.FulfillmentOptions, fo)
	}
	if st.hasOption(st.SelectedOptionID) {
		s.SelectedFulfillment = []acp.SelectedFulfillment{{OptionID: st.SelectedOptionID}}
	}
	discounts, refused := viewDiscounts(st)
	if discountsActive(st.Capabilities) {
		s.Extensions = []acp.Extension{acp.DiscountExtension}
		s.Discounts = discounts
	}
	if !cs.Status.Terminal() {
		s.Messages = append(append(append(s.Messages, q.Messages...), refused...), st.Messages...)
	}
	s.Messages = append(s.Messages, st.PaymentMessages...)
	if o := st.Order; o != nil && cs.Status == acp.StatusCompleted {
		s.Order = &acp.Order{ID: o.ID, CheckoutSessionID: cs.ID, PermalinkURL: o.StatusURL, OrderNumber: o.Name, Status: acp.OrderStatusConfirmed}
	}
	if cs.Status == acp.StatusAuthenticationRequired {
		s.AuthenticationMetadata = st.Authentication
	}
	if cs.Status == acp.StatusExpired {
		s.Messages = append(s.Messages, acp.Message{Type: acp.MessageError, Code: acp.MessageCodeExpired, ContentType: acp.ContentPlain,
			Content: "This checkout session has expired; start a new one."})
	}

	if u := cs.continueURL(); u != "" {
		s.ContinueURL = u
		s.Messages = append(s.Messages, handoffMessage(u))
	}

	s.Links = st.Links
	s.PaymentHandlers = st.PaymentHandlers
	return s
}

// Discovery is the shop's public discovery document (GET
// /.well-known/acp.json under its base URL). Unknown and uninstalled shops
// are not found.
func (c *Sessions) Discovery(ctx context.Context, shopDomain, baseURL string) ([]byte, error) {
	sh, err := c.Store.ShopByDomain(ctx, shopDomain)
	if errors.Is(err, app.ErrNotFound) || err == nil && sh.Status == app.ShopUninstalled {
		return nil, &app.Error{Code: app.CodeNotFound, Reason: "not_found", Message: "no such shop"}
	}
	if err != nil {
		return nil, err
	}
	// Every shop's checkout is also an MCP server (web/mcp.go), whose URL
	// agents learn out of band, as the binding says.
	d := acp.Discovery{APIBaseURL: baseURL, Services: []string{"checkout"}, Extensions: []string{"discount"}, MCP: true}
	carts, err := c.Carts.CartsEnabled(ctx, &app.Agent{Shop: sh})
	if err != nil {
		return nil, err
	}
	if carts {
		d.Services = append(d.Services, "carts")
	}
	if sh.CurrencyCode != "" {
		d.Currencies = []string{sh.CurrencyCode}
	}
	return acp.EncodeDiscovery(d)
}
