package shops_test

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/shopify"
)

// countingStore is a real store that records which of its webhook_events
// methods (one statement each) and transactions the receiver calls.
type countingStore struct {
	*store.Store
	mu    sync.Mutex
	calls []string
}

func (c *countingStore) note(call string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, call)
}

// take returns the calls recorded since the last take.
func (c *countingStore) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *countingStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	c.note("InTx")
	return c.Store.InTx(ctx, fn)
}

func (c *countingStore) InsertWebhookEvent(ctx context.Context, ev app.WebhookEvent) (int64, bool, error) {
	c.note("InsertWebhookEvent")
	return c.Store.InsertWebhookEvent(ctx, ev)
}

func (c *countingStore) FinishWebhookEvent(ctx context.Context, id int64, outcome string) error {
	c.note("FinishWebhookEvent")
	return c.Store.FinishWebhookEvent(ctx, id, outcome)
}

func (c *countingStore) NoteWebhookEvent(ctx context.Context, id int64, outcome string) error {
	c.note("NoteWebhookEvent")
	return c.Store.NoteWebhookEvent(ctx, id, outcome)
}

func (c *countingStore) ClaimWebhookEvent(ctx context.Context, id int64, now, until time.Time) (*app.WebhookEvent, bool, error) {
	c.note("ClaimWebhookEvent")
	return c.Store.ClaimWebhookEvent(ctx, id, now, until)
}

func (c *countingStore) ReleaseWebhookEvent(ctx context.Context, id int64) error {
	c.note("ReleaseWebhookEvent")
	return c.Store.ReleaseWebhookEvent(ctx, id)
}

// inlineCatalog is the catalog and queue of the inline tests: it records
// each call with whether it had the request's shop row and a deadline
// within the inline budget, and fails while fail is set.
type inlineCatalog struct {
	mu    sync.Mutex
	shop  *app.Shop
	calls []string
	bad   []string // calls made without the shop row or the budget
	fail  bool
	jobs  []int64 // the shopify_webhook jobs enqueued
}

func (c *inlineCatalog) call(ctx context.Context, shop, what string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, what)
	deadline, ok := ctx.Deadline()
	if sh := app.ShopFromContext(ctx, shop); sh == nil || sh.ID != c.shop.ID || !ok || time.Until(deadline) > shops.InlineBudget {
		c.bad = append(c.bad, what)
	}
	if c.fail {
		return errors.New("catalog unavailable")
	}
	return nil
}

func (c *inlineCatalog) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

func (c *inlineCatalog) setFail(fail bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fail = fail
}

func (c *inlineCatalog) Installed(context.Context, string, app.ShopProfile) error { return nil }

func (c *inlineCatalog) ProductChanged(ctx context.Context, shop string, id int64) error {
	return c.call(ctx, shop, "product_changed "+strconv.FormatInt(id, 10))
}

func (c *inlineCatalog) ProductDeleted(ctx context.Context, shop string, id int64) error {
	return c.call(ctx, shop, "product_deleted "+strconv.FormatInt(id, 10))
}

func (c *inlineCatalog) InventoryChanged(ctx context.Context, shop string, id int64) error {
	return c.call(ctx, shop, "inventory_changed "+strconv.FormatInt(id, 10))
}

func (c *inlineCatalog) BulkFinished(ctx context.Context, shop, id string) error {
	return c.call(ctx, shop, "bulk_finished "+id)
}

// OrderWebhook is the order side (shops.OrderWebhooks): it only records.
func (c *inlineCatalog) OrderWebhook(ctx context.Context, ev *app.WebhookEvent) (string, func(context.Context) error, error) {
	return "order news noted", nil, c.call(ctx, ev.Shop, "order "+ev.Topic)
}

func (c *inlineCatalog) EnqueueTx(_ context.Context, args river.JobArgs, _ *river.InsertOpts) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a, ok := args.(app.ProcessWebhookArgs); ok {
		c.jobs = append(c.jobs, a.EventID)
	}
	return nil
}

// inlineEnv is ShopifyWebhooks over a real store holding one active shop,
// with inlineCatalog as its catalog and queue, and a clock tests move.
type inlineEnv struct {
	w       *shops.ShopifyWebhooks
	st      *countingStore
	catalog *inlineCatalog
	shop    *app.Shop
	mu      sync.Mutex
	ahead   time.Duration // the receiver's clock is this far ahead of the wall clock
	counted []string      // "topic receipt", as ShopifyWebhooks.Counted heard them
}

