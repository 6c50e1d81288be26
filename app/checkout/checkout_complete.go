package checkout

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// Complete answers a complete request: see complete.go for the steps. A
// session that is not ready answers with its problems (a 2xx session with
// error messages); a completed one answers its result again.
func (c *Sessions) Complete(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.CompleteSessionInput) (*Session, error) {
	if a := answerFrom(ctx); a != nil && a.Claim != nil {
		return c.completeClaiming(ctx, ag, v, id, in, a)
	}
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
	ctx = withSettings(ctx, set) // for the order_create event's first delivery
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
			return c.drive(ctx, sh, cs, nil)
		case acp.StatusCanceled, acp.StatusExpired:
			return nil, notModifiable(cs)
		}
		if cs.Status != acp.StatusAuthenticationRequired {
			// Before any Shopify call or charge.
			if err := checkCompleteDetails(&cs.State, in); err != nil {
				return nil, err
			}
			if err := c.admit(ctx, sh); err != nil {
				return nil, err // nothing charged, no order: the session stays as it is
			}
		}
		b, err := c.beginCompletion(ctx, ag, v, cs, in)
		if errors.Is(err, app.ErrConflict) && attempt < maxWriteAttempts {
			continue // another request changed the session: look again
		}
		if err != nil {
			return nil, err
		}
		if b == nil {
			return cs, nil
		}
		return c.drive(ctx, sh, cs, b)
	}
}

// checkCompleteDetails refuses a complete that would have to guess: one
// with no email anywhere (the session's buyer or fulfillment details, the
// buyer or fulfillment details sent with it), or one whose fulfillment
// details (the unreleased field, acp.CompleteSessionInput) name an address
// other than the one the session was priced for: shipping and tax depend
// on it, and the spec answers such a change with a 409.
func checkCompleteDetails(st *State, in *acp.CompleteSessionInput) error {
	if fd := in.FulfillmentDetails; fd != nil && fd.Address != nil && st.Quote.NeedsShipping {
		var cur *acp.Address
		if st.Fulfillment != nil {
			cur = st.Fulfillment.Address
		}
		if !sameAddress(cur, fd.Address) {
			return &app.Error{Code: app.CodeConflict, Reason: "address_changed", Field: "$.fulfillment_details.address",
				Message: "the address differs from the one this session was priced for (shipping and tax depend on it): " +
					"update the session with it first, then complete. Nothing was charged."}
		}
	}
	if in.Buyer != nil && in.Buyer.Email != "" || st.ContactEmail() != "" || in.FulfillmentDetails != nil && in.FulfillmentDetails.Email != "" {
		return nil
	}
	return errNoEmail()
}

// sameAddress compares two addresses as a person would: the same fields,
// ignoring case and surrounding space.
func sameAddress(a, b *acp.Address) bool {
	if a == nil || b == nil {
		return a == b
	}
	eq := func(x, y string) bool { return strings.EqualFold(strings.TrimSpace(x), strings.TrimSpace(y)) }
	return eq(a.Name, b.Name) && eq(a.LineOne, b.LineOne) && eq(a.LineTwo, b.LineTwo) && eq(a.City, b.City) &&
		eq(a.State, b.State) && eq(a.Country, b.Country) && eq(a.PostalCode, b.PostalCode)
}

// begun is what the request that began a completion hands its drive: the
// payment record it wrote, leased to it, and the shop's payment provider
// it opened (nil: the drive opens it).
type begun struct {
	p   *Payment
	pay *ShopPayment
}

// beginCompletion reprices the session and, when it is payable, records a
// new payment attempt, leased to this request, and moves the session to
// complete_in_progress, in one transaction. Nil when no completion began
// (the session says why). A concurrent change of the session is
// ErrConflict and nothing is written.
func (c *Sessions) beginCompletion(ctx context.Context, ag *app.Agent, v acp.Version, cs *Session, in *acp.CompleteSessionInput) (*begun, error) {
	if cs.Status == acp.StatusAuthenticationRequired {
		return c.beginAuthenticated(ctx, cs, in)
	}
	b, err := c.preparePayment(ctx, ag, v, cs, in)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return nil, c.Store.SaveCheckoutSession(ctx, cs) // its messages say why no payment began
	}
	if err := c.writeBegin(ctx, cs, b.p); err != nil {
		return nil, err
	}
	return b, nil
}

