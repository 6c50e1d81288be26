package checkout

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/acp/acptest"
	"github.com/acpbridge/acpbridge/app"
)

// handoffStore keeps sessions in memory, with row versions as app/store;
// a stored session's state is a JSON copy, as the database's.
type handoffStore struct {
	Store
	mu       sync.Mutex
	sessions map[string]Session
	method   app.CompletionMethod
	reads    int
	// onRead, when set, is called after each session read.
	onRead func(reads int)
}

func (s *handoffStore) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return fn(ctx)
}
func (s *handoffStore) CreateCheckoutSession(_ context.Context, cs *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs.RowVersion = 1
	s.sessions[cs.ID] = copySession(*cs)
	return nil
}
func (s *handoffStore) CheckoutSession(_ context.Context, shopID int64, id string) (*Session, error) {
	s.mu.Lock()
	cs, ok := s.sessions[id]
	s.reads++
	reads, hook := s.reads, s.onRead
	s.mu.Unlock()
	if hook != nil {
		hook(reads)
	}
	if !ok || cs.ShopID != shopID {
		return nil, app.ErrNotFound
	}
	cs = copySession(cs)
	return &cs, nil
}
func (s *handoffStore) SaveCheckoutSession(_ context.Context, cs *Session) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sessions[cs.ID].RowVersion != cs.RowVersion {
		return app.ErrConflict
	}
	cs.RowVersion++
	s.sessions[cs.ID] = copySession(*cs)
	return nil
}

// stored is the stored session id.
func (s *handoffStore) stored(id string) Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return copySession(s.sessions[id])
}

func copySession(cs Session) Session {
	b, err := json.Marshal(cs.State)
	if err != nil {
		panic(err)
	}
	cs.State = State{}
	if err := json.Unmarshal(b, &cs.State); err != nil {
		panic(err)
	}
	return cs
}
func (s *handoffStore) ACPSettings(_ context.Context, shopID int64) (*app.ACPSettings, error) {
	return &app.ACPSettings{ShopID: shopID, CompletionMethod: s.method}, nil
}
func (s *handoffStore) FeedSettings(context.Context, int64) (*app.FeedSettings, error) {
	return nil, app.ErrNotFound
}
func (s *handoffStore) ShopByID(_ context.Context, id int64) (*app.Shop, error) {
	if id != handoffShop.ID {
		return nil, app.ErrNotFound
	}
	return handoffShop, nil
}

var handoffShop = &app.Shop{ID: 7, Domain: "handoff.myshopify.com", CurrencyCode: "USD"}

const handoffAppURL = "https://app.example"

// handoffPricer quotes 1,000 a unit, shipping 500 (rate "std"); more than
// five units are out of stock.
type handoffPricer struct{}

func (handoffPricer) Quote(_ context.Context, _ *app.Shop, _ acp.Version, st *State) (Quote, error) {
	q := Quote{NeedsShipping: true, QuotedAt: time.Now()}
	for _, it := range st.Items {
		q.Lines = append(q.Lines, QuotedLine{ItemID: it.ItemID, VariantID: 42, ProductID: 4, Quantity: it.Quantity,
			UnitAmount: 1000, Title: "Mug", RequiresShipping: true})
		if it.Quantity > 5 {
			q.Messages = append(q.Messages, errorMessage(acp.MessageCodeOutOfStock, "$.line_items[0]", "Only 5 left.", "requires_buyer_input"))
		}
	}
	if st.Fulfillment == nil || st.Fulfillment.Address == nil {
		return q, nil
	}
	q.Rates = []ShippingRate{{Handle: "std", Title: "Standard", Price: 500}}
	q.Options = []QuotedOption{{ID: "std", Type: acp.FulfillmentShipping, Title: "Standard", Subtotal: 500}}
	q.Chosen, q.Complete = "std", true
	return q, nil
}

// handoffDrafts records the draft calls; fail, when set, answers a write
// instead, and gate, when set, holds every write until it is closed.
type handoffDrafts struct {
	mu      sync.Mutex
	n       int
	drafts  map[string]HandoffDraft
	upserts []string // "create" or the id updated
	deleted []string
	fail    error
	gate    chan struct{}
}