func newInlineEnv(st *store.Store, sh *app.Shop) *inlineEnv {
	e := &inlineEnv{st: &countingStore{Store: st}, shop: sh}
	e.catalog = &inlineCatalog{shop: sh}
	s := &shops.Shopify{ClientSecret: fuzzWebhookSecret, Store: e.st, Queue: e.catalog,
		Logger: slog.New(slog.DiscardHandler), Now: e.now}
	e.w = shops.NewWebhooks(s, e.catalog, e.catalog)
	e.w.Counted = func(topic, receipt string) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.counted = append(e.counted, topic+" "+receipt)
	}
	return e
}

// receipts returns what Counted heard since the last call.
func (e *inlineEnv) receipts() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.counted
	e.counted = nil
	return out
}

func (e *inlineEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Now().UTC().Add(e.ahead)
}

// receive posts a delivery with this webhook id and event id.
func (e *inlineEnv) receive(t *testing.T, topic, webhookID, eventID, body string) (bool, error) {
	t.Helper()
	return e.w.ReceiveWebhook(context.Background(), shops.WebhookDelivery{
		Topic: topic, Shop: e.shop.Domain, WebhookID: webhookID, EventID: eventID,
		TriggeredAt: time.Now().UTC().Format(time.RFC3339Nano),
		HMAC:        shopify.SignWebhook([]byte(body), fuzzWebhookSecret), Body: strings.NewReader(body), ContentLength: int64(len(body)),
	})
}

// events returns the stored deliveries of a topic, newest first.
func (e *inlineEnv) events(t *testing.T, topic string) []*app.WebhookEvent {
	t.Helper()
	evs, err := e.st.WebhookEvents(context.Background(), e.shop.Domain, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []*app.WebhookEvent
	for _, ev := range evs {
		if ev.Topic == topic {
			out = append(out, ev)
		}
	}
	return out
}

// TestCatalogWebhookProcessedFirst: a delivery of ProcessFirstTopics is
// processed in its request (with the shop row the request read, within
// InlineBudget) and, having nothing left to do, is not stored: no
// statement, no row, no job, counted "processed". A redelivery, by webhook
// id or by event, is processed again (safe for these topics) and still
// stores nothing. bulk_operations/finish and the order topics are stored
// (and a redelivery recognised) before they are processed.
func TestCatalogWebhookProcessedFirst(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		e := newInlineEnv(st, sh)
		for _, c := range []struct {
			topic, body, call, outcome string
			calls                      []string // the webhook_events statements (and transactions)
		}{
			{"products/create", `{"id":11,"title":"T"}`, "product_changed 11", "", nil},
			{"products/update", `{"id":12,"updated_at":"2026-12-01T10:00:00Z"}`, "product_changed 12", "", nil},
			{"products/delete", `{"id":13}`, "product_deleted 13", "", nil},
			{"inventory_levels/update", `{"inventory_item_id":14,"location_id":1,"available":3}`, "inventory_changed 14", "", nil},
			// Stored claimed, processed, then finished: two statements.
			{"bulk_operations/finish", `{"admin_graphql_api_id":"gid://shopify/BulkOperation/15","status":"completed"}`,
				"bulk_finished gid://shopify/BulkOperation/15", "bulk operation check enqueued", []string{"InsertWebhookEvent", "FinishWebhookEvent"}},
			// The money path: stored (deduplicated) before anything is done.
			{"orders/updated", `{"id":16,"admin_graphql_api_id":"gid://shopify/Order/16"}`, "order orders/updated", "order news noted",
				[]string{"InsertWebhookEvent", "InTx", "FinishWebhookEvent"}},
		} {
			t.Run(strings.ReplaceAll(c.topic, "/", "_"), func(t *testing.T) {
				processedFirst := c.calls == nil
				wid, eid := "w-"+c.topic, "e-"+c.topic
				if dup, err := e.receive(t, c.topic, wid, eid, c.body); err != nil || dup {
					t.Fatalf("delivery: duplicate %v, %v", dup, err)
				}
				if got := e.st.take(); !slices.Equal(got, c.calls) {
					t.Errorf("store calls %v, want %v", got, c.calls)
				}
				if got := e.catalog.take(); !slices.Equal(got, []string{c.call}) {
					t.Errorf("catalog calls %v, want [%s]", got, c.call)
				}
				wantReceipt := c.topic + " " + shops.ReceiptStored
				if processedFirst {
					wantReceipt = c.topic + " " + shops.ReceiptProcessed
				}
				if got := e.receipts(); !slices.Equal(got, []string{wantReceipt}) {
					t.Errorf("counted %v, want [%s]", got, wantReceipt)
				}
				evs := e.events(t, c.topic)
				if processedFirst {
					if len(evs) != 0 {
						t.Fatalf("%d rows stored (%+v), want none", len(evs), evs[0])
					}
				} else {
					if len(evs) != 1 {
						t.Fatalf("%d rows stored, want 1", len(evs))
					}
					if first := evs[0]; first.ProcessedAt == nil || first.Outcome != c.outcome || string(first.Payload) != "{}" || first.ClaimedUntil != nil ||
						first.WebhookID != wid || first.EventID != eid || first.TriggeredAt == nil {
						t.Fatalf("stored %+v, want processed (%q), no payload, no claim", first, c.outcome)
					}
				}
				before := evs

				// Redeliveries: the same webhook id, then the same event
				// under another webhook id (Shopify may send one event
				// under several).
				for _, again := range [][2]string{{wid, eid}, {wid + "-2", eid}} {
					if dup, err := e.receive(t, c.topic, again[0], again[1], c.body); err != nil || dup == processedFirst {
						t.Fatalf("redelivery %v: duplicate %v, %v; want duplicate %v", again, dup, err, !processedFirst)
					}
				}
				calls := e.catalog.take()
				if processedFirst && len(calls) != 2 || !processedFirst && len(calls) != 0 {
					t.Errorf("redeliveries' catalog calls %v", calls)
				}
				if got, want := len(e.receipts()), 2; got != want {
					t.Errorf("redeliveries counted %d times, want %d", got, want)
				}
				evs = e.events(t, c.topic)
				if len(evs) != len(before) || len(evs) == 1 && !equalEvents(evs[0], before[0]) {
					t.Fatalf("after the redeliveries: %d rows, %+v; want %+v unchanged", len(evs), evs, before)
				}
				e.st.take()
			})
		}
		if len(e.catalog.bad) != 0 || len(e.catalog.jobs) != 0 {
			t.Errorf("calls without the request's shop row or budget: %v; jobs enqueued: %v", e.catalog.bad, e.catalog.jobs)
		}
	})
}

