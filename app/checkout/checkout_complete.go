package checkout

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// Complete answers a complete request: see complete.go for the steps. A
// session that is not ready answers with its problems (a 2xx session with
// error messages); a completed one answers its result again.
func (c *Sessions) Complete(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.CompleteSessionInput) (*Session, error) {
	sh := ag.Shop
	set, method, err := c.completion(ctx, ag)
	if err != nil {
		return nil, err
	}
	if method == app.CompletionShopifyCheckout {
		// Checked before anything else: nothing of a Shopify-checkout
		// shop is ever charged here.
		cs, err := c.load(ctx, sh, id)
		if err != nil {
			return nil, err
		}
		if err := c.expire(ctx, cs); err != nil {
			return nil, err
		}
		switch cs.Status {
		case acp.StatusCompleted:
			return cs, nil // paid at Shopify's checkout: its result, as for any completed session
		case acp.StatusCanceled, acp.StatusExpired:
			return nil, notModifiable(cs)
		}
		return nil, refuseHandoffComplete(cs)
	}
	if c.Completer == nil {
		return nil, &app.Error{Code: app.CodeUnavailable, Message: "payments are not configured on this server"}
	}
	if err := checkPayment(v, in, c.payments().accepted(set)); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		cs, err := c.load(ctx, sh, id)
		if err != nil {
			return nil, err
		}
		if err := c.expire(ctx, cs); err != nil {
			return nil, err
		}
		switch cs.Status {
		case acp.StatusCompleted:
			return cs, nil // the same result again
		case acp.StatusCompleteInProgress:
			// Carry it on when no one else is (a crash, an unknown
			// outcome), else wait for whoever is.
			return c.drive(ctx, sh, cs)
		case acp.StatusCanceled, acp.StatusExpired:
			return nil, notModifiable(cs)
		}
		started, err := c.beginCompletion(ctx, ag, v, cs, in)
		if errors.Is(err, app.ErrConflict) && attempt < maxWriteAttempts {
			continue // another request changed the session: look again
		}
		if err != nil {
			return nil, err
		}
		if !started {
			return cs, nil
		}
		return c.drive(ctx, sh, cs)
	}
}

