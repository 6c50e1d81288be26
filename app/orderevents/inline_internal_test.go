package orderevents

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/secret"
)

// settingsStore is a Store that answers the shop's ACP settings (counting
// the reads) and records delivery attempts.
type settingsStore struct {
	Store
	set      *app.ACPSettings
	mu       sync.Mutex
	reads    int
	attempts chan Attempt
}

func (s *settingsStore) ACPSettings(context.Context, int64) (*app.ACPSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	return s.set, nil
}

func (s *settingsStore) RecordAgentEventAttempt(_ context.Context, a Attempt, _ string, _ *time.Time) error {
	s.attempts <- a
	return nil
}

// TestOrderCreatedFirstAttemptTakesTheCompletionsSettings: the
// order_create the completion stores is first sent, once its write is
// committed (Stored), with the shop's settings the completion read: to
// that webhook URL, signed with that secret, without reading them again;
// without them, the attempt reads them.
func TestOrderCreatedFirstAttemptTakesTheCompletionsSettings(t *testing.T) {
	key, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := secret.ParseKeyring(key)
	if err != nil {
		t.Fatal(err)
	}
	const shopID = 3
	hits := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits <- r.URL.Path
	}))
	defer srv.Close()
	settings := func(path string) *app.ACPSettings {
		sealed, err := keys.Seal([]byte("whsec_"+path), app.WebhookSecretAAD(shopID))
		if err != nil {
			t.Fatal(err)
		}
		return &app.ACPSettings{ShopID: shopID, WebhookURL: srv.URL + "/" + path, WebhookSecretSealed: sealed}
	}
	cs := &checkout.Session{ID: "cs_1", ShopID: shopID, Version: acp.V20260417, Status: acp.StatusCompleted, Currency: "USD"}
	p := &checkout.Payment{SessionID: cs.ID, ShopID: shopID, State: checkout.PaymentCompleted, OrderID: "gid://shopify/Order/1",
		OrderStatusURL: "https://a.myshopify.com/orders/1"}
	for _, tc := range []struct {
		name      string
		carried   *app.ACPSettings
		wantPath  string
		wantReads int
	}{
		{name: "the completion's settings", carried: settings("carried"), wantPath: "/carried", wantReads: 0},
		{name: "none carried", wantPath: "/stored", wantReads: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &settingsStore{set: settings("stored"), attempts: make(chan Attempt, 1)}
			s := &Service{Store: st, Keys: keys, HTTP: srv.Client()}
			ev, err := s.PrepareOrderCreated(context.Background(), cs, p, tc.carried)
			if err != nil {
				t.Fatal(err)
			}
			if ev.Type != acp.EventOrderCreate || ev.ClaimedUntil == nil || len(ev.Body) == 0 || ev.Status != Pending {
				t.Fatalf("event %+v", ev)
			}
			ev.Stored(context.Background(), 41)
			if err := s.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			select {
			case a := <-st.attempts:
				if a.EventID != 41 || a.StatusCode != http.StatusOK {
					t.Fatalf("attempt %+v", a)
				}
			default:
				t.Fatal("no attempt was recorded")
			}
			if got := <-hits; got != tc.wantPath {
				t.Errorf("sent to %s, want %s", got, tc.wantPath)
			}
			if st.reads != tc.wantReads {
				t.Errorf("%d settings reads, want %d", st.reads, tc.wantReads)
			}
		})
	}
}

func (s *settingsStore) RecordDeliveredAgentEvents(_ context.Context, atts []Attempt) error {
	for _, a := range atts {
		s.attempts <- a
	}
	return nil
}
