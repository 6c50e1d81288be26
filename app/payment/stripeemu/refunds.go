package stripeemu

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// refund is a Refund of a captured PaymentIntent.
type refund struct {
	id, account    string
	intent, charge string
	amount         int64
	currency       string
	reason         string
	metadata       map[string]string
	created        time.Time
}

func (r *refund) json() map[string]any {
	var reason any
	if r.reason != "" {
		reason = r.reason
	}
	return map[string]any{
		"id": r.id, "object": "refund", "amount": r.amount, "balance_transaction": "txn_" + r.id[3:],
		"charge": r.charge, "created": r.created.Unix(), "currency": r.currency, "destination_details": nil,
		"metadata": r.metadata, "payment_intent": r.intent, "reason": reason, "receipt_number": nil,
		"source_transfer_reversal": nil, "status": "succeeded", "transfer_reversal": nil,
	}
}

// createRefund is POST /v1/refunds: a full or partial refund of a captured
// PaymentIntent (or of its charge). The refunds of an intent never exceed
// what was captured.
func (e *Emulator) createRefund(rq *request) (any, *apiError) {
	p := rq.params
	if err := checkParams(p, "payment_intent", "charge", "amount", "reason", "metadata[", "expand["); err != nil {
		return nil, err
	}
	if err := noExpand(p); err != nil {
		return nil, err
	}
	amount, present, err := intParam(p, "amount")
	if err != nil {
		return nil, err
	}
	if present && amount < 1 {
		return nil, invalid("amount", "parameter_invalid_integer", "This value must be greater than or equal to 1.")
	}
	reason := p.Get("reason")
	switch reason {
	case "", "duplicate", "fraudulent", "requested_by_customer":
	default:
		return nil, invalid("reason", "", "Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer")
	}
	md, err := metadataParam(p, nil)
	if err != nil {
		return nil, err
	}
	var in *intent
	switch piID, chID := p.Get("payment_intent"), p.Get("charge"); {
	case piID != "" && chID != "":
		return nil, invalid("charge", "", "You cannot specify both charge and payment_intent.")
	case piID != "":
		i, ok := e.intents[piID]
		if !ok || i.account != rq.acct.id {
			return nil, &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Code: "resource_missing",
				Param: "payment_intent", Message: "No such payment_intent: '" + piID + "'", validation: true}
		}
		in = i
	case chID != "":
		for _, i := range e.intents {
			if i.account == rq.acct.id && i.charge != nil && i.charge.id == chID {
				in = i
			}
		}
		if in == nil {
			return nil, &apiError{status: http.StatusBadRequest, Type: "invalid_request_error", Code: "resource_missing",
				Param: "charge", Message: "No such charge: '" + chID + "'", validation: true}
		}
	default:
		return nil, invalid("", "parameter_missing", "One of the following params should be provided for this request: payment_intent or charge.")
	}
	if in.status != statusSucceeded || in.charge == nil || !in.charge.captured {
		return nil, e.unexpectedState(in, nil, "This PaymentIntent (%s) does not have a successful charge to refund (status %s). Cancel an uncaptured PaymentIntent instead.", in.id, in.status)
	}
	left := in.received - in.refunded
	if left == 0 {
		return nil, stateError("charge_already_refunded", "", "Charge %s has already been refunded.", in.charge.id)
	}
	if !present {
		amount = left
	}
	if amount > left {
		return nil, stateError("amount_too_large", "amount",
			"Refund amount (%d %s) is greater than unrefunded amount on charge (%d %s)", amount, in.currency, left, in.currency)
	}
	r := &refund{id: e.newID("re_", 24), account: rq.acct.id, intent: in.id, charge: in.charge.id,
		amount: amount, currency: in.currency, reason: reason, metadata: md, created: rq.now}
	e.refunds[r.id] = r
	in.refunded += amount
	in.charge.amountRefunded = in.refunded
	in.refundIDs = append(in.refundIDs, r.id)
	e.stats.Refunds++
	return r.json(), nil
}

// getRefund is GET /v1/refunds/{id}.
func (e *Emulator) getRefund(rq *request) (any, *apiError) {
	if err := checkParams(rq.params, "expand["); err != nil {
		return nil, err
	}
	if err := noExpand(rq.params); err != nil {
		return nil, err
	}
	id := rq.r.PathValue("id")
	r, ok := e.refunds[id]
	if !ok || r.account != rq.acct.id {
		return nil, notFound("id", "refund", id)
	}
	return r.json(), nil
}

// getAccount is GET /v1/account: the account the key belongs to.
func (e *Emulator) getAccount(rq *request) (any, *apiError) {
	if err := checkParams(rq.params, "expand["); err != nil {
		return nil, err
	}
	a := rq.acct
	name := "Emulated " + a.id
	return map[string]any{
		"id": a.id, "object": "account", "type": "standard", "country": "US", "default_currency": "usd",
		"created": a.created.Unix(), "email": a.id + "@example.com", "charges_enabled": true,
		"payouts_enabled": true, "details_submitted": true, "business_type": "company",
		"business_profile": map[string]any{"name": name, "url": nil},
		"capabilities":     map[string]any{"card_payments": "active", "transfers": "active"},
		"settings": map[string]any{
			"dashboard": map[string]any{"display_name": name, "timezone": "Etc/UTC"},
			"payments":  map[string]any{"statement_descriptor": "EMULATED"},
		},
		"metadata": map[string]string{},
	}, nil
}

// noExpand refuses every expansion, for objects the emulator never expands.
func noExpand(p url.Values) *apiError {
	for k, vs := range p {
		if strings.HasPrefix(k, "expand[") {
			return invalid(k, "", "This property cannot be expanded (%s).", vs[0])
		}
	}
	return nil
}