func (d *handoffDrafts) UpsertDraft(_ context.Context, shop, id string, in HandoffDraft) (DraftRef, error) {
	if d.gate != nil {
		<-d.gate
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if shop != handoffShop.Domain {
		return DraftRef{}, fmt.Errorf("shop %q", shop)
	}
	if d.fail != nil {
		return DraftRef{}, d.fail
	}
	if id == "" {
		d.n++
		id = fmt.Sprintf("gid://shopify/DraftOrder/%d", d.n)
		d.upserts = append(d.upserts, "create")
	} else {
		if _, ok := d.drafts[id]; !ok {
			return DraftRef{}, app.ErrNotFound
		}
		d.upserts = append(d.upserts, id)
	}
	d.drafts[id] = in
	return DraftRef{ID: id, InvoiceURL: "https://" + shop + "/invoices/" + strings.TrimPrefix(id, "gid://shopify/DraftOrder/")}, nil
}

func (d *handoffDrafts) DeleteDraft(_ context.Context, _, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.drafts, id)
	d.deleted = append(d.deleted, id)
	return nil
}

type handoffQueue struct{ jobs []river.JobArgs }

func (q *handoffQueue) EnqueueTx(_ context.Context, args river.JobArgs, _ *river.InsertOpts) error {
	q.jobs = append(q.jobs, args)
	return nil
}

type handoffEnv struct {
	c      *Sessions
	store  *handoffStore
	drafts *handoffDrafts
	queue  *handoffQueue
	now    time.Time
	ag     *app.Agent
}

func newHandoffEnv(t *testing.T) *handoffEnv {
	t.Helper()
	e := &handoffEnv{
		store:  &handoffStore{sessions: map[string]Session{}},
		drafts: &handoffDrafts{drafts: map[string]HandoffDraft{}},
		queue:  &handoffQueue{},
		now:    time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC),
	}
	e.c = New(e.store, handoffPricer{}, nil, nil, e.queue, Options{
		Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return e.now }, Drafts: e.drafts,
		Distribution: app.DistributionAppStore, AppURL: func() string { return handoffAppURL + "/" },
	})
	// Settings read from the store (no agent's): app_store distribution
	// makes even a stored delegated_payment Shopify's checkout.
	e.ag = &app.Agent{Shop: handoffShop}
	return e
}

func createInput(qty int, address bool) *acp.CreateSessionInput {
	in := &acp.CreateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: qty}},
		Buyer: &acp.Buyer{FirstName: "Ada", LastName: "Lovelace", Email: "ada@example.com"}}
	if address {
		in.FulfillmentDetails = &acp.FulfillmentDetails{Name: "Ada Lovelace", Address: &acp.Address{Name: "Ada Lovelace",
			LineOne: "1 Market St", City: "San Francisco", State: "CA", Country: "US", PostalCode: "94105"}}
	}
	return in
}

// encode checks the session's answer in both versions against the
// official schemas and returns the 2026-04-17 one.
func encode(t *testing.T, cs *Session) map[acp.Version]string {
	t.Helper()
	out := map[acp.Version]string{}
	for _, v := range acp.SupportedVersions {
		b, err := acp.EncodeSession(v, cs.View())
		if err != nil {
			t.Fatalf("encode %s: %v", v, err)
		}
		if err := acptest.Validate(v, acptest.SessionDef(cs.Status == acp.StatusCompleted), b); err != nil {
			t.Errorf("%s answer does not match the schema: %v\n%s", v, err, b)
		}
		out[v] = string(b)
	}
	return out
}

// click is the buyer following the session's continue_url.
func (e *handoffEnv) click(t *testing.T, cs *Session) *ContinueOutcome {
	t.Helper()
	out, err := e.c.Continue(context.Background(), linkToken(t, cs))
	if err != nil {
		t.Fatalf("continue: %v", err)
	}
	return out
}

// linkToken is the token of the session's continue_url.
func linkToken(t *testing.T, cs *Session) string {
	t.Helper()
	l := cs.State.Continue
	if l == nil || !strings.HasPrefix(l.URL, handoffAppURL+ContinuePath) {
		t.Fatalf("continue link = %+v", l)
	}
	return strings.TrimPrefix(l.URL, handoffAppURL+ContinuePath)
}

