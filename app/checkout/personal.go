package checkout

// Buyers' personal data in a session or a cart: the buyer (name, email,
// phone), the fulfillment details (address, contact) and the order notes
// the agent passed on. The priced lines, totals, order reference and
// status carry none and stay for the records. Used by customers/redact and
// by the retention purge (store.ForgetEndedBuyers).

// ForgetBuyer removes the buyer's personal data from the session's state.
func (s *State) ForgetBuyer() {
	s.Buyer, s.Fulfillment, s.OrderNotes = nil, nil, ""
}

// ForgetBuyer removes the buyer the agent gave from the cart's state.
func (s *CartState) ForgetBuyer() { s.Buyer = nil }
