package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/app/store"
)

func TestAgentEvents(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		cs := &checkout.Session{ID: "cs_evt", ShopID: sh.ID, Version: acp.V20260417, Status: acp.StatusCompleted, Currency: "USD",
			ExpiresAt: now.Add(time.Hour), CreatedAt: now, UpdatedAt: now}
		if err := st.CreateCheckoutSession(ctx, cs); err != nil {
			t.Fatal(err)
		}
		p := &checkout.Payment{SessionID: cs.ID, ShopID: sh.ID, State: checkout.PaymentCompleted, Attempt: 1, TokenSealed: "x",
			Amount: 6289, Currency: "USD", PaymentIntentID: "pi_1", OrderID: "gid://shopify/Order/77", CreatedAt: now, UpdatedAt: now}
		if err := st.SavePayment(ctx, p); err != nil {
			t.Fatal(err)
		}

		// The payment is found by its order, in its shop only.
		got, err := st.CheckoutPaymentByOrder(ctx, sh.ID, "gid://shopify/Order/77")
		if err != nil || got.SessionID != cs.ID || got.PaymentIntentID != "pi_1" {
			t.Fatalf("by order: %+v, %v", got, err)
		}
		for _, id := range []string{"gid://shopify/Order/78", ""} {
			if _, err := st.CheckoutPaymentByOrder(ctx, sh.ID, id); !errors.Is(err, app.ErrNotFound) {
				t.Errorf("order %q: %v, want not found", id, err)
			}
		}
		if _, err := st.CheckoutPaymentByOrder(ctx, sh.ID+1, "gid://shopify/Order/77"); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("other shop: %v, want not found", err)
		}

		// One order_create per session; order_updates as many as come.
		body := `{"type":"order_create","data":{"type":"order"}}`
		create := &orderevents.Event{ShopID: sh.ID, SessionID: cs.ID, Type: acp.EventOrderCreate, APIVersion: acp.V20260417,
			Body: []byte(body), CreatedAt: now}
		if ok, err := st.InsertAgentEvent(ctx, create); !ok || err != nil || create.ID == 0 {
			t.Fatalf("insert: %v %v %d", ok, err, create.ID)
		}
		again := *create
		again.ID = 0
		if ok, err := st.InsertAgentEvent(ctx, &again); ok || err != nil {
			t.Errorf("second order_create: %v %v, want not inserted", ok, err)
		}
		for i := 0; i < 2; i++ {
			upd := &orderevents.Event{ShopID: sh.ID, SessionID: cs.ID, Type: acp.EventOrderUpdate, APIVersion: acp.V20250929,
				Body: []byte(`{}`), CreatedAt: now.Add(time.Duration(i+1) * time.Minute)}
			if ok, err := st.InsertAgentEvent(ctx, upd); !ok || err != nil {
				t.Fatalf("order_update %d: %v %v", i, ok, err)
			}
		}
		evs, err := st.AgentEvents(ctx, sh.ID, cs.ID)
		if err != nil || len(evs) != 3 || evs[0].Type != acp.EventOrderCreate || string(evs[0].Body) != body ||
			evs[0].Status != orderevents.Pending || evs[2].APIVersion != acp.V20250929 {
			t.Fatalf("events: %+v, %v", evs, err)
		}

		// Attempts: two failures, then delivered.
		for i, a := range []orderevents.Attempt{
			{EventID: create.ID, AttemptedAt: now, StatusCode: 500, Error: "the agent answered 500", Duration: 12 * time.Millisecond},
			{EventID: create.ID, AttemptedAt: now.Add(time.Second), Error: "no answer within the timeout", Duration: time.Second},
			{EventID: create.ID, AttemptedAt: now.Add(time.Minute), StatusCode: 200, Duration: 3 * time.Millisecond},
		} {
			status := orderevents.Pending
			if i == 2 {
				status = orderevents.Delivered
			}
			if err := st.RecordAgentEventAttempt(ctx, a, status, nil); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := st.AgentEvent(ctx, create.ID)
		if err != nil || ev.Status != orderevents.Delivered || ev.Attempts != 3 || ev.LastStatus != 200 || ev.LastError != "" ||
			ev.DeliveredAt == nil || !ev.DeliveredAt.Equal(now.Add(time.Minute)) {
			t.Fatalf("after attempts: %+v, %v", ev, err)
		}
		atts, err := st.AgentEventAttempts(ctx, create.ID)
		if err != nil || len(atts) != 3 || atts[0].StatusCode != 500 || atts[1].Error != "no answer within the timeout" ||
			atts[1].Duration != time.Second || atts[2].StatusCode != 200 {
			t.Fatalf("attempts: %+v, %v", atts, err)
		}
		if err := st.RecordAgentEventAttempt(ctx, orderevents.Attempt{EventID: 999999, AttemptedAt: now}, orderevents.Pending, nil); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("attempt of a missing event: %v", err)
		}

		// Failing: only a pending event.
		if err := st.FailAgentEvent(ctx, evs[1].ID, "no webhook URL"); err != nil {
			t.Fatal(err)
		}
		if err := st.FailAgentEvent(ctx, create.ID, "late"); err != nil {
			t.Fatal(err)
		}
		if ev, _ := st.AgentEvent(ctx, evs[1].ID); ev.Status != orderevents.Failed || ev.LastError != "no webhook URL" {
			t.Errorf("failed event: %+v", ev)
		}
		if ev, _ := st.AgentEvent(ctx, create.ID); ev.Status != orderevents.Delivered {
			t.Errorf("a delivered event was failed: %+v", ev)
		}
		if _, err := st.AgentEvent(ctx, 999999); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("missing event: %v", err)
		}

		// Deleting the shop deletes its events and their attempts.
		if err := st.UninstallShop(ctx, sh.Domain); err != nil {
			t.Fatal(err)
		}
		if _, err := st.DeleteShopData(ctx, sh.Domain, time.Now().Add(time.Minute), ""); err != nil {
			t.Fatal(err)
		}
		if _, err := st.AgentEvent(ctx, create.ID); !errors.Is(err, app.ErrNotFound) {
			t.Errorf("after shop deletion: %v", err)
		}
		if atts, _ := st.AgentEventAttempts(ctx, create.ID); len(atts) != 0 {
			t.Errorf("attempts left: %d", len(atts))
		}
	})
}