// TestHandoffSession: a Shopify-checkout shop's payable session tells
// the agent to send the buyer to its continue_url, in each version's
// terms, with no Shopify call; following it writes a draft order with
// exactly what was priced and redirects to its invoice. An update that
// changes nothing makes no Shopify call, a change updates the same draft,
// complete is refused without charging, and cancel releases the draft.
func TestHandoffSession(t *testing.T) {
	e := newHandoffEnv(t)
	ctx := context.Background()
	cs, err := e.c.Create(ctx, e.ag, acp.V20260417, createInput(1, false))
	if err != nil {
		t.Fatal(err)
	}
	if cs.Status != acp.StatusNotReadyForPayment || len(e.drafts.upserts) != 0 || cs.State.Handoff != nil || cs.State.Continue != nil {
		t.Fatalf("without an address: %s, drafts %v", cs.Status, e.drafts.upserts)
	}
	encode(t, cs)

	cs, err = e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{FulfillmentDetails: createInput(1, true).FulfillmentDetails})
	if err != nil {
		t.Fatal(err)
	}
	if cs.Status != acp.StatusRequiresEscalation || cs.State.Handoff != nil || len(e.drafts.upserts) != 0 {
		t.Fatalf("payable: %s, handoff %+v, drafts %v", cs.Status, cs.State.Handoff, e.drafts.upserts)
	}
	url := cs.State.Continue.URL
	if tok := linkToken(t, cs); strings.Contains(tok, cs.ID) || len(tok) < 40 {
		t.Errorf("token %q: the session id in the clear, or too short to be unguessable", tok)
	}
	if len(cs.State.PaymentHandlers) != 0 {
		t.Errorf("handlers = %+v, want none", cs.State.PaymentHandlers)
	}
	wire := encode(t, cs)
	for _, want := range []string{`"status":"requires_escalation"`, `"continue_url":"` + url + `"`, `"code":"intervention_required"`,
		`"resolution":"requires_buyer_review"`, `"capabilities":{"extensions":[{"name":"discount"`} {
		if !strings.Contains(wire[acp.V20260417], want) {
			t.Errorf("2026-04-17 answer lacks %s:\n%s", want, wire[acp.V20260417])
		}
	}
	if strings.Contains(wire[acp.V20260417], `"payment":`) {
		t.Errorf("2026-04-17 answer offers a payment handler:\n%s", wire[acp.V20260417])
	}
	old := wire[acp.V20250929]
	if !strings.Contains(old, `"status":"not_ready_for_payment"`) || !strings.Contains(old, url) || strings.Contains(old, "continue_url") ||
		strings.Contains(old, "payment_provider") {
		t.Errorf("2025-09-29 answer:\n%s", old)
	}

	// The buyer follows the link: the draft is written now.
	out := e.click(t, cs)
	cs = ptr(e.store.stored(cs.ID))
	if len(e.drafts.upserts) != 1 || cs.State.Handoff == nil || out.RedirectURL != cs.State.Handoff.InvoiceURL || cs.State.Continue.Claim != "" {
		t.Fatalf("click: %+v, drafts %v, handoff %+v", out, e.drafts.upserts, cs.State.Handoff)
	}
	draftID := cs.State.Handoff.DraftID
	d := e.drafts.drafts[draftID]
	if d.SessionID != cs.ID || d.Email != "ada@example.com" || len(d.Lines) != 1 || d.Lines[0].VariantID != 42 || d.Lines[0].Quantity != 1 ||
		d.Address == nil || d.Shipping == nil || d.Shipping.Handle != "std" || d.Shipping.Price != 500 || d.ReserveUntil.Before(cs.ExpiresAt) || d.ReserveUntil.Sub(cs.ExpiresAt) >= time.Second || d.ReserveUntil.Nanosecond() != 0 {
		t.Errorf("draft = %+v", d)
	}
	if w := encode(t, cs)[acp.V20260417]; !strings.Contains(w, `"continue_url":"`+url+`"`) {
		t.Errorf("after the click the agent is told another URL:\n%s", w)
	}

	// The same inputs again: no Shopify call.
	if cs, err = e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{FulfillmentDetails: createInput(1, true).FulfillmentDetails}); err != nil {
		t.Fatal(err)
	}
	if len(e.drafts.upserts) != 1 || cs.Status != acp.StatusRequiresEscalation {
		t.Errorf("unchanged update: %s, drafts %v", cs.Status, e.drafts.upserts)
	}
	// Two units: the draft the buyer may hold open is updated.
	if cs, err = e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 2}}}); err != nil {
		t.Fatal(err)
	}
	if len(e.drafts.upserts) != 2 || e.drafts.upserts[1] != draftID || cs.State.Handoff.DraftID != draftID || e.drafts.drafts[draftID].Lines[0].Quantity != 2 {
		t.Errorf("re-priced: drafts %v, handoff %+v", e.drafts.upserts, cs.State.Handoff)
	}

	// complete: refused, with where to go.
	_, err = e.c.Complete(ctx, e.ag, acp.V20260417, cs.ID, &acp.CompleteSessionInput{Payment: acp.PaymentInput{HandlerID: "card_tokenized", Token: "spt_1"}})
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Code != app.CodeInvalid || ae.Reason != "requires_escalation" || ae.Field != "$.payment_data" || !strings.Contains(ae.Message, url) {
		t.Errorf("complete = %v, want requires_escalation naming %s", err, url)
	}

	// cancel: the draft's release is enqueued with the write.
	if cs, err = e.c.Cancel(ctx, e.ag, cs.ID, nil); err != nil || cs.Status != acp.StatusCanceled {
		t.Fatalf("cancel: %v, %v", cs, err)
	}
	if len(e.queue.jobs) != 1 || e.queue.jobs[0] != (ReleaseDraftArgs{ShopID: handoffShop.ID, DraftID: draftID}) {
		t.Errorf("jobs = %+v", e.queue.jobs)
	}
	encode(t, cs)
	if err := e.c.ReleaseDraft(ctx, handoffShop.ID, draftID); err != nil || len(e.drafts.drafts) != 0 {
		t.Errorf("release: %v, drafts left %v", err, e.drafts.drafts)
	}
}

