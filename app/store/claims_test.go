package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/app/store"
)

// TestWebhookEventClaims: a delivery stored claimed is not handed over
// before its claim passes, then exactly once; a job claims it only when it
// is free, never while another holds it, and not once it is processed.
func TestWebhookEventClaims(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Millisecond)
		insert := func(id string, claim *time.Time) int64 {
			t.Helper()
			n, _, err := st.InsertWebhookEvent(ctx, app.WebhookEvent{WebhookID: id, Shop: "a.myshopify.com", Topic: "inventory_levels/update",
				EventID: id, Payload: []byte(`{}`), ClaimedUntil: claim})
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		inline := insert("inline", ptr(now.Add(20*time.Second))) // claimed by its request
		failed := insert("failed", ptr(now.Add(20*time.Second))) // its request failed
		done := insert("done", ptr(now.Add(20*time.Second)))     // processed inline
		queued := insert("queued", nil)                          // a job owns it
		if err := st.FinishWebhookEvent(ctx, done, "handled"); err != nil {
			t.Fatal(err)
		}

		// While the claims hold: nothing to hand over, and a job cannot take it.
		if ids, err := st.HandOverWebhookEvents(ctx, now, 10); err != nil || len(ids) != 0 {
			t.Fatalf("hand over under claim: %v, %v", ids, err)
		}
		ev, claimed, err := st.ClaimWebhookEvent(ctx, inline, now, now.Add(time.Minute))
		if err != nil || claimed || ev.ClaimedUntil == nil || !ev.ClaimedUntil.Equal(now.Add(20*time.Second)) {
			t.Fatalf("claim of a claimed delivery: %+v, %v, %v", ev, claimed, err)
		}

		// A job may claim the one it owns, once: a second job waits.
		ev, claimed, err = st.ClaimWebhookEvent(ctx, queued, now, now.Add(time.Minute))
		if err != nil || !claimed || ev.WebhookID != "queued" || string(ev.Payload) != "{}" {
			t.Fatalf("claim of a job's delivery: %+v, %v, %v", ev, claimed, err)
		}
		if _, claimed, err := st.ClaimWebhookEvent(ctx, queued, now, now.Add(time.Minute)); err != nil || claimed {
			t.Fatalf("second claim: %v, %v", claimed, err)
		}
		// It failed: released to River, it is not swept either.
		if err := st.ReleaseWebhookEvent(ctx, queued); err != nil {
			t.Fatal(err)
		}

		// Past the claims: the unprocessed claimed ones are handed over, once.
		later := now.Add(21 * time.Second)
		ids, err := st.HandOverWebhookEvents(ctx, later, 10)
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, []int64{inline, failed}) {
			t.Fatalf("hand over: %v, %v; want %v", ids, err, []int64{inline, failed})
		}
		if ids, err := st.HandOverWebhookEvents(ctx, later, 10); err != nil || len(ids) != 0 {
			t.Fatalf("second hand over: %v, %v", ids, err)
		}
		// Processed: a job finds it done and does not claim it.
		ev, claimed, err = st.ClaimWebhookEvent(ctx, done, later, later.Add(time.Minute))
		if err != nil || claimed || ev.ProcessedAt == nil {
			t.Fatalf("claim of a processed delivery: %+v, %v, %v", ev, claimed, err)
		}
		// A note (deferred) clears the claim: the scheduled job owns it.
		if _, claimed, err := st.ClaimWebhookEvent(ctx, failed, later, later.Add(time.Minute)); err != nil || !claimed {
			t.Fatalf("claim after hand over: %v, %v", claimed, err)
		}
		if err := st.NoteWebhookEvent(ctx, failed, "waiting"); err != nil {
			t.Fatal(err)
		}
		if ev, err := st.WebhookEvent(ctx, failed); err != nil || ev.ClaimedUntil != nil || ev.Outcome != "waiting" {
			t.Fatalf("after a note: %+v, %v", ev, err)
		}
	})
}