// equalEvents compares stored deliveries field by field (times by instant).
func equalEvents(a, b *app.WebhookEvent) bool {
	eqTime := func(x, y *time.Time) bool { return x == nil && y == nil || x != nil && y != nil && x.Equal(*y) }
	return a.ID == b.ID && a.WebhookID == b.WebhookID && a.EventID == b.EventID && a.Topic == b.Topic && a.Shop == b.Shop &&
		string(a.Payload) == string(b.Payload) && a.Outcome == b.Outcome && a.ReceivedAt.Equal(b.ReceivedAt) &&
		eqTime(a.ProcessedAt, b.ProcessedAt) && eqTime(a.ClaimedUntil, b.ClaimedUntil) && eqTime(a.TriggeredAt, b.TriggeredAt)
}

// TestCatalogWebhookFailedProcessingSwept: a delivery of ProcessFirstTopics
// whose processing fails is still acknowledged and stored in one
// statement, as a failed inline processing leaves one: unprocessed, its
// payload kept, claimed for InlineClaim. No job takes it meanwhile; once
// the claim has passed the sweep hands it to one job, which processes it.
// A redelivery meanwhile is a duplicate.
func TestCatalogWebhookFailedProcessingSwept(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		e := newInlineEnv(st, sh)
		ctx := context.Background()
		const body = `{"inventory_item_id":21,"location_id":1,"available":0}`
		e.catalog.setFail(true)
		before := time.Now()
		if dup, err := e.receive(t, "inventory_levels/update", "w-fail", "e-fail", body); err != nil || dup {
			t.Fatalf("delivery: duplicate %v, %v; want stored", dup, err)
		}
		if got := e.st.take(); !slices.Equal(got, []string{"InsertWebhookEvent"}) {
			t.Errorf("store calls %v, want [InsertWebhookEvent]", got)
		}
		evs := e.events(t, "inventory_levels/update")
		if len(evs) != 1 {
			t.Fatalf("%d rows stored, want 1", len(evs))
		}
		ev := evs[0]
		if ev.ProcessedAt != nil || string(ev.Payload) != body || ev.ClaimedUntil == nil ||
			ev.ClaimedUntil.Before(before.Add(shops.InlineClaim)) || ev.ClaimedUntil.After(time.Now().Add(shops.InlineClaim)) {
			t.Fatalf("stored %+v; want unprocessed, its payload kept, claimed for InlineClaim", ev)
		}

		// Under the claim: a redelivery is a duplicate (processed again,
		// failing again), the sweep hands nothing over, a job waits.
		if dup, err := e.receive(t, "inventory_levels/update", "w-fail", "e-fail", body); err != nil || !dup {
			t.Fatalf("redelivery: duplicate %v, %v; want a duplicate", dup, err)
		}
		if err := e.w.SweepWebhooks(ctx); err != nil || len(e.catalog.jobs) != 0 {
			t.Fatalf("sweep under the claim: %v, jobs %v; want none", err, e.catalog.jobs)
		}
		var claimed *app.Claimed
		if err := e.w.ProcessWebhook(ctx, ev.ID); !errors.As(err, &claimed) {
			t.Fatalf("a job under the claim: %v, want app.Claimed", err)
		}

		// The claim passes: the sweep hands it to one job (twice swept,
		// still one), which processes it.
		e.mu.Lock()
		e.ahead = shops.InlineClaim + time.Second
		e.mu.Unlock()
		for range 2 {
			if err := e.w.SweepWebhooks(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(e.catalog.jobs, []int64{ev.ID}) {
			t.Fatalf("jobs after the sweep %v, want [%d]", e.catalog.jobs, ev.ID)
		}
		e.catalog.setFail(false)
		e.catalog.take()
		if err := e.w.ProcessWebhook(ctx, ev.ID); err != nil {
			t.Fatal(err)
		}
		if got := e.catalog.take(); !slices.Equal(got, []string{"inventory_changed 21"}) {
			t.Errorf("the job's catalog calls %v", got)
		}
		evs = e.events(t, "inventory_levels/update")
		if len(evs) != 1 || evs[0].ProcessedAt == nil || evs[0].Outcome != "inventory change handled" || string(evs[0].Payload) != "{}" {
			t.Fatalf("after the job: %d rows, %+v; want one, processed", len(evs), evs[0])
		}
	})
}

