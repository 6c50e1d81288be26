package shopify_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

// TestDraftOrderLifecycle creates, reads, re-prices, pays and deletes a
// draft order through the emulator, whose GraphQL endpoint validates every
// document against the 2026-10 Admin schema.
func TestDraftOrderLifecycle(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	shirt, jacket := env.shirt(1), env.jacket()
	ny := &shopify.MailingAddress{FirstName: "Ada", LastName: "Buyer", Address1: "1 Test Street", City: "New York", Province: "NY", Country: "US", Zip: "10001"}
	cart := shopify.DraftOrderInput{
		Lines:           []shopify.DraftLine{{VariantID: shirt.GID(), Quantity: 2}, {VariantID: jacket.GID(), Quantity: 1}},
		Email:           "ada@example.com",
		ShippingAddress: ny,
		DiscountCodes:   []string{"SAVE5"},
	}
	// The draft must cost what the quote said, Express shipping included.
	quoteIn := cart
	quoteIn.ShippingRateHandle = "shopify-Express"
	quote, err := shopify.CalculateDraftOrder(ctx, env.q, pricingShop, quoteIn)
	if err != nil {
		t.Fatalf("CalculateDraftOrder: %v", err)
	}
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	write := shopify.DraftOrderWrite{
		DraftOrderInput:       cart,
		ShippingLine:          &shopify.DraftShippingLine{Title: "Express", Price: quote.Shipping.Price, Handle: "shopify-Express"},
		ReserveInventoryUntil: &until,
		CustomAttributes:      map[string]string{"acpbridge_session": "cs_123", "b": "2"},
		Tags:                  []string{"acpbridge"},
		SourceName:            "acpbridge",
	}
	d, err := shopify.CreateDraftOrder(ctx, env.q, pricingShop, write)
	if err != nil {
		t.Fatalf("CreateDraftOrder: %v", err)
	}
	if !strings.HasPrefix(d.ID, "gid://shopify/DraftOrder/") || d.Name != "#D1" || d.Status != "OPEN" || d.OrderID != "" {
		t.Errorf("created %+v", d)
	}
	if d.TotalPrice != quote.TotalPrice || d.Currency != "USD" {
		t.Errorf("total %s %s, quote %s", d.TotalPrice, d.Currency, quote.TotalPrice)
	}
	if d.ReserveInventoryUntil == nil || !d.ReserveInventoryUntil.Equal(until) {
		t.Errorf("reserveInventoryUntil %v, want %v", d.ReserveInventoryUntil, until)
	}
	if !strings.HasPrefix(d.InvoiceURL, env.emu.URL()+"/checkouts/"+pricingShop+"/") {
		t.Errorf("invoiceUrl %q", d.InvoiceURL)
	}
	if r := env.emu.Reserved(pricingShop, d.ID); r[shirt.GID()] != 2 || r[jacket.GID()] != 1 {
		t.Errorf("reserved %v", r)
	}
	drafts := env.emu.Drafts(pricingShop)
	if len(drafts) != 1 || len(drafts[0].CustomAttributes) != 2 || drafts[0].CustomAttributes[0].Key != "acpbridge_session" ||
		drafts[0].SourceName != "acpbridge" || drafts[0].Shipping == nil || drafts[0].Shipping.Title != "Express" {
		t.Errorf("emulator draft %+v", drafts)
	}

	got, err := shopify.GetDraftOrder(ctx, env.q, pricingShop, d.ID)
	if err != nil || *got.ReserveInventoryUntil != *d.ReserveInventoryUntil || got.InvoiceURL != d.InvoiceURL || got.TotalPrice != d.TotalPrice {
		t.Errorf("GetDraftOrder = %+v, %v; created %+v", got, err, d)
	}

	// Re-pricing: one shirt, no code, no reservation.
	write.Lines, write.DiscountCodes, write.ReserveInventoryUntil = write.Lines[:1], nil, nil
	write.Lines[0].Quantity = 1
	up, err := shopify.UpdateDraftOrder(ctx, env.q, pricingShop, d.ID, write)
	if err != nil {
		t.Fatalf("UpdateDraftOrder: %v", err)
	}
	quoteIn.Lines, quoteIn.DiscountCodes = write.Lines, nil
	quote2, err := shopify.CalculateDraftOrder(ctx, env.q, pricingShop, quoteIn)
	if err != nil {
		t.Fatal(err)
	}
	if up.ID != d.ID || up.InvoiceURL != d.InvoiceURL || up.TotalPrice != quote2.TotalPrice || up.TotalPrice == d.TotalPrice || up.ReserveInventoryUntil != nil {
		t.Errorf("updated %+v, quote %s", up, quote2.TotalPrice)
	}
	if r := env.emu.Reserved(pricingShop, d.ID); len(r) != 0 {
		t.Errorf("reserved after dropping the reservation: %v", r)
	}

	// The buyer pays; the draft names its order and can no longer change.
	pay, err := env.emu.PayDraft(d.InvoiceURL, "")
	if err != nil {
		t.Fatalf("PayDraft: %v", err)
	}
	got, err = shopify.GetDraftOrder(ctx, env.q, pricingShop, d.ID)
	if err != nil || got.Status != "COMPLETED" || got.OrderID != pay.Order.GID() {
		t.Errorf("paid draft %+v, %v; order %s", got, err, pay.Order.GID())
	}
	_, err = shopify.UpdateDraftOrder(ctx, env.q, pricingShop, d.ID, write)
	var ue *shopify.UserErrorsError
	if !errors.As(err, &ue) || ue.Op != "draftOrderUpdate" {
		t.Errorf("updating a paid draft: %v", err)
	}

	// Deleting is idempotent; a deleted draft is not found.
	for i := range 2 {
		if err := shopify.DeleteDraftOrder(ctx, env.q, pricingShop, d.ID); err != nil {
			t.Fatalf("DeleteDraftOrder #%d: %v", i+1, err)
		}
	}
	_, err = shopify.GetDraftOrder(ctx, env.q, pricingShop, d.ID)
	if !errors.Is(err, shopify.ErrDraftOrderNotFound) || !errors.Is(err, shopify.ErrNotFound) {
		t.Errorf("GetDraftOrder after delete: %v", err)
	}
}

