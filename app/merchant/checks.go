package merchant

import (
	"context"
	"fmt"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feeds"
)

// SendTestEvent posts a signed test order event to the shop's agent
// webhook URL now and records the outcome for the checklist.
func (a *Admin) SendTestEvent(ctx context.Context, shopID int64) (int, error) {
	set, err := a.Agents.StoredSettings(ctx, shopID) // saved back: the stored completion method, not the effective one
	if err != nil {
		return 0, err
	}
	if set.WebhookURL == "" || set.WebhookSecretSealed == "" {
		return 0, &app.Error{Code: app.CodeInvalid, Field: "webhook_url", Message: "set the agent's webhook URL first"}
	}
	status, sendErr := a.Events.SendTest(ctx, set)
	now := a.now()
	set.WebhookTestedAt, set.WebhookTestStatus, set.WebhookTestError = &now, status, ""
	if sendErr != nil {
		set.WebhookTestError = app.Truncate(sendErr.Error(), 300)
	}
	if err := a.Store.SaveACPSettings(ctx, *set); err != nil {
		return 0, err
	}
	if sendErr != nil {
		return status, &app.Error{Code: app.CodeUnprocessable, Field: "webhook_url", Message: "the test event was not accepted: " + set.WebhookTestError}
	}
	return status, nil
}

// TestCheckoutResult is what a test checkout showed: the session an agent
// would get for one published item, priced by Shopify, then canceled.
type TestCheckoutResult struct {
	Item    feeds.PublishedItem
	Session *acp.Session
	Totals  []acp.Total
}

// testAddresses are shipping addresses a test checkout uses, by the
// shop's country (a US address otherwise).
var testAddresses = map[string]acp.Address{
	"US": {Name: "Test Buyer", LineOne: "1 Market St", City: "San Francisco", State: "CA", Country: "US", PostalCode: "94105"},
	"CA": {Name: "Test Buyer", LineOne: "100 Queen St W", City: "Toronto", State: "ON", Country: "CA", PostalCode: "M5H 2N2"},
	"GB": {Name: "Test Buyer", LineOne: "10 Downing St", City: "London", Country: "GB", PostalCode: "SW1A 2AA"},
}

// TestCheckout runs the agent's first two calls through the real checkout
// code (create with an address, which prices the cart with Shopify) for
// the first published, checkout-eligible item in stock, and cancels the
// session. It charges nothing and creates no order.
func (a *Admin) TestCheckout(ctx context.Context, sh *app.Shop) (*TestCheckoutResult, error) {
	if a.Checkout == nil {
		return nil, &app.Error{Code: app.CodeUnavailable, Message: "checkout is not configured on this server"}
	}
	items, err := a.Feeds.PublishedItems(ctx, sh.ID, 200)
	if err != nil {
		return nil, err
	}
	var pick *feeds.PublishedItem
	for i := range items {
		if items[i].Available && items[i].Inventory > 0 {
			pick = &items[i]
			break
		}
	}
	if pick == nil {
		return nil, &app.Error{Code: app.CodeUnprocessable, Message: "no published item is in stock and open to checkout: sync the catalog and check the products page"}
	}
	addr, ok := testAddresses[sh.CountryCode]
	if !ok {
		addr = testAddresses["US"]
	}
	in := &acp.CreateSessionInput{
		Items:              []acp.ItemInput{{ID: pick.ID, Quantity: 1}},
		Buyer:              &acp.Buyer{FirstName: "Test", LastName: "Buyer", Email: "test-buyer@example.com"},
		FulfillmentDetails: &acp.FulfillmentDetails{Name: addr.Name, Email: "test-buyer@example.com", Address: &addr},
	}
	// The merchant, not an agent, is the caller: no API key. The settings
	// carry the method the shop sells with, as an agent's would.
	set, err := a.Agents.Settings(ctx, sh.ID)
	if err != nil {
		return nil, err
	}
	merchant := &app.Agent{Shop: sh, Settings: set}
	cs, err := a.Checkout.Create(ctx, merchant, acp.V20260417, in)
	if err != nil {
		return nil, err
	}
	view := cs.View()
	res := &TestCheckoutResult{Item: *pick, Session: view}
	if res.Totals, err = view.Totals(); err != nil {
		return nil, err
	}
	if _, err := a.Checkout.Cancel(ctx, merchant, cs.ID, &acp.CancelSessionInput{}); err != nil {
		return nil, fmt.Errorf("cancel the test session: %w", err)
	}
	return res, nil
}