// beginCompletion reprices the session and, when it is payable, records a
// new payment attempt and moves the session to complete_in_progress, in
// one transaction with the resume job (which runs only if this request
// does not finish the completion itself). A concurrent change of the
// session is ErrConflict and nothing is written.
func (c *Sessions) beginCompletion(ctx context.Context, ag *app.Agent, v acp.Version, cs *Session, in *acp.CompleteSessionInput) (bool, error) {
	cp := c.Completer
	if cs.Status == acp.StatusAuthenticationRequired {
		if in.AuthenticationResult == nil {
			return false, &app.Error{Code: app.CodeInvalid, Reason: "requires_3ds", Field: "$.authentication_result",
				Message: "the payment needs 3-D Secure: complete again with authentication_result"}
		}
		p, err := cp.Store.CheckoutPayment(ctx, cs.ID)
		if err != nil {
			return false, err
		}
		r := in.AuthenticationResult
		if r.Outcome != "authenticated" && r.Outcome != "attempt_acknowledged" || r.Details == nil {
			p.State, p.LastError = PaymentDeclined, "3-D Secure outcome: "+r.Outcome
		} else {
			p.State = PaymentAuthorizing
			status := "Y"
			if r.Outcome == "attempt_acknowledged" {
				status = "A"
			}
			p.Details.ThreeDS = &ThreeDSResult{TransStatus: status, Cryptogram: r.Details.ThreeDSCryptogram, ECI: r.Details.ElectronicCommerceIndicator,
				TransactionID: r.Details.TransactionID, Version: r.Details.Version}
		}
		p.UpdatedAt = c.now()
		applyPayment(cs, p)
		cs.UpdatedAt = c.now()
		err = cp.Store.InTx(ctx, func(ctx context.Context) error {
			if err := c.Store.SaveCheckoutSession(ctx, cs); err != nil {
				return err
			}
			return cp.Store.SavePayment(ctx, p)
		})
		return err == nil && cs.Status == acp.StatusCompleteInProgress, err
	}

	if in.Buyer != nil {
		cs.State.Buyer = in.Buyer
	}
	cs.State.PaymentMessages = nil
	// The price the agent was shown, and the live check before the
	// charge: the quotes before this one came from the synced catalog,
	// which may not have heard of a change Shopify already knows.
	shown := cs.State.Quote
	if !shown.Complete && cs.State.Agreed != nil {
		shown = *cs.State.Agreed // the last check failed: what the agent saw before it
	}
	selected, chosen := cs.State.SelectedOptionID, cs.State.OptionChosen
	if err := c.priceWith(ctx, ag, v, cs, true); err != nil {
		return false, err
	}
	cs.UpdatedAt = c.now()
	cs.State.Agreed = nil
	if cs.Status != acp.StatusReadyForPayment {
		if shown.Complete && !cs.State.Quote.Complete {
			// Shopify unreachable (or the cart no longer sellable):
			// the retry is compared with what the agent saw, and
			// keeps the option it chose (the failed quote has none).
			cs.State.Agreed = &shown
			cs.State.SelectedOptionID, cs.State.OptionChosen = selected, chosen
		}
		return false, c.Store.SaveCheckoutSession(ctx, cs) // the messages say what is missing
	}
	if m, changed := priceChange(v, cs.Currency, shown, cs.State.Quote); changed {
		// Never charge a total the agent has not seen: the session now
		// shows the new one, and a complete again pays it.
		cs.State.PaymentMessages = []acp.Message{m}
		return false, c.Store.SaveCheckoutSession(ctx, cs)
	}
	if err := c.checkPaymentAccount(ctx, ag); errors.Is(err, app.ErrNotFound) {
		cs.Status = acp.StatusNotReadyForPayment
		cs.State.PaymentMessages = []acp.Message{{Type: acp.MessageError, Code: acp.MessageCodeUnsupported, ContentType: acp.ContentPlain,
			Severity: "high", Resolution: "requires_buyer_review", Content: "This store does not take payments through agents yet."}}
		return false, c.Store.SaveCheckoutSession(ctx, cs)
	} else if err != nil {
		return false, err
	}
	total, err := sessionTotal(cs.View())
	if err != nil {
		return false, err
	}
	prev, err := cp.Store.CheckoutPayment(ctx, cs.ID)
	if err != nil && !errors.Is(err, app.ErrNotFound) {
		return false, err
	}
	attempt := 1
	if prev != nil {
		attempt = prev.Attempt + 1
	}
	sealed, err := cp.Keys.Seal([]byte(in.Payment.Token), tokenAAD(cs.ID))
	if err != nil {
		return false, err
	}
	now := c.now()
	p := &Payment{
		SessionID: cs.ID, ShopID: cs.ShopID, State: PaymentAuthorizing, Attempt: attempt, TokenSealed: sealed,
		Amount: total, Currency: cs.Currency, CreatedAt: now, UpdatedAt: now,
		Details: PaymentDetails{MarketingConsents: in.MarketingConsents, OrderNotes: in.OrderNotes, BillingAddress: in.Payment.BillingAddress},
	}
	if p.Details.OrderNotes == "" {
		p.Details.OrderNotes = cs.State.OrderNotes
	}
	cs.Status = acp.StatusCompleteInProgress
	err = cp.Store.InTx(ctx, func(ctx context.Context) error {
		if err := c.Store.SaveCheckoutSession(ctx, cs); err != nil {
			return err
		}
		if err := cp.Store.SavePayment(ctx, p); err != nil {
			return err
		}
		return c.Queue.EnqueueTx(ctx, app.ResumeCompletionArgs{ShopID: cs.ShopID, SessionID: cs.ID},
			&river.InsertOpts{ScheduledAt: now.Add(cp.lease() + 5*time.Second)})
	})
	return err == nil, err
}

// checkPaymentAccount is nil when the shop's payment account can be
// charged here (its provider runs here and its credentials are stored) and
// ErrNotFound when the shop has none.
func (c *Sessions) checkPaymentAccount(ctx context.Context, ag *app.Agent) error {
	set, err := c.settings(ctx, ag)
	if err != nil {
		return err
	}
	if len(c.payments().handlers(set)) == 0 {
		return fmt.Errorf("payment account: %w", app.ErrNotFound)
	}
	_, err = c.Completer.Store.PaymentCredentials(ctx, ag.Shop.ID, set.Payment.Provider)
	return err
}

