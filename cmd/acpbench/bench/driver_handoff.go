package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The buyer's side of a Shopify-checkout conversation: follow the
// session's continue_url and pay at the checkout page it leads to.

// handoff reports whether the conversations complete through Shopify's
// checkout.
func (d *driver) handoff() bool { return d.cfg.Completion == CompletionShopifyCheckout }

// payable reports whether session s is what the step before payment
// wants: ready_for_payment for delegated payment; requires_escalation
// (the buyer continues at Shopify's checkout) otherwise.
func (d *driver) payable(s map[string]any) bool {
	if d.handoff() {
		return s["status"] == "requires_escalation"
	}
	return s["status"] == "ready_for_payment"
}

// payAtShopify is step 4 through Shopify's checkout: the buyer follows
// the session's continue_url (the app writes the draft order and
// redirects to its invoice) and pays there, then the agent reads the
// session until the app has completed it from Shopify's webhooks.
func (d *driver) payAtShopify(ctx context.Context, a agent, c *Conversation, s map[string]any) error {
	tr := a.transport()
	u, _ := s["continue_url"].(string)
	if u == "" {
		return d.unexpected(tr, EndpointShipping, "no continue_url", s)
	}
	c.ContinueURL = u
	invoice, err := d.follow(ctx, tr, u)
	if err != nil {
		return err
	}
	c.InvoiceURL = invoice
	// The buyer's browser: no agent key, a form post with no fields (the
	// page's test card always succeeds). Paying twice would be a second
	// purchase attempt, so there is no retry.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, invoice, strings.NewReader(""))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, _, b, dur, err := d.do(req)
	ok := err == nil && status == http.StatusOK
	d.rec.request(tr, EndpointPay, status, dur, ok)
	switch {
	case err != nil:
		d.rec.errorAnswer(tr, EndpointPay, 0, "transport: "+transportKind(err), []byte(err.Error()))
		return fmt.Errorf("%s: %w", EndpointPay, err)
	case !ok:
		d.rec.errorAnswer(tr, EndpointPay, status, "checkout page", b)
		return fmt.Errorf("%s: %d %s", EndpointPay, status, sample(b))
	}
	paid := time.Now()
	for deadline := paid.Add(d.cfg.RetryFor); ; {
		s, err := d.call(ctx, a, EndpointGet, operation{opGet, c.SessionID}, nil)
		c.Polls++
		if err != nil {
			return err
		}
		st, _ := s["status"].(string)
		c.Status = st
		switch {
		case st == "completed":
			d.rec.timing(tr, EndpointCompletedAfterPay, time.Since(paid))
			if o, ok := s["order"].(map[string]any); ok {
				c.OrderID, _ = o["id"].(string)
			}
			if c.OrderID == "" {
				return d.unexpected(tr, EndpointGet, "completed without an order", s)
			}
			return nil
		case st == "canceled" || st == "expired":
			return d.unexpected(tr, EndpointGet, "ended without completing after the payment", s)
		case time.Now().After(deadline) || ctx.Err() != nil:
			return d.unexpected(tr, EndpointGet, "not completed after the payment", s)
		}
		sleep(ctx, d.cfg.PollEvery)
	}
}

// follow is the buyer following the continue_url: the app answers 303
// to the draft's invoice, whose URL it returns. With Config.Retry a busy or
// throttled page (429, 503) is loaded again after its Retry-After, as its
// own "try again" link and the busy page's reload do.
func (d *driver) follow(ctx context.Context, tr, u string) (string, error) {
	deadline := time.Now().Add(d.cfg.RetryFor)
	for attempt := 1; ; attempt++ {
		status, loc, retryAfter, err := d.followOnce(ctx, tr, u)
		if err == nil {
			return loc, nil
		}
		again := status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable
		if !d.cfg.Retry || !again || time.Now().After(deadline) || ctx.Err() != nil {
			return "", err
		}
		wait := time.Duration(min(attempt, 10)) * 100 * time.Millisecond
		if ra, perr := strconv.ParseFloat(retryAfter, 64); perr == nil && ra >= 0 {
			wait = min(time.Duration(ra*float64(time.Second)), 5*time.Second)
		}
		sleep(ctx, wait)
	}
}

// followOnce loads the continue_url once: the invoice URL of a 303, or
// the page's status, its Retry-After and an error.
func (d *driver) followOnce(ctx context.Context, tr, u string) (int, string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, "", "", err
	}
	d.inFlight.Add(1)
	t0 := time.Now()
	resp, err := d.buyer.Do(req)
	var b []byte
	if err == nil {
		b, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	dur := time.Since(t0)
	d.inFlight.Add(-1)
	if err != nil {
		d.rec.request(tr, EndpointContinue, 0, dur, false)
		d.rec.errorAnswer(tr, EndpointContinue, 0, "transport: "+transportKind(err), []byte(err.Error()))
		return 0, "", "", fmt.Errorf("%s: %w", EndpointContinue, err)
	}
	loc, lerr := resp.Location()
	ok := resp.StatusCode == http.StatusSeeOther && lerr == nil
	d.rec.request(tr, EndpointContinue, resp.StatusCode, dur, ok)
	if !ok {
		d.rec.errorAnswer(tr, EndpointContinue, resp.StatusCode, "continue page", b)
		if resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			d.rec.missingRetryAfter(tr, EndpointContinue)
		}
		return resp.StatusCode, "", resp.Header.Get("Retry-After"), fmt.Errorf("%s: %d %s", EndpointContinue, resp.StatusCode, sample(b))
	}
	return resp.StatusCode, loc.String(), "", nil
}