// TestAgentEventClaims: an event stored claimed for its first attempt is
// handed to a job only once that claim has passed, and once; a job claims
// a pending event only when no one else holds it; an attempt records the
// claim it leaves.
func TestAgentEventClaims(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		insert := func(session string, claim *time.Time) int64 {
			t.Helper()
			ev := &orderevents.Event{ShopID: sh.ID, SessionID: session, Type: acp.EventOrderCreate, APIVersion: acp.V20260417,
				Body: []byte(`{}`), Status: orderevents.Pending, CreatedAt: now, ClaimedUntil: claim}
			if ok, err := st.InsertAgentEvent(ctx, ev); !ok || err != nil {
				t.Fatal(ok, err)
			}
			return ev.ID
		}
		first := insert("cs_first", ptr(now.Add(30*time.Second)))
		queued := insert("cs_queued", nil)
		lost := insert("cs_lost", ptr(now.Add(30*time.Second))) // its process died before the attempt

		// The first attempt's claim holds: no job claims it, no sweep takes it.
		if ev, claimed, err := st.ClaimAgentEvent(ctx, first, now, now.Add(time.Minute)); err != nil || claimed || ev.ClaimedUntil == nil {
			t.Fatalf("claim under the first attempt: %+v, %v, %v", ev, claimed, err)
		}
		if ids, err := st.HandOverAgentEvents(ctx, now, 10); err != nil || len(ids) != 0 {
			t.Fatalf("hand over under claim: %v, %v", ids, err)
		}
		// The first attempt fails: it leaves its claim past.
		if err := st.RecordAgentEventAttempt(ctx, orderevents.Attempt{EventID: first, AttemptedAt: now, StatusCode: 500, Error: "500"},
			orderevents.Pending, ptr(now)); err != nil {
			t.Fatal(err)
		}
		ids, err := st.HandOverAgentEvents(ctx, now.Add(time.Second), 10)
		if err != nil || !slices.Equal(ids, []int64{first}) {
			t.Fatalf("hand over: %v, %v; want [%d]", ids, err, first)
		}
		if ids, err := st.HandOverAgentEvents(ctx, now.Add(time.Second), 10); err != nil || len(ids) != 0 {
			t.Fatalf("second hand over: %v, %v", ids, err)
		}
		// The lost one, once its claim has passed.
		if ids, err := st.HandOverAgentEvents(ctx, now.Add(31*time.Second), 10); err != nil || !slices.Equal(ids, []int64{lost}) {
			t.Fatalf("hand over of the lost event: %v, %v; want [%d]", ids, err, lost)
		}

		// A job claims a job-owned event once; a second job waits.
		ev, claimed, err := st.ClaimAgentEvent(ctx, queued, now, now.Add(time.Minute))
		if err != nil || !claimed || ev.SessionID != "cs_queued" || ev.ClaimedUntil == nil {
			t.Fatalf("job claim: %+v, %v, %v", ev, claimed, err)
		}
		if _, claimed, err := st.ClaimAgentEvent(ctx, queued, now, now.Add(time.Minute)); err != nil || claimed {
			t.Fatalf("second job claim: %v, %v", claimed, err)
		}
		// Delivered: no claim left, and no one claims it again.
		if err := st.RecordAgentEventAttempt(ctx, orderevents.Attempt{EventID: queued, AttemptedAt: now, StatusCode: 200},
			orderevents.Delivered, nil); err != nil {
			t.Fatal(err)
		}
		ev, claimed, err = st.ClaimAgentEvent(ctx, queued, now.Add(2*time.Minute), now.Add(3*time.Minute))
		if err != nil || claimed || ev.Status != orderevents.Delivered || ev.ClaimedUntil != nil || ev.DeliveredAt == nil || ev.Attempts != 1 {
			t.Fatalf("after delivery: %+v, %v, %v", ev, claimed, err)
		}
		atts, err := st.AgentEventAttempts(ctx, first)
		if err != nil || len(atts) != 1 || atts[0].StatusCode != 500 {
			t.Fatalf("attempts: %+v, %v", atts, err)
		}
	})
}