func ptr[T any](v T) *T { return &v }

// TestHandoffDraftFollowsPayability: once the buyer has followed the
// link, a session that stops being payable loses its draft at once (a
// stale invoice must not be paid), and the next click writes a new one
// when it is payable again; a draft deleted in Shopify is not recreated
// by the agent's change but by the next click.
func TestHandoffDraftFollowsPayability(t *testing.T) {
	e := newHandoffEnv(t)
	ctx := context.Background()
	cs, err := e.c.Create(ctx, e.ag, acp.V20260417, createInput(1, true))
	if err != nil || cs.Status != acp.StatusRequiresEscalation {
		t.Fatalf("create: %v, %v", cs, err)
	}
	url := cs.State.Continue.URL
	e.click(t, cs)
	first := e.store.stored(cs.ID).State.Handoff.DraftID
	if cs, err = e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 9}}}); err != nil {
		t.Fatal(err)
	}
	if cs.Status != acp.StatusNotReadyForPayment || cs.State.Handoff != nil || len(e.drafts.deleted) != 1 || e.drafts.deleted[0] != first {
		t.Errorf("not payable: %s, handoff %+v, deleted %v", cs.Status, cs.State.Handoff, e.drafts.deleted)
	}
	if strings.Contains(encode(t, cs)[acp.V20260417], "continue_url") {
		t.Error("a session that cannot be paid shows a continue_url")
	}
	if out := e.click(t, cs); out.Page != PageNotReady || len(e.drafts.upserts) != 1 {
		t.Errorf("click while not payable: %+v, drafts %v", out, e.drafts.upserts)
	}
	if cs, err = e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 3}}}); err != nil {
		t.Fatal(err)
	}
	if cs.Status != acp.StatusRequiresEscalation || cs.State.Continue.URL != url || cs.State.Handoff != nil {
		t.Errorf("payable again: %s, link %+v, handoff %+v", cs.Status, cs.State.Continue, cs.State.Handoff)
	}
	e.click(t, cs)
	second := e.store.stored(cs.ID).State.Handoff.DraftID
	if second == first {
		t.Errorf("the deleted draft again: %s", second)
	}
	e.drafts.mu.Lock()
	delete(e.drafts.drafts, second) // the merchant deleted it in Shopify
	e.drafts.mu.Unlock()
	if cs, err = e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 4}}}); err != nil {
		t.Fatal(err)
	}
	if cs.State.Handoff != nil || cs.Status != acp.StatusRequiresEscalation || len(e.drafts.drafts) != 0 {
		t.Errorf("draft gone in Shopify: %s, handoff %+v, drafts %v", cs.Status, cs.State.Handoff, e.drafts.drafts)
	}
	e.click(t, cs)
	cs = ptr(e.store.stored(cs.ID))
	if cs.State.Handoff == nil || cs.State.Handoff.DraftID == second || e.drafts.drafts[cs.State.Handoff.DraftID].Lines[0].Quantity != 4 {
		t.Errorf("recreated: %+v", cs.State.Handoff)
	}
	// The shop switches to delegated payment (custom distribution): the
	// draft goes with the next change.
	third := cs.State.Handoff.DraftID
	e.c.Distribution, e.store.method = app.DistributionCustom, app.CompletionDelegatedPayment
	if cs, err = e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	if cs.State.Handoff != nil || e.drafts.drafts[third].SessionID != "" || cs.Status == acp.StatusRequiresEscalation {
		t.Errorf("after the switch: %s, handoff %+v, drafts %v", cs.Status, cs.State.Handoff, e.drafts.drafts)
	}
	encode(t, cs)
}

