package checkout

import (
	"context"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// TestEventPrefix starts the checkout session id of a test order event, so
// the agent's side can tell it from a real order.
const TestEventPrefix = "acpb_test_"

// SendTest posts one signed order_update event about a made-up session
// (TestEventPrefix…) to the webhook URL in set, exactly as real events are
// sent (same headers, same Merchant-Signature), and returns the
// receiver's HTTP status. Nothing is stored or retried.
func (a *AgentEvents) SendTest(ctx context.Context, set *app.ACPSettings) (int, error) {
	secretBytes, err := a.Keys.Open(set.WebhookSecretSealed, app.WebhookSecretAAD(set.ShopID))
	if err != nil {
		return 0, fmt.Errorf("test event: open the webhook secret: %w", err)
	}
	sid, err := newSessionID()
	if err != nil {
		return 0, err
	}
	sh, err := a.Store.ShopByID(ctx, set.ShopID)
	if err != nil {
		return 0, err
	}
	now := a.now()
	o := &acp.Order{ID: "test", CheckoutSessionID: TestEventPrefix + sid[len("cs_"):], Status: acp.OrderStatusCreated,
		PermalinkURL: "https://" + sh.Domain + "/"}
	body, err := acp.EncodeOrderEvent(acp.V20260417, acp.EventOrderUpdate, o)
	if err != nil {
		return 0, fmt.Errorf("test event: %w", err)
	}
	timeout := a.Timeout
	if timeout <= 0 || timeout > 10*time.Second {
		timeout = 10 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ev := &AgentEvent{ShopID: set.ShopID, SessionID: o.CheckoutSessionID, Type: acp.EventOrderUpdate,
		APIVersion: acp.V20260417, Body: body, CreatedAt: now}
	return a.post(rctx, set.WebhookURL, secretBytes, ev, now)
}
