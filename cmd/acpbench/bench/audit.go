package bench

import "fmt"

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
	// Problems lists every session whose end is not "one captured charge
	// and one order" or "no charge and no order" (an authorisation
	// released counts as no charge), and every completed one that is not
	// the former.
	Problems []string
}

// Audit counts, per session of convs, the Stripe charges and Shopify
// orders: exactly-once means one of each for a completed conversation,
// and never two.
func (s *Stack) Audit(convs []Conversation) Audit {
	type counts struct{ authorized, captured, held, orders int }
	per := map[string]*counts{}
	get := func(id string) *counts {
		c := per[id]
		if c == nil {
			c = &counts{}
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
	for _, o := range s.Shopify.Orders(s.Shop) {
		if o.SourceIdentifier != "" {
			get(o.SourceIdentifier).orders++
		}
	}
	events := s.Events.OrderCreates()
	a := Audit{}
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
