package checkout

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
)

// cartStore keeps carts in memory, with row versions as app/store.
type cartStore struct {
	carts  map[string]Cart
	method app.CompletionMethod
}

func (s *cartStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}
func (s *cartStore) CreateCart(_ context.Context, c *Cart) error {
	c.RowVersion = 1
	s.carts[c.ID] = *c
	return nil
}
func (s *cartStore) Cart(_ context.Context, shopID int64, id string) (*Cart, error) {
	c, ok := s.carts[id]
	if !ok || c.ShopID != shopID {
		return nil, app.ErrNotFound
	}
	return &c, nil
}
func (s *cartStore) SaveCart(_ context.Context, c *Cart) error {
	if cur, ok := s.carts[c.ID]; !ok || cur.RowVersion != c.RowVersion {
		return app.ErrConflict
	}
	c.RowVersion++
	s.carts[c.ID] = *c
	return nil
}
func (s *cartStore) DeleteCart(_ context.Context, c *Cart) error {
	if cur, ok := s.carts[c.ID]; !ok || cur.RowVersion != c.RowVersion {
		return app.ErrConflict
	}
	delete(s.carts, c.ID)
	return nil
}
func (s *cartStore) OverdueCarts(_ context.Context, now time.Time, limit int) ([]SessionRef, error) {
	var out []SessionRef
	for _, c := range s.carts {
		if !now.Before(c.ExpiresAt) && len(out) < limit {
			out = append(out, SessionRef{ShopID: c.ShopID, ID: c.ID})
		}
	}
	return out, nil
}
func (s *cartStore) ACPSettings(_ context.Context, shopID int64) (*app.ACPSettings, error) {
	return &app.ACPSettings{ShopID: shopID, CompletionMethod: s.method}, nil
}

// cartPricer is handoffPricer that, as Pricing does, asks for the address
// a shipped cart lacks.
type cartPricer struct{ handoffPricer }

func (p cartPricer) Quote(ctx context.Context, sh *app.Shop, v acp.Version, st *State) (Quote, error) {
	q, err := p.handoffPricer.Quote(ctx, sh, v, st)
	if err == nil && !q.Complete {
		q.Messages = append(q.Messages, errorMessage(acp.MessageCodeMissing, addressParam(v), "A shipping address is needed.", "requires_buyer_input"))
	}
	return q, err
}

type cartEnv struct {
	c      *Carts
	store  *cartStore
	drafts *handoffDrafts
	queue  *handoffQueue
	now    time.Time
	ag     *app.Agent
}

func newCartEnv(t *testing.T, dist app.Distribution, method app.CompletionMethod) *cartEnv {
	t.Helper()
	e := &cartEnv{
		store:  &cartStore{carts: map[string]Cart{}, method: method},
		drafts: &handoffDrafts{drafts: map[string]HandoffDraft{}},
		queue:  &handoffQueue{},
		now:    time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC),
	}
	e.c = NewCarts(e.store, cartPricer{}, e.queue, e.drafts, CartsOptions{Logger: slog.New(slog.DiscardHandler),
		Now: func() time.Time { return e.now }, Distribution: dist})
	e.ag = &app.Agent{Shop: handoffShop, Key: &app.APIKey{ID: 3}}
	return e
}

func encodeCart(t *testing.T, c *Cart) string {
	t.Helper()
	b, err := acp.EncodeCart(acp.V20260417, c.View())
	if err != nil {
		t.Fatal(err)
	}
	if err := acptest.ValidateCart("Cart", b); err != nil {
		t.Fatalf("the cart does not match the schema: %v\n%s", err, b)
	}
	return string(b)
}