// checkPayment accepts what this app can charge: a delegated payment token
// through one of the handlers offered (2026-04-17) or their provider
// (2025-09-29, e.g. "stripe").
func checkPayment(v acp.Version, in *acp.CompleteSessionInput, offered []acp.PaymentHandler) error {
	p := in.Payment
	if p.Token == "" {
		return &app.Error{Code: app.CodeInvalid, Reason: "invalid", Field: "$.payment_data", Message: "a payment token is required"}
	}
	if len(offered) == 0 {
		return nil // the session says that the shop takes no payments
	}
	for _, h := range offered {
		if v == acp.V20250929 && p.Provider == h.PSP || v != acp.V20250929 && p.HandlerID == h.ID {
			return nil
		}
	}
	if v == acp.V20250929 {
		return &app.Error{Code: app.CodeInvalid, Reason: "unsupported", Field: "$.payment_data.provider",
			Message: "this store takes payments through " + offered[0].PSP + " only"}
	}
	return &app.Error{Code: app.CodeInvalid, Reason: "unsupported", Field: "$.payment_data.handler_id",
		Message: fmt.Sprintf("unknown payment handler; this store offers %q", offered[0].ID)}
}

func sessionTotal(s *acp.Session) (int64, error) {
	ts, err := s.Totals()
	if err != nil {
		return 0, err
	}
	for _, t := range ts {
		if t.Type == acp.TotalTotal {
			return t.Amount, nil
		}
	}
	return 0, errors.New("session has no total")
}

