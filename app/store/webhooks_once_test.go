package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestWebhookEventStoredProcessed: a delivery handled before it is stored
// is stored once, already processed (its outcome, no payload, no claim,
// the time it was received): the sweep never hands it over, a job finds
// it done, a redelivery (same webhook id, or same event under another
// one) is a duplicate of it, and the retention prunes it like any
// processed delivery.
func TestWebhookEventStoredProcessed(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		received := now.Add(-time.Second)
		ev := app.WebhookEvent{WebhookID: "w1", Shop: "a.myshopify.com", Topic: "inventory_levels/update", EventID: "e1",
			Payload: []byte(`{}`), ReceivedAt: received, ProcessedAt: &now, Outcome: "inventory change handled"}
		id, dup, err := st.InsertWebhookEvent(ctx, ev)
		if err != nil || dup || id == 0 {
			t.Fatalf("insert: %d %v %v", id, dup, err)
		}
		got, err := st.WebhookEvent(ctx, id)
		if err != nil || got.ProcessedAt == nil || !got.ProcessedAt.Equal(now) || got.Outcome != ev.Outcome ||
			string(got.Payload) != "{}" || got.ClaimedUntil != nil || !got.ReceivedAt.Equal(received) {
			t.Fatalf("stored: %+v %v", got, err)
		}
		if ids, err := st.HandOverWebhookEvents(ctx, now.Add(time.Hour), 10); err != nil || len(ids) != 0 {
			t.Fatalf("handed over: %v %v", ids, err)
		}
		if got, claimed, err := st.ClaimWebhookEvent(ctx, id, now, now.Add(time.Minute)); err != nil || claimed || got.ProcessedAt == nil {
			t.Fatalf("a job's claim: %+v %v %v", got, claimed, err)
		}
		for _, again := range []app.WebhookEvent{
			{WebhookID: "w1", Shop: ev.Shop, Topic: ev.Topic, EventID: "e2", Payload: []byte(`{}`)},
			{WebhookID: "w2", Shop: ev.Shop, Topic: ev.Topic, EventID: "e1", Payload: []byte(`{}`)},
		} {
			if _, dup, err := st.InsertWebhookEvent(ctx, again); err != nil || !dup {
				t.Fatalf("redelivery %s/%s: duplicate %v, %v", again.WebhookID, again.EventID, dup, err)
			}
		}
		if n, err := st.PruneWebhookEvents(ctx, now); err != nil || n != 1 {
			t.Fatalf("pruned %d, %v; want 1", n, err)
		}
	})
}