// TestCartLifecycle: a Shopify-checkout shop's cart is priced, holds a
// draft order with its lines (named by the cart, stock held until the cart
// expires) and answers its invoice URL as continue_url; an update replaces
// the items and buyer, refreshes the expiry and updates the same draft; a
// cart that cannot be bought loses its draft; cancel answers the cart,
// deletes it and releases the draft.
func TestCartLifecycle(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, app.DistributionAppStore, app.CompletionDelegatedPayment)
	ctx := context.Background()
	c, err := e.c.Create(ctx, e.ag, &acp.CreateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 2}},
		Buyer: &acp.Buyer{Email: "ada@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c.ID, "cart_") || !validCartID(c.ID) || c.APIKeyID != 3 || !c.ExpiresAt.Equal(e.now.Add(DefaultCartTTL)) {
		t.Errorf("cart %+v", c)
	}
	h := c.State.Handoff
	if h == nil || len(e.drafts.drafts) != 1 {
		t.Fatalf("no draft: %+v", c.State)
	}
	d := e.drafts.drafts[h.DraftID]
	if d.CartID != c.ID || d.SessionID != "" || d.Email != "ada@example.com" || d.Address != nil || d.Shipping != nil ||
		len(d.Lines) != 1 || d.Lines[0].Quantity != 2 || !d.ReserveUntil.Equal(c.ExpiresAt) {
		t.Errorf("draft %+v", d)
	}
	body := encodeCart(t, c)
	for _, want := range []string{`"continue_url":"` + h.InvoiceURL + `"`, `"type":"total","display_text":"Total","amount":2000`, `"type":"info"`} {
		if !strings.Contains(body, want) {
			t.Errorf("answer lacks %s: %s", want, body)
		}
	}
	if strings.Contains(body, `"type":"tax"`) || strings.Contains(body, `"type":"error"`) {
		t.Errorf("an address-less cart shows tax or an error: %s", body)
	}

	got, err := e.c.Get(ctx, e.ag, c.ID)
	if err != nil || encodeCart(t, got) != body {
		t.Fatalf("get = %v; want the created cart", err)
	}

	e.now = e.now.Add(time.Hour)
	up, err := e.c.Update(ctx, e.ag, c.ID, &acp.UpdateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	if up.State.Buyer != nil || up.State.Items[0].Quantity != 3 || !up.ExpiresAt.Equal(e.now.Add(DefaultCartTTL)) ||
		up.State.Handoff.DraftID != h.DraftID || e.drafts.upserts[len(e.drafts.upserts)-1] != h.DraftID {
		t.Errorf("update: %+v (upserts %v)", up, e.drafts.upserts)
	}
	if d := e.drafts.drafts[h.DraftID]; d.Lines[0].Quantity != 3 || d.Email != "" || !d.ReserveUntil.Equal(up.ExpiresAt) {
		t.Errorf("the draft was not replaced: %+v", d)
	}

	// Out of stock: the cart stays, with the problem, and without a draft.
	out, err := e.c.Update(ctx, e.ag, c.ID, &acp.UpdateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 9}}})
	if err != nil {
		t.Fatal(err)
	}
	body = encodeCart(t, out)
	if out.State.Handoff != nil || strings.Contains(body, "continue_url") || !strings.Contains(body, `"code":"out_of_stock"`) ||
		len(e.drafts.drafts) != 0 {
		t.Errorf("unbuyable cart: %s (drafts %v)", body, e.drafts.drafts)
	}
	back, err := e.c.Update(ctx, e.ag, c.ID, &acp.UpdateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 1}}})
	if err != nil || back.State.Handoff == nil {
		t.Fatalf("back in stock: %+v, %v", back, err)
	}

	canceled, err := e.c.Cancel(ctx, e.ag, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if canceled.State.Items[0].Quantity != 1 || canceled.State.Handoff == nil {
		t.Errorf("cancel answered %+v; want the cart before deletion", canceled)
	}
	encodeCart(t, canceled)
	if len(e.queue.jobs) != 1 || e.queue.jobs[0] != (ReleaseDraftArgs{ShopID: handoffShop.ID, DraftID: back.State.Handoff.DraftID}) {
		t.Errorf("jobs %+v; want the draft's release", e.queue.jobs)
	}
	for _, call := range []func() error{
		func() error { _, err := e.c.Get(ctx, e.ag, c.ID); return err },
		func() error { _, err := e.c.Cancel(ctx, e.ag, c.ID); return err },
		func() error {
			_, err := e.c.Update(ctx, e.ag, c.ID, &acp.UpdateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 1}}})
			return err
		},
	} {
		if err := call(); !isNotFound(err) {
			t.Errorf("after cancel: %v; want not found", err)
		}
	}
}

