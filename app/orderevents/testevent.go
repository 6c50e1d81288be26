package orderevents

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// TestSessionPrefix starts the checkout session id of a test order event, so
// the agent's side can tell it from a real order.
const TestSessionPrefix = "acpb_test_"

// SendTest posts one signed order_update event about a made-up session
// (TestSessionPrefix…) to the webhook URL in set, exactly as real events are
// sent (same headers, same Merchant-Signature), and returns the
// receiver's HTTP status. Nothing is stored or retried.
func (s *Service) SendTest(ctx context.Context, set *app.ACPSettings) (int, error) {
	secretBytes, err := s.Keys.Open(set.WebhookSecretSealed, app.WebhookSecretAAD(set.ShopID))
	if err != nil {
		return 0, fmt.Errorf("test event: open the webhook secret: %w", err)
	}
	sid, err := testSessionID()
	if err != nil {
		return 0, err
	}
	sh, err := s.Store.ShopByID(ctx, set.ShopID)
	if err != nil {
		return 0, err
	}
	now := s.now()
	o := &acp.Order{ID: "test", CheckoutSessionID: sid, Status: acp.OrderStatusCreated,
		PermalinkURL: "https://" + sh.Domain + "/"}
	body, err := acp.EncodeOrderEvent(acp.V20260417, acp.EventOrderUpdate, o)
	if err != nil {
		return 0, fmt.Errorf("test event: %w", err)
	}
	timeout := s.Timeout
	if timeout <= 0 || timeout > 10*time.Second {
		timeout = 10 * time.Second
	}
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ev := &Event{ShopID: set.ShopID, SessionID: o.CheckoutSessionID, Type: acp.EventOrderUpdate,
		APIVersion: acp.V20260417, Body: body, CreatedAt: now}
	return s.post(rctx, set.WebhookURL, secretBytes, ev, now)
}

// testSessionID is TestSessionPrefix and 26 random base32 characters (130
// bits), shaped as a real session id after its "cs_", so the agent's side
// parses it as it would a real one.
func testSessionID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return TestSessionPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}
