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
	if cs.State.ContactEmail() == "" {
		cs.State.Messages = append(cs.State.Messages, emailLater(v))
	}
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
}

// ContactEmail is the address the order (or the handoff's draft order)
// is written with: the buyer's email, else the fulfillment contact's
// (2026-04-17 fulfillment_details.email); "" while the agent has given
// neither. Both versions' official example flows send the buyer only with
// complete, so a session does not wait for it: complete takes it then
// (Complete), and refuses to charge without one.
func (st *State) ContactEmail() string {
	if b := st.Buyer; b != nil && b.Email != "" {
		return b.Email
	}
	if f := st.Fulfillment; f != nil {
		return f.Email
	}
	return ""
}

// emailLater is the note of a session without an email: not a problem
// yet (it is ready_for_payment without one), but complete will need it.
func emailLater(v acp.Version) acp.Message {
	where := "send buyer.email or fulfillment_details.email with an update, or the buyer with complete"
	if v == acp.V20250929 {
		where = "send the buyer with an update or with complete"
	}
	return acp.Message{Type: acp.MessageInfo, Param: "$.buyer.email", ContentType: acp.ContentPlain,
		Severity: "low", Resolution: "requires_buyer_input",
		Content: "The buyer's email address is needed to complete the purchase, for the order confirmation: " + where + "."}
}

// errNoEmail is complete's answer when no email was given anywhere.
func errNoEmail() error {
	return &app.Error{Code: app.CodeInvalid, Reason: "missing", Field: "$.buyer.email",
		Message: "the buyer's email address is required to complete the purchase (for the order confirmation); " +
			"send buyer with complete, or set it with an update first. Nothing was charged."}
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
// message, a complete quote, a fulfillment option when shipping is
// needed. A missing email does not block it (ContactEmail).
func (c *Sessions) status(cs *Session) acp.Status {
	st := &cs.State
	for _, m := range append(st.Quote.Messages[:len(st.Quote.Messages):len(st.Quote.Messages)], st.Messages...) {
		if m.Type == acp.MessageError {
			return acp.StatusNotReadyForPayment
		}
	}
	if !st.Quote.Complete || st.SelectedOptionID == "" {
		return acp.StatusNotReadyForPayment
	}
	return acp.StatusReadyForPayment
}
