package bench

import (
	"fmt"
	"time"
)

// handoffAttribute is the custom attribute the app puts on a draft order
// (and Shopify carries to its order) with the checkout session id, as
// app/checkout.HandoffAttribute; the driver reads it off the emulator's
// orders without importing the app's checkout code.
const handoffAttribute = "acpbridge_session"

// Audit is what Stripe and Shopify hold for a run's conversations.
type Audit struct {
	Sessions int
	// Completed counts conversations the driver saw completed.
	Completed int
	// Charged and Ordered count sessions with at least one captured
	// charge, and at least one order.
	Charged, Ordered int
	// Notified counts sessions whose order_create event reached the
	// agent; NotifiedTwice those that got it more than once (allowed: the
	// delivery is at least once, but with no faults it should not happen).
	Notified, NotifiedTwice int
	// Completion is the stack's completion method. Through Shopify's
	// checkout, StripeRequests counts the Stripe emulator's requests
	// during the run (want 0) and TotalsMatched the completed sessions
	// whose one Shopify order has the session's total.
	Completion     string
	StripeRequests int
	TotalsMatched  int
	// Problems lists every session whose end is not "one captured charge
	// and one order" or "no charge and no order" (an authorisation
	// released counts as no charge), and every completed one that is not
	// the former. Through Shopify's checkout: every completed session
	// without exactly one order of its total and one order_create, every
	// other one with an order, and any Stripe request.
	Problems []string
}

// Audit counts, per session of convs, the Stripe charges and Shopify
// orders: exactly-once means one of each for a completed conversation,
// and never two.
func (s *Stack) Audit(convs []Conversation) Audit {
	per := map[string]*auditCounts{}
	get := func(id string) *auditCounts {
		c := per[id]
		if c == nil {
			c = &auditCounts{}
			per[id] = c
		}
		return c
	}
	for _, in := range s.Stripe.Intents(s.Account) {
		id := in.Metadata["checkout_session_id"]
		if id == "" || in.Authorizations == 0 {
			continue
		}
		c := get(id)
		c.authorized++
		switch {
		case in.Captured:
			c.captured++
		case in.Status == "requires_capture":
			c.held++
		}
	}
	totals := map[string][]int64{} // session → its orders' totals
	for _, o := range s.Shopify.Orders(s.Shop) {
		id := o.SourceIdentifier
		for _, at := range o.CustomAttributes {
			if id == "" && at.Key == handoffAttribute {
				id = at.Value
			}
		}
		if id != "" {
			get(id).orders++
			totals[id] = append(totals[id], o.TotalCents)
		}
	}
	if s.cfg.Completion == CompletionShopifyCheckout {
		return s.auditHandoff(convs, per, totals)
	}
	events := s.Events.OrderCreates()
	a := Audit{Completion: s.cfg.Completion}
	for _, cv := range convs {
		switch n := events[cv.SessionID]; {
		case n > 1:
			a.NotifiedTwice++
			fallthrough
		case n == 1:
			a.Notified++
		}
		if cv.SessionID == "" {
			continue
		}
		a.Sessions++
		c := get(cv.SessionID)
		if c.captured > 0 {
			a.Charged++
		}
		if c.orders > 0 {
			a.Ordered++
		}
		done := cv.Err == ""
		if done {
			a.Completed++
		}
		switch {
		case c.captured > 1 || c.orders > 1 || c.authorized > 1:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: %d authorisations, %d captured, %d orders (duplicate)", cv.SessionID, c.authorized, c.captured, c.orders))
		case done && (c.captured != 1 || c.orders != 1):
			a.Problems = append(a.Problems, fmt.Sprintf("%s: completed with %d captured charges and %d orders", cv.SessionID, c.captured, c.orders))
		case !done && (c.captured != c.orders || c.held > 0):
			a.Problems = append(a.Problems, fmt.Sprintf("%s: not completed (%s) with %d captured, %d held, %d orders", cv.SessionID, cv.Err, c.captured, c.held, c.orders))
		}
	}
	return a
}

// auditCounts are one session's Stripe PaymentIntents and Shopify orders.
type auditCounts struct{ authorized, captured, held, orders int }

// auditHandoff is the audit of a shop selling through Shopify's checkout:
// every completed conversation has exactly one Shopify order, of the
// session's total, and one order_create at the agent's webhook; nothing
// reached Stripe. The events are sent after the webhook that completes the
// session, so it waits up to 30 s for the missing ones.
func (s *Stack) auditHandoff(convs []Conversation, per map[string]*auditCounts, totals map[string][]int64) Audit {
	a := Audit{Completion: s.cfg.Completion, StripeRequests: s.Stripe.Stats().Requests - s.stripeBase}
	events := s.Events.OrderCreates()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		missing := false
		for _, cv := range convs {
			if cv.Err == "" && events[cv.SessionID] == 0 {
				missing = true
				break
			}
		}
		if !missing {
			break
		}
		time.Sleep(200 * time.Millisecond)
		events = s.Events.OrderCreates()
	}
	for _, cv := range convs {
		if cv.SessionID == "" {
			continue
		}
		a.Sessions++
		n := events[cv.SessionID]
		if n > 0 {
			a.Notified++
		}
		if n > 1 {
			a.NotifiedTwice++
		}
		c := per[cv.SessionID]
		if c == nil {
			c = &auditCounts{}
		}
		if c.captured > 0 {
			a.Charged++
		}
		if c.orders > 0 {
			a.Ordered++
		}
		done := cv.Err == ""
		if done {
			a.Completed++
		}
		ts := totals[cv.SessionID]
		switch {
		case c.authorized > 0:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: %d Stripe authorisations through Shopify's checkout", cv.SessionID, c.authorized))
		case c.orders > 1:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: %d orders (duplicate)", cv.SessionID, c.orders))
		case done && c.orders != 1:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: completed with %d orders", cv.SessionID, c.orders))
		case done && ts[0] != cv.Total:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: the order's total %d is not the session's %d", cv.SessionID, ts[0], cv.Total))
		case done && n != 1:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: completed with %d order_create events", cv.SessionID, n))
		case !done && c.orders > 0:
			a.Problems = append(a.Problems, fmt.Sprintf("%s: not completed (%s) with %d orders", cv.SessionID, cv.Err, c.orders))
		}
		if done && c.orders == 1 && ts[0] == cv.Total {
			a.TotalsMatched++
		}
	}
	if a.StripeRequests != 0 {
		a.Problems = append(a.Problems, fmt.Sprintf("%d Stripe requests during the run, want none", a.StripeRequests))
	}
	return a
}
