package stripeemu

import (
	"fmt"
	"net/url"
)

// json is the PaymentMethod object.
func (pm *paymentMethod) json() map[string]any {
	return map[string]any{
		"id": pm.id, "object": "payment_method", "type": "card", "created": pm.created.Unix(),
		"livemode": false, "metadata": map[string]string{}, "customer": nil,
		"billing_details": map[string]any{"address": nil, "email": nil, "name": nil, "phone": nil},
		"card": map[string]any{
			"brand": pm.card.brand, "display_brand": pm.card.brand, "last4": pm.card.last4,
			"exp_month": 12, "exp_year": 2034, "funding": "credit", "country": "US",
			"fingerprint":          fmt.Sprintf("emu%s%s", pm.card.brand, pm.card.last4),
			"networks":             map[string]any{"available": []string{pm.card.brand}, "preferred": nil},
			"three_d_secure_usage": map[string]any{"supported": true},
		},
	}
}

// json is the Charge object.
func (c *charge) json(in *intent) map[string]any {
	m := map[string]any{
		"id": c.id, "object": "charge", "amount": c.amount, "amount_captured": c.amountCaptured,
		"amount_refunded": c.amountRefunded, "captured": c.captured, "refunded": c.captured && c.amountRefunded == c.amountCaptured,
		"created": c.created.Unix(), "currency": in.currency, "livemode": false, "paid": c.status == "succeeded",
		"payment_intent": in.id, "status": c.status, "metadata": in.metadata, "failure_code": nil, "failure_message": nil,
		"outcome": map[string]any{"network_status": "approved_by_network", "type": "authorized", "seller_message": "Payment complete.", "risk_level": "normal"},
	}
	if c.failure != nil {
		m["failure_code"], m["failure_message"] = c.failure.Code, c.failure.Message
		m["outcome"] = map[string]any{"network_status": "declined_by_network", "type": "issuer_declined",
			"reason": c.failure.DeclineCode, "seller_message": "The bank did not return any further details with this decline."}
	}
	return m
}

// intentJSON is the PaymentIntent object, expanded as p asks.
func (e *Emulator) intentJSON(in *intent, p url.Values) map[string]any {
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var canceledAt, nextAction, pm, latest, lastErr any
	if !in.canceledAt.IsZero() {
		canceledAt = in.canceledAt.Unix()
	}
	if in.status == statusRequiresAction {
		if in.returnURL != "" {
			nextAction = map[string]any{"type": "redirect_to_url",
				"redirect_to_url": map[string]any{"url": in.nextURL, "return_url": in.returnURL}}
		} else {
			nextAction = map[string]any{"type": "use_stripe_sdk",
				"use_stripe_sdk": map[string]any{"type": "three_d_secure_redirect", "stripe_js": in.nextURL,
					"directory_server_name": "visa"}}
		}
	}
	if in.pm != nil {
		pm = in.pm.id
		if expanded(p, "payment_method") {
			pm = in.pm.json()
		}
	}
	if in.charge != nil {
		latest = in.charge.id
		if expanded(p, "latest_charge") {
			latest = in.charge.json(in)
		}
	}
	if in.lastError != nil {
		lastErr = in.lastError
	}
	return map[string]any{
		"id": in.id, "object": "payment_intent", "amount": in.amount, "amount_capturable": in.capturable,
		"amount_details": map[string]any{"tip": map[string]any{}}, "amount_received": in.received,
		"application": nil, "application_fee_amount": nil, "automatic_payment_methods": nil,
		"canceled_at": canceledAt, "cancellation_reason": opt(in.cancellationReason),
		"capture_method": in.captureMethod, "client_secret": in.clientSecret, "confirmation_method": "automatic",
		"created": in.created.Unix(), "currency": in.currency, "customer": nil, "description": opt(in.description),
		"last_payment_error": lastErr, "latest_charge": latest, "livemode": false, "metadata": in.metadata,
		"next_action": nextAction, "on_behalf_of": nil, "payment_method": pm,
		"payment_method_options": map[string]any{"card": map[string]any{"request_three_d_secure": "automatic"}},
		"payment_method_types":   []string{"card"}, "processing": nil, "receipt_email": opt(in.receiptEmail),
		"setup_future_usage": nil, "shipping": nil, "statement_descriptor": nil,
		"statement_descriptor_suffix": opt(in.sdSuffix), "status": in.status,
		"transfer_data": nil, "transfer_group": nil,
	}
}