func isNotFound(err error) bool {
	var ae *app.Error
	return errors.As(err, &ae) && ae.Code == app.CodeNotFound
}

// TestCartExpiry: a cart past its expiry is not found, and its draft is
// released.
func TestCartExpiry(t *testing.T) {
	t.Parallel()
	e := newCartEnv(t, "", app.CompletionShopifyCheckout)
	ctx := context.Background()
	c, err := e.c.Create(ctx, e.ag, &acp.CreateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	e.now = c.ExpiresAt
	if _, err := e.c.Get(ctx, e.ag, c.ID); !isNotFound(err) {
		t.Fatalf("expired cart: %v; want not found", err)
	}
	if len(e.store.carts) != 0 || len(e.queue.jobs) != 1 {
		t.Errorf("expired cart kept (%d) or draft not released (%v)", len(e.store.carts), e.queue.jobs)
	}
	// One nobody reads again is deleted by housekeeping, its draft
	// released; a live one stays.
	e.now = e.now.Add(-2 * DefaultCartTTL)
	unread, err := e.c.Create(ctx, e.ag, &acp.CreateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	e.now = unread.ExpiresAt.Add(time.Second)
	live, err := e.c.Create(ctx, e.ag, &acp.CreateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.c.ExpireOverdue(ctx); n != 1 || err != nil {
		t.Fatalf("ExpireOverdue = %d, %v; want 1", n, err)
	}
	if _, ok := e.store.carts[unread.ID]; ok || len(e.queue.jobs) != 2 {
		t.Errorf("unread cart kept, or its draft not released (%v)", e.queue.jobs)
	}
	if _, ok := e.store.carts[live.ID]; !ok {
		t.Error("a live cart was deleted")
	}
	if n, _ := e.c.ExpireOverdue(ctx); n != 0 {
		t.Errorf("ExpireOverdue again = %d", n)
	}
	// Another shop's id, or a malformed one, is not found either.
	if _, err := e.c.Get(ctx, e.ag, "cs_notacart"); !isNotFound(err) {
		t.Errorf("malformed id: %v", err)
	}
}

// TestCartsOnlyForShopifyCheckout: a shop that completes by delegated
// payment (custom distribution) has no carts; nor has a server without
// draft orders.
func TestCartsOnlyForShopifyCheckout(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	e := newCartEnv(t, app.DistributionCustom, app.CompletionDelegatedPayment)
	if ok, err := e.c.CartsEnabled(ctx, e.ag); ok || err != nil {
		t.Errorf("CartsEnabled = %v, %v", ok, err)
	}
	if _, err := e.c.Create(ctx, e.ag, &acp.CreateCartInput{Items: []acp.ItemInput{{ID: "42", Quantity: 1}}}); !isNotFound(err) {
		t.Errorf("create: %v; want not found", err)
	}
	if len(e.store.carts) != 0 || len(e.drafts.upserts) != 0 {
		t.Error("a refused create wrote something")
	}
	on := newCartEnv(t, app.DistributionCustom, app.CompletionShopifyCheckout)
	if ok, _ := on.c.CartsEnabled(ctx, on.ag); !ok {
		t.Error("a Shopify-checkout shop has no carts")
	}
	// Settings the agent carries are already effective.
	on.ag.Settings = &app.ACPSettings{CompletionMethod: app.CompletionDelegatedPayment}
	if ok, _ := on.c.CartsEnabled(ctx, on.ag); ok {
		t.Error("the agent's settings were not used")
	}
	on.ag.Settings = nil
	on.c.Drafts = nil
	if ok, _ := on.c.CartsEnabled(ctx, on.ag); ok {
		t.Error("carts without draft orders")
	}
}
