package checkout

import (
	"errors"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// shopifyRefusal is the answer to a Shopify write the agent's call needed
// and Shopify did not take (msg says which, for the agent): the shop's
// API budget (its rate limit) is a 429 with the wait the budget needs, so
// that the agent retries when the points are back; anything else a 503 to
// retry in a moment.
func shopifyRefusal(err error, msg string) *app.Error {
	if errors.Is(err, shopify.ErrThrottled) {
		wait, ok := shopify.RetryAfter(err)
		if !ok {
			wait = time.Second
		}
		return &app.Error{Code: app.CodeRateLimited, Reason: "rate_limit_exceeded", RetryAfter: wait,
			Message: msg + " (the store's Shopify connection is at its rate limit)"}
	}
	return &app.Error{Code: app.CodeUnavailable, RetryAfter: 2 * time.Second, Message: msg}
}