// preparePayment reprices cs with what the complete request brings and,
// when it is payable, returns the new payment attempt to begin with it,
// cs then complete_in_progress; nothing is written. Nil (no error) when
// no payment begins: cs, to be saved as it is, says why (what is missing,
// a new total the agent has not seen, no payment account).
func (c *Sessions) preparePayment(ctx context.Context, ag *app.Agent, v acp.Version, cs *Session, in *acp.CompleteSessionInput) (*begun, error) {
	if in.Buyer != nil {
		cs.State.Buyer = in.Buyer
	}
	if fd := in.FulfillmentDetails; fd != nil && fd.Email != "" && cs.State.ContactEmail() == "" {
		// The email complete brought: the last place it may come from.
		f := cs.State.Fulfillment
		if f == nil {
			f = &acp.FulfillmentDetails{}
		} else {
			c := *f
			f = &c
		}
		f.Email = fd.Email
		cs.State.Fulfillment = f
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
		return nil, err
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
		return nil, nil // the messages say what is missing
	}
	if m, changed := priceChange(v, cs.Currency, shown, cs.State.Quote); changed {
		// Never charge a total the agent has not seen: the session now
		// shows the new one, and a complete again pays it.
		cs.State.PaymentMessages = []acp.Message{m}
		return nil, nil
	}
	pay, err := c.paymentAccount(ctx, ag)
	if errors.Is(err, app.ErrNotFound) {
		cs.Status = acp.StatusNotReadyForPayment
		cs.State.PaymentMessages = []acp.Message{{Type: acp.MessageError, Code: acp.MessageCodeUnsupported, ContentType: acp.ContentPlain,
			Severity: "high", Resolution: "requires_buyer_review", Content: "This store does not take payments through agents yet."}}
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	total, err := sessionTotal(cs.View())
	if err != nil {
		return nil, err
	}
	p, err := c.newPayment(cs, in, total)
	if err != nil {
		return nil, err
	}
	cs.Status = acp.StatusCompleteInProgress
	return &begun{p: p, pay: pay}, nil
}

// newPayment is the record of the session's first payment attempt, of
// total, leased to the request that makes it: the session is not yet
// complete_in_progress (its write in the same transaction says so), so no
// one else drives a completion of it.
func (c *Sessions) newPayment(cs *Session, in *acp.CompleteSessionInput, total int64) (*Payment, error) {
	cp := c.Completer
	sealed, err := cp.Keys.Seal([]byte(in.Payment.Token), tokenAAD(cs.ID))
	if err != nil {
		return nil, err
	}
	now := c.now()
	p := &Payment{
		SessionID: cs.ID, ShopID: cs.ShopID, State: PaymentAuthorizing, Attempt: 1, TokenSealed: sealed,
		Amount: total, Currency: cs.Currency, LeaseUntil: new(now.Add(cp.lease())), CreatedAt: now, UpdatedAt: now,
		Details: PaymentDetails{MarketingConsents: in.MarketingConsents, OrderNotes: in.OrderNotes, BillingAddress: in.Payment.BillingAddress,
			Unrecorded: true},
	}
	if p.Details.OrderNotes == "" {
		p.Details.OrderNotes = cs.State.OrderNotes
	}
	return p, nil
}

// follow makes p the attempt after prev (declined or voided).
func (p *Payment) follow(prev *Payment) {
	p.Attempt = prev.Attempt + 1
	// An orderCreate of an earlier attempt (one Shopify refused, or
	// answered too late) is looked up before this one sends its own.
	p.Details.OrderSent = prev.Details.OrderSent || prev.Details.OrderAttemptAt != nil
}

// beginAuthenticated carries on a payment that waited for 3-D Secure with
// the agent's authentication result: declined by a failed authentication,
// else authorizing again, leased to this request.
func (c *Sessions) beginAuthenticated(ctx context.Context, cs *Session, in *acp.CompleteSessionInput) (*begun, error) {
	cp := c.Completer
	if in.AuthenticationResult == nil {
		return nil, &app.Error{Code: app.CodeInvalid, Reason: "requires_3ds", Field: "$.authentication_result",
			Message: "the payment needs 3-D Secure: complete again with authentication_result"}
	}
	p, err := cp.Store.CheckoutPayment(ctx, cs.ID)
	if err != nil {
		return nil, err
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
		p.LeaseUntil = new(c.now().Add(cp.lease()))
		p.Details.Unrecorded = true // leased to this request's drive
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
	if err != nil || cs.Status != acp.StatusCompleteInProgress {
		return nil, err
	}
	return &begun{p: p}, nil
}

// paymentAccount opens the shop's payment account when it can be charged
// here (its provider runs here and its credentials are stored), for the
// drive that follows; ErrNotFound when the shop has none. The credentials
// are the ones authentication read with the settings when it did
// (app.PaymentAccount.Sealed), else read.
func (c *Sessions) paymentAccount(ctx context.Context, ag *app.Agent) (*ShopPayment, error) {
	set, err := c.settings(ctx, ag)
	if err != nil {
		return nil, err
	}
	if len(c.payments().handlers(set)) == 0 {
		return nil, fmt.Errorf("payment account: %w", app.ErrNotFound)
	}
	pa := set.Payment
	cred := &app.PaymentCredentials{ShopID: ag.Shop.ID, Provider: pa.Provider, AccountID: pa.AccountID, Sealed: pa.Sealed,
		VerifiedAt: pa.VerifiedAt}
	if pa.Sealed == "" {
		if cred, err = c.Completer.Store.PaymentCredentials(ctx, ag.Shop.ID, pa.Provider); err != nil {
			return nil, err
		}
	}
	return c.payments().open(c.Completer.Keys, cred)
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

// drive runs the completion (b: the one this request just began; nil: one
// that is under way) and records its outcome.
func (c *Sessions) drive(ctx context.Context, sh *app.Shop, cs *Session, b *begun) (*Session, error) {
	var held *Payment
	var pay *ShopPayment
	if b != nil {
		held, pay = b.p, b.pay
	}
	p, derr := c.Completer.drive(ctx, sh, cs, held, pay)
	if p == nil {
		return nil, derr
	}
	if errors.Is(derr, errLeased) {
		return c.waitForCompletion(ctx, sh, cs) // another request or replica holds it
	}
	if derr != nil && !errors.Is(derr, errInProgress) && c.Logger != nil {
		c.Logger.WarnContext(ctx, "completion interrupted", "session", cs.ID, "err", derr)
	}
	return c.record(ctx, sh, cs, p)
}

// record writes where a drive stopped, in one go (writeRecord; else
// recordInTx): the payment record with its lease released (unless a newer
// attempt began), the session's status from it, and, when this write
// completes the session, its order_create, so that the event exists
// exactly once, whoever (request or resume job, on any replica) finishes
// the completion. The session write is guarded by the row version of cs;
// the session is read again only when that conflicts. It is written even
// when the request's client went away: the outcome is known, and the
// lease is released for the next driver at once.
func (c *Sessions) record(ctx context.Context, sh *app.Shop, cs *Session, p *Payment) (*Session, error) {
	ctx = context.WithoutCancel(ctx)
	p.LeaseUntil = nil
	p.Details.Unrecorded = false // this is where its driver stopped
	cur := *cs                   // cs stays as it was if the write fails
	for attempt := 1; ; attempt++ {
		created := cur.Status != acp.StatusCompleted && p.State == PaymentCompleted
		next := cur
		applyPayment(&next, p)
		next.UpdatedAt = c.now()
		ok, err := c.writeRecord(ctx, &next, p, created)
		switch {
		case !ok:
			return c.recordInTx(ctx, sh, cs, p)
		case err == nil:
			return &next, nil
		case errors.Is(err, ErrStaleAttempt):
			// A newer payment attempt began (this driver is stale): its
			// outcome is not this one's to write.
			return c.load(ctx, sh, cs.ID)
		case !errors.Is(err, app.ErrConflict):
			return nil, fmt.Errorf("record completion: %w", err)
		case attempt == maxWriteAttempts:
			return nil, &app.Error{Code: app.CodeConflict, Reason: "concurrent_update", RetryAfter: time.Second,
				Message: "the session is being changed by another request; retry"}
		}
		// The session changed meanwhile: apply the outcome to it as it is.
		fresh, err := c.load(ctx, sh, cs.ID)
		if err != nil {
			return nil, err
		}
		cur = *fresh
	}
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
			return c.drive(ctx, sh, cs, nil)
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
	out, err := c.drive(ctx, sh, cs, nil)
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