// TestRecordDeliveredAgentEvents: a batch of first attempts that delivered
// their events leaves each event delivered at its attempt's time, with one
// attempt more and its claim cleared, and keeps each attempt; an event no
// longer stored is skipped. On PostgreSQL the batch is one statement.
func TestRecordDeliveredAgentEvents(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, err := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Date(2026, 12, 8, 10, 0, 0, 0, time.UTC)
		var atts []orderevents.Attempt
		var other int64
		for i := range 4 {
			claim := now.Add(30 * time.Second)
			ev := &orderevents.Event{ShopID: sh.ID, SessionID: fmt.Sprintf("cs_%d", i), Type: acp.EventOrderUpdate,
				APIVersion: acp.V20260417, Body: []byte(`{}`), CreatedAt: now, ClaimedUntil: &claim}
			if ok, err := st.InsertAgentEvent(ctx, ev); !ok || err != nil {
				t.Fatalf("insert %d: %v %v", i, ok, err)
			}
			if i == 3 {
				other = ev.ID // not in the batch
				continue
			}
			atts = append(atts, orderevents.Attempt{EventID: ev.ID, AttemptedAt: now.Add(time.Duration(i) * time.Second),
				StatusCode: 200 + i, Duration: time.Duration(i+1) * time.Millisecond})
		}
		atts = append(atts, orderevents.Attempt{EventID: 999999, AttemptedAt: now, StatusCode: 200})
		n := store.CountStatements(st)
		if err := st.RecordDeliveredAgentEvents(ctx, atts); err != nil {
			t.Fatal(err)
		}
		if got := n.Load(); st.Kind() == app.DatabasePostgres && got != 1 {
			t.Errorf("a batch of %d: %d statements, want 1", len(atts), got)
		}
		for _, a := range atts[:3] {
			ev, err := st.AgentEvent(ctx, a.EventID)
			if err != nil || ev.Status != orderevents.Delivered || ev.Attempts != 1 || ev.LastStatus != a.StatusCode ||
				ev.ClaimedUntil != nil || ev.DeliveredAt == nil || !ev.DeliveredAt.Equal(a.AttemptedAt) {
				t.Errorf("event %d after the batch: %+v, %v", a.EventID, ev, err)
			}
			kept, err := st.AgentEventAttempts(ctx, a.EventID)
			if err != nil || len(kept) != 1 || kept[0].StatusCode != a.StatusCode || kept[0].Duration != a.Duration ||
				!kept[0].AttemptedAt.Equal(a.AttemptedAt) || kept[0].Error != "" {
				t.Errorf("event %d's attempts: %+v, %v", a.EventID, kept, err)
			}
		}
		if ev, err := st.AgentEvent(ctx, other); err != nil || ev.Status != orderevents.Pending || ev.Attempts != 0 || ev.ClaimedUntil == nil {
			t.Errorf("an event outside the batch: %+v, %v", ev, err)
		}
		if kept, err := st.AgentEventAttempts(ctx, 999999); err != nil || len(kept) != 0 {
			t.Errorf("attempts of a missing event: %+v, %v", kept, err)
		}
		if err := st.RecordDeliveredAgentEvents(ctx, nil); err != nil {
			t.Errorf("an empty batch: %v", err)
		}
	})
}