func TestDraftOrderErrors(t *testing.T) {
	t.Parallel()
	env := newPricingEnv(t)
	ctx := context.Background()
	if _, err := shopify.CreateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderWrite{}); err == nil {
		t.Error("a draft without lines was sent")
	}
	_, err := shopify.CreateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderWrite{DraftOrderInput: shopify.DraftOrderInput{
		Lines: []shopify.DraftLine{{VariantID: "gid://shopify/ProductVariant/1", Quantity: 1}},
	}})
	var ue *shopify.UserErrorsError
	if !errors.As(err, &ue) || ue.Op != "draftOrderCreate" || len(ue.Errors) != 1 {
		t.Errorf("unknown variant: %v", err)
	}
	_, err = shopify.UpdateDraftOrder(ctx, env.q, pricingShop, "gid://shopify/DraftOrder/1", shopify.DraftOrderWrite{DraftOrderInput: shopify.DraftOrderInput{
		Lines: []shopify.DraftLine{{VariantID: env.shirt(0).GID(), Quantity: 1}},
	}})
	if !errors.As(err, &ue) || ue.Op != "draftOrderUpdate" {
		t.Errorf("updating an unknown draft: %v", err)
	}
	// A custom shipping line carries its own title and price.
	d, err := shopify.CreateDraftOrder(ctx, env.q, pricingShop, shopify.DraftOrderWrite{DraftOrderInput: shopify.DraftOrderInput{
		Lines: []shopify.DraftLine{{VariantID: env.shirt(0).GID(), Quantity: 1}},
	}, ShippingLine: &shopify.DraftShippingLine{Title: "Courier", Price: "7.50"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := cents(t, "7.50") + env.shirt(0).PriceCents; cents(t, d.TotalPrice) != want {
		t.Errorf("total %s, want %d cents", d.TotalPrice, want)
	}
	if d.ReserveInventoryUntil != nil {
		t.Errorf("reservation %v without one asked", d.ReserveInventoryUntil)
	}
}