// noisyOrders is inlineCatalog's order side that can tell noise from the
// payload (shops.OrderNoise): an order whose body says "noise".
type noisyOrders struct{ *inlineCatalog }

func (noisyOrders) IgnoredOrderWebhook(ev *app.WebhookEvent) (string, bool) {
	if strings.Contains(string(ev.Payload), "noise") {
		return "ignored: noise", true
	}
	return "", false
}

// TestOrderNoiseNotStored: order news that the order side can tell from its
// payload asks nothing of the app is answered without a statement and
// without being handed to it, and leaves no row (counted "ignored"); a
// redelivery is the same. Other order news is still stored (deduplicated)
// before it is processed.
func TestOrderNoiseNotStored(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		e := newInlineEnv(st, sh)
		e.w.Orders = noisyOrders{e.catalog}
		for _, c := range []struct {
			name, body, outcome string
			calls, orderCalls   []string
			receipts            []string // of the delivery, then of its redelivery
		}{
			{"noise", `{"id":31,"note":"noise"}`, "", nil, nil, []string{"orders/create ignored", "orders/create ignored"}},
			{"news", `{"id":32}`, "order news noted", []string{"InsertWebhookEvent", "InTx", "FinishWebhookEvent"}, []string{"order orders/create"},
				[]string{"orders/create stored", "orders/create duplicate"}},
		} {
			t.Run(c.name, func(t *testing.T) {
				wid := "w-order-" + c.name
				if dup, err := e.receive(t, "orders/create", wid, "e-order-"+c.name, c.body); err != nil || dup {
					t.Fatalf("delivery: duplicate %v, %v", dup, err)
				}
				if got := e.st.take(); !slices.Equal(got, c.calls) {
					t.Errorf("store calls %v, want %v", got, c.calls)
				}
				if got := e.catalog.take(); !slices.Equal(got, c.orderCalls) {
					t.Errorf("order side's calls %v, want %v", got, c.orderCalls)
				}
				var stored *app.WebhookEvent
				for _, ev := range e.events(t, "orders/create") {
					if ev.WebhookID == wid {
						stored = ev
					}
				}
				switch {
				case c.outcome == "" && stored != nil:
					t.Fatalf("stored %+v, want nothing", stored)
				case c.outcome != "" && (stored == nil || stored.ProcessedAt == nil || stored.Outcome != c.outcome || string(stored.Payload) != "{}" || stored.ClaimedUntil != nil):
					t.Fatalf("stored %+v, want processed (%q), no payload, no claim", stored, c.outcome)
				}
				dup, err := e.receive(t, "orders/create", wid, "e-order-"+c.name, c.body)
				if err != nil || dup != (c.outcome != "") {
					t.Fatalf("redelivery: duplicate %v, %v; want %v", dup, err, c.outcome != "")
				}
				if got := e.catalog.take(); len(got) != 0 {
					t.Errorf("redelivery reached the order side: %v", got)
				}
				if got := e.receipts(); !slices.Equal(got, c.receipts) {
					t.Errorf("counted %v, want %v", got, c.receipts)
				}
				e.st.take()
			})
		}
	})
}
