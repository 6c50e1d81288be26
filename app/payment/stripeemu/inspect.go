package stripeemu

import (
	"maps"
	"time"
)

// Intent is a test's view of a PaymentIntent held by the emulator.
type Intent struct {
	ID            string
	Account       string
	Status        string // requires_payment_method, requires_confirmation, requires_action, requires_capture, succeeded, canceled
	CaptureMethod string
	Currency      string
	Amount        int64
	// AmountCapturable is what an uncaptured authorization holds.
	AmountCapturable int64
	// AmountCaptured is what was captured (Stripe's amount_received).
	AmountCaptured int64
	AmountRefunded int64
	Captured       bool
	Metadata       map[string]string
	Description    string
	// Token is the Shared Payment Token the payment method came from.
	Token string
	// PaymentMethod is the test PaymentMethod behind it, e.g. pm_card_visa.
	PaymentMethod string
	// Authorizations counts successful authorizations (0 or 1): "exactly
	// one charge" means one intent with Authorizations == 1.
	Authorizations int
	// Attempts counts charge attempts, declines included.
	Attempts int
	Refunds  []string
	Created  time.Time
}

// Stats counts what the emulator did.
type Stats struct {
	Requests             int // every request, faults and errors included
	Replays              int // answers replayed for an Idempotency-Key
	IdempotencyConflicts int // idempotency_error answers (other parameters, or in flight)
	Faults               int // injected faults, before or after processing
	Authorizations       int // successful authorizations
	Declines             int // declined attempts, failed 3-D Secure included
	Captures             int // captures, automatic ones included
	Cancels              int
	Refunds              int
}

// Intents lists the account's PaymentIntents in creation order.
func (e *Emulator) Intents(accountID string) []Intent {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []Intent
	for _, id := range e.order {
		in := e.intents[id]
		if in.account != accountID {
			continue
		}
		out = append(out, in.view())
	}
	return out
}

// Intent returns one PaymentIntent, whatever its account.
func (e *Emulator) Intent(id string) (Intent, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	in, ok := e.intents[id]
	if !ok {
		return Intent{}, false
	}
	return in.view(), true
}

func (in *intent) view() Intent {
	v := Intent{
		ID: in.id, Account: in.account, Status: in.status, CaptureMethod: in.captureMethod,
		Currency: in.currency, Amount: in.amount, AmountCapturable: in.capturable,
		AmountCaptured: in.received, AmountRefunded: in.refunded,
		Captured: in.charge != nil && in.charge.captured, Metadata: maps.Clone(in.metadata),
		Description: in.description, Token: in.token, Authorizations: in.authorizations,
		Attempts: in.attempts, Refunds: append([]string(nil), in.refundIDs...), Created: in.created,
	}
	if in.pm != nil {
		v.PaymentMethod = in.pm.name
	}
	return v
}

// Calls counts the requests to a path. The path may be concrete
// ("/v1/payment_intents/pi_123/capture") or a route pattern
// ("/v1/payment_intents/{id}/capture"), with or without the method first
// ("POST /v1/payment_intents").
func (e *Emulator) Calls(path string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.calls[path]
}

// Stats returns the counters.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}