// TestHandoffExpiry: an expired session's draft is released once, by the
// write that expired it; one whose buyer never followed the link has
// nothing to release.
func TestHandoffExpiry(t *testing.T) {
	e := newHandoffEnv(t)
	ctx := context.Background()
	cs, err := e.c.Create(ctx, e.ag, acp.V20260417, createInput(1, true))
	if err != nil {
		t.Fatal(err)
	}
	unclicked, err := e.c.Create(ctx, e.ag, acp.V20260417, createInput(1, true))
	if err != nil {
		t.Fatal(err)
	}
	e.click(t, cs)
	draftID := e.store.stored(cs.ID).State.Handoff.DraftID
	e.now = cs.ExpiresAt.Add(time.Second)
	for range 2 {
		for _, id := range []string{cs.ID, unclicked.ID} {
			got, err := e.c.Get(ctx, e.ag, id)
			if err != nil || got.Status != acp.StatusExpired {
				t.Fatalf("get: %v, %v", got, err)
			}
			encode(t, got)
		}
	}
	if len(e.queue.jobs) != 1 || e.queue.jobs[0].(ReleaseDraftArgs).DraftID != draftID {
		t.Errorf("jobs = %+v", e.queue.jobs)
	}
}

// TestCompleteHandoff: the order completes a handed-off session once; the
// payment record carries the order and no provider charge.
func TestCompleteHandoff(t *testing.T) {
	e := newHandoffEnv(t)
	ctx := context.Background()
	cs, err := e.c.Create(ctx, e.ag, acp.V20260417, createInput(2, true))
	if err != nil {
		t.Fatal(err)
	}
	e.click(t, cs)
	cs = ptr(e.store.stored(cs.ID))
	o := ShopOrder{ID: "gid://shopify/Order/9", Name: "#1009", StatusURL: "https://handoff.myshopify.com/orders/9"}
	if !CompleteHandoff(cs, o, e.now) || cs.Status != acp.StatusCompleted || CompleteHandoff(cs, o, e.now) {
		t.Fatalf("complete twice: %s", cs.Status)
	}
	p, err := HandoffPayment(cs, o, e.now)
	if err != nil || p.State != PaymentCompleted || p.PaymentIntentID != "" || p.OrderID != o.ID || p.Amount != 2*1000+500 {
		t.Errorf("payment = %+v, %v", p, err)
	}
	wire := encode(t, cs)[acp.V20260417]
	if !strings.Contains(wire, `"order":{`) || strings.Contains(wire, "continue_url") {
		t.Errorf("completed:\n%s", wire)
	}
	// complete now answers the completed session, as for any other.
	if err := e.store.SaveCheckoutSession(ctx, cs); err != nil {
		t.Fatal(err)
	}
	got, err := e.c.Complete(ctx, e.ag, acp.V20260417, cs.ID, &acp.CompleteSessionInput{Payment: acp.PaymentInput{Token: "spt_1"}})
	if err != nil || got.Status != acp.StatusCompleted {
		t.Errorf("complete of a paid session: %v, %v", got, err)
	}
	notHandoff := &Session{Status: acp.StatusReadyForPayment}
	if CompleteHandoff(notHandoff, o, e.now) {
		t.Error("a session never handed off was completed by an order")
	}
}

func TestFormatMinor(t *testing.T) {
	for _, c := range []struct {
		n        int64
		currency string
		want     string
	}{{1050, "USD", "10.50"}, {5, "USD", "0.05"}, {0, "EUR", "0.00"}, {-120, "USD", "-1.20"}, {500, "JPY", "500"}, {1234, "KWD", "1.234"}} {
		if got := FormatMinor(c.n, c.currency); got != c.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", c.n, c.currency, got, c.want)
		}
	}
}
