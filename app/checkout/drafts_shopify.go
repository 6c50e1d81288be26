package checkout

import (
	"context"
	"errors"
	"fmt"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// ShopifyDrafts is Drafts through the Admin API (draftOrderCreate,
// draftOrderUpdate, draftOrderDelete), with the shop's own token.
type ShopifyDrafts struct {
	Shopify shopify.Querier
}

// draftCompleted is Shopify's status of a draft that became an order.
const draftCompleted = "COMPLETED"

// UpsertDraft creates the draft, or replaces what draft id holds.
func (d *ShopifyDrafts) UpsertDraft(ctx context.Context, shop, id string, in HandoffDraft) (DraftRef, error) {
	until := in.ReserveUntil
	w := shopify.DraftOrderWrite{
		DraftOrderInput:       draftOrderInput(in.DraftRequest),
		ReserveInventoryUntil: &until,
		CustomAttributes:      draftAttributes(in),
		Tags:                  []string{HandoffSource},
		SourceName:            HandoffSource,
	}
	if r := in.Shipping; r != nil {
		// The rate's handle makes Shopify charge exactly the quoted rate;
		// title and price say the same for a reader of the draft.
		w.ShippingLine = &shopify.DraftShippingLine{Title: r.Title, Price: FormatMinor(r.Price, in.Currency), Handle: r.Handle}
	}
	if id == "" {
		do, err := shopify.CreateDraftOrder(ctx, d.Shopify, shop, w)
		if err != nil {
			return DraftRef{}, err
		}
		return DraftRef{ID: do.ID, InvoiceURL: do.InvoiceURL}, nil
	}
	do, err := shopify.UpdateDraftOrder(ctx, d.Shopify, shop, id, w)
	if err != nil {
		// Shopify refuses to change a draft that is gone or paid; which
		// it is, its state says (its messages are no contract).
		cur, gerr := shopify.GetDraftOrder(ctx, d.Shopify, shop, id)
		switch {
		case errors.Is(gerr, shopify.ErrNotFound):
			return DraftRef{}, fmt.Errorf("draft order %s: %w", id, app.ErrNotFound)
		case gerr == nil && cur.Status == draftCompleted:
			return DraftRef{}, fmt.Errorf("draft order %s: %w", id, ErrDraftPaid)
		}
		return DraftRef{}, err
	}
	return DraftRef{ID: do.ID, InvoiceURL: do.InvoiceURL}, nil
}

// DeleteDraft deletes the draft; one that is gone or was paid (Shopify
// keeps completed drafts) holds no stock and is left as it is.
func (d *ShopifyDrafts) DeleteDraft(ctx context.Context, shop, id string) error {
	err := shopify.DeleteDraftOrder(ctx, d.Shopify, shop, id)
	if err == nil {
		return nil
	}
	if cur, gerr := shopify.GetDraftOrder(ctx, d.Shopify, shop, id); gerr == nil && cur.Status == draftCompleted {
		return nil
	}
	return err
}

// draftAttributes name the session, or the cart, the draft belongs to.
func draftAttributes(in HandoffDraft) map[string]string {
	if in.CartID != "" {
		return map[string]string{CartAttribute: in.CartID}
	}
	return map[string]string{HandoffAttribute: in.SessionID}
}