// drive runs the completion and writes its outcome onto the session.
func (c *Sessions) drive(ctx context.Context, sh *app.Shop, cs *Session) (*Session, error) {
	p, derr := c.Completer.Drive(ctx, sh, cs)
	if p == nil {
		return nil, derr
	}
	if errors.Is(derr, errLeased) {
		return c.waitForCompletion(ctx, sh, cs) // another request or replica holds it
	}
	if derr != nil && !errors.Is(derr, errInProgress) && c.Logger != nil {
		c.Logger.WarnContext(ctx, "completion interrupted", "session", cs.ID, "err", derr)
	}
	if c.Events == nil || p.State != PaymentCompleted {
		return c.modify(ctx, sh, cs.ID, func(cur *Session) error {
			applyPayment(cur, p)
			return nil
		})
	}
	// The session becomes completed and its order_create is recorded in
	// one transaction: the event exists exactly once, whoever (request or
	// resume job, on any replica) finishes the completion.
	var out *Session
	err := c.Completer.Store.InTx(ctx, func(ctx context.Context) error {
		var created bool
		o, err := c.modify(ctx, sh, cs.ID, func(cur *Session) error {
			created = cur.Status != acp.StatusCompleted
			applyPayment(cur, p)
			return nil
		})
		if err != nil {
			return err
		}
		out = o
		if created {
			return c.Events.OrderCreated(ctx, o, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// OrderEvents records the order events of completed sessions
// (orderevents.Service).
type OrderEvents interface {
	// OrderCreated records the order_create of a session that just
	// completed, in the transaction ctx carries.
	OrderCreated(ctx context.Context, cs *Session, p *Payment) error
}

// applyPayment sets the session's status from its payment record.
func applyPayment(cs *Session, p *Payment) {
	st := &cs.State
	st.PaymentMessages = nil
	switch p.State {
	case PaymentCompleted:
		cs.Status = acp.StatusCompleted
		st.Order = &ShopOrder{ID: p.OrderID, Name: p.OrderName, StatusURL: p.OrderStatusURL}
	case PaymentDeclined:
		cs.Status = acp.StatusReadyForPayment
		st.PaymentMessages = []acp.Message{{Type: acp.MessageError, Code: acp.MessageCodePaymentDeclined, Param: "$.payment_data",
			ContentType: acp.ContentPlain, Severity: "high", Resolution: "requires_buyer_input",
			Content: "The payment was declined. Nothing was charged; try another payment method."}}
	case PaymentVoided:
		cs.Status = acp.StatusNotReadyForPayment
		st.PaymentMessages = []acp.Message{{Type: acp.MessageError, Code: acp.MessageCodeOutOfStock,
			ContentType: acp.ContentPlain, Severity: "high", Resolution: "requires_buyer_review",
			Content: "The store could not accept the order (an item may have just sold out). Nothing was charged."}}
		st.Quote.Key = "" // quote again on the next change
	case PaymentRequiresAction:
		cs.Status = acp.StatusAuthenticationRequired
		st.Authentication = p.Details.Authentication
	default:
		cs.Status = acp.StatusCompleteInProgress
		st.PaymentMessages = []acp.Message{{Type: acp.MessageInfo, ContentType: acp.ContentPlain,
			Content: "The payment is being processed. Check back in a moment for the order."}}
	}
}

// waitForCompletion answers a complete that found another one running:
// it waits (bounded) for that one's result and returns the same session.
func (c *Sessions) waitForCompletion(ctx context.Context, sh *app.Shop, cs *Session) (*Session, error) {
	wait := c.CompleteWait
	if wait <= 0 {
		wait = 10 * time.Second
	}
	deadline := time.Now().Add(wait)
	for cs.Status == acp.StatusCompleteInProgress && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		fresh, err := c.load(ctx, sh, cs.ID)
		if err != nil {
			return nil, err
		}
		cs = fresh
		if cs.Status != acp.StatusCompleteInProgress {
			break
		}
		// The holder may have died (a crashed replica): once its lease
		// lapses, carry the completion on here.
		p, err := c.Completer.Store.CheckoutPayment(ctx, cs.ID)
		if err != nil {
			return nil, err
		}
		if p.LeaseUntil == nil || p.LeaseUntil.Before(c.now()) {
			return c.drive(ctx, sh, cs)
		}
	}
	return cs, nil
}

// ResumeCompletion is the job that carries on an interrupted completion.
// It returns an error (River retries with backoff) while the completion
// cannot finish.
func (c *Sessions) ResumeCompletion(ctx context.Context, shopID int64, sessionID string) error {
	sh, err := c.Store.ShopByID(ctx, shopID)
	if err != nil {
		return err
	}
	cs, err := c.load(ctx, sh, sessionID)
	if err != nil {
		return err
	}
	if cs.Status != acp.StatusCompleteInProgress {
		return nil // finished (or never started) by a request
	}
	out, err := c.drive(ctx, sh, cs)
	if err != nil {
		return err
	}
	if out.Status == acp.StatusCompleteInProgress {
		return fmt.Errorf("checkout %s: completion still in progress", sessionID)
	}
	return nil
}

// priceChange is the message for a quote whose lines or shipping cost
// differ from the one the agent was shown; false when they are the same.
func priceChange(v acp.Version, currency string, shown, now Quote) (acp.Message, bool) {
	m := acp.Message{Type: acp.MessageWarning, Code: acp.WarningPriceChange, ContentType: acp.ContentPlain, Severity: "medium",
		Resolution: "requires_buyer_review",
		Content:    "The price changed since this session was quoted: nothing was charged. The session shows the new total; complete again to pay it."}
	for i, l := range now.Lines {
		if i >= len(shown.Lines) || shown.Lines[i].VariantID != l.VariantID || shown.Lines[i].Quantity != l.Quantity ||
			shown.Lines[i].UnitAmount != l.UnitAmount || shown.Lines[i].Discount != l.Discount || shown.Lines[i].Tax != l.Tax {
			m.Param = itemParam(v, i)
			m.Content = fmt.Sprintf("The price of %s changed since this session was quoted (now %s): nothing was charged. "+
				"The session shows the new total; complete again to pay it.", l.Title, FormatMinor(l.UnitAmount, currency)+" "+currency)
			return m, true
		}
	}
	if len(shown.Lines) != len(now.Lines) || shown.Discount != now.Discount || shown.Chosen != now.Chosen {
		return m, true
	}
	for _, o := range now.Options {
		if o.ID != now.Chosen {
			continue
		}
		for _, p := range shown.Options {
			if p.ID == o.ID && (p.Subtotal != o.Subtotal || p.Tax != o.Tax) {
				return m, true
			}
		}
	}
	return acp.Message{}, false
}
