package checkout

import (
	"context"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// price quotes the session for the caller (from the catalog) and sets its
// status from the result.
func (c *Sessions) price(ctx context.Context, ag *app.Agent, v acp.Version, cs *Session) error {
	return c.priceWith(ctx, ag, v, cs, false)
}

// priceWith is price, with Shopify's live price and stock when live (the
// complete step's check).
func (c *Sessions) priceWith(ctx context.Context, ag *app.Agent, v acp.Version, cs *Session, live bool) error {
	sh := ag.Shop
	var q Quote
	var err error
	if live {
		q, err = quoteLive(ctx, c.Pricer, sh, v, &cs.State)
	} else {
		q, err = c.Pricer.Quote(ctx, sh, v, &cs.State)
	}
	if err != nil {
		return err
	}
	c.setQuote(cs, q)
	set, method, err := c.completion(ctx, ag)
	if err != nil {
		return err
	}
	if cs.State.Links, err = c.links(ctx, ag); err != nil {
		return err
	}
	if method == app.CompletionShopifyCheckout {
		return c.handoff(ctx, ag, v, cs)
	}
	if err := c.dropDraft(ctx, sh, cs); err != nil { // the shop switched to delegated payment
		return err
	}
	cs.State.PaymentHandlers = c.payments().handlers(set)
	if len(cs.State.PaymentHandlers) == 0 {
		cs.State.Messages = append(cs.State.Messages, acp.Message{
			Type: acp.MessageError, Code: acp.MessageCodeUnsupported, ContentType: acp.ContentPlain,
			Content: "This store does not take payments through agents yet.", Severity: "high", Resolution: "requires_buyer_review",
		})
	}
	cs.Status = c.status(cs)
	return nil
}

// setQuote makes q the session's quote: the option it keeps and the
// session-level messages follow from it.
func (c *Sessions) setQuote(cs *Session, q Quote) {
	cs.State.Quote = q
	cs.State.SelectedOptionID = pickOption(&cs.State)
	cs.State.Messages = nil
	if b := cs.State.Buyer; b == nil || b.Email == "" {
		cs.State.Messages = append(cs.State.Messages, acp.Message{
			Type: acp.MessageError, Code: acp.MessageCodeMissing, Param: "$.buyer.email", ContentType: acp.ContentPlain,
			Content: "The buyer's email address is needed for the order confirmation.", Severity: "medium", Resolution: "requires_buyer_input",
		})
	}
}

// pickOption keeps the agent's choice when the quote still offers it, and
// otherwise defaults to the first (cheapest) option.
func pickOption(st *State) string {
	if st.hasOption(st.SelectedOptionID) {
		return st.SelectedOptionID
	}
	st.OptionChosen = false
	if len(st.Quote.Options) > 0 {
		return st.Quote.Options[0].ID
	}
	return ""
}

// status is ready_for_payment when nothing blocks payment: no error
// message, a buyer email, a complete quote, a fulfillment option when
// shipping is needed.
func (c *Sessions) status(cs *Session) acp.Status {
	st := &cs.State
	for _, m := range append(st.Quote.Messages[:len(st.Quote.Messages):len(st.Quote.Messages)], st.Messages...) {
		if m.Type == acp.MessageError {
			return acp.StatusNotReadyForPayment
		}
	}
	if !st.Quote.Complete || st.SelectedOptionID == "" || st.Buyer == nil || st.Buyer.Email == "" {
		return acp.StatusNotReadyForPayment
	}
	return acp.StatusReadyForPayment
}
