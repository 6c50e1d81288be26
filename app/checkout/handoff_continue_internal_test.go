package checkout

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// payable opens a payable session (requires_escalation, no draft yet).
func (e *handoffEnv) payable(t *testing.T, qty int) *Session {
	t.Helper()
	cs, err := e.c.Create(context.Background(), e.ag, acp.V20260417, createInput(qty, true))
	if err != nil || cs.Status != acp.StatusRequiresEscalation || cs.State.Handoff != nil || cs.State.Continue == nil {
		t.Fatalf("create: %+v, %v", cs, err)
	}
	return cs
}

// TestContinueWritesOnce: the first click writes the draft and redirects
// to its invoice; the next ones redirect to the same draft with no
// Shopify call; after the agent changes the session the draft is updated
// once, and the next click again writes nothing.
func TestContinueWritesOnce(t *testing.T) {
	e := newHandoffEnv(t)
	cs := e.payable(t, 1)
	first := e.click(t, cs)
	h := e.store.stored(cs.ID).State.Handoff
	if h == nil || first.RedirectURL != h.InvoiceURL || len(e.drafts.upserts) != 1 || e.drafts.upserts[0] != "create" {
		t.Fatalf("first click: %+v, handoff %+v, drafts %v", first, h, e.drafts.upserts)
	}
	for range 2 {
		if again := e.click(t, cs); again.RedirectURL != first.RedirectURL || len(e.drafts.upserts) != 1 {
			t.Errorf("another click: %+v, drafts %v", again, e.drafts.upserts)
		}
	}
	if _, err := e.c.Update(context.Background(), e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 2}}}); err != nil {
		t.Fatal(err)
	}
	if again := e.click(t, cs); again.RedirectURL != first.RedirectURL || len(e.drafts.upserts) != 2 || e.drafts.upserts[1] != h.DraftID ||
		e.drafts.drafts[h.DraftID].Lines[0].Quantity != 2 {
		t.Errorf("after a change: %+v, drafts %v", again, e.drafts.upserts)
	}
}

// TestContinueConcurrentClicks: many clicks at once (two tabs, a reload,
// replicas) make one draft, and every one of them lands on it.
func TestContinueConcurrentClicks(t *testing.T) {
	const clicks = 8
	e := newHandoffEnv(t)
	cs := e.payable(t, 1)
	token := linkToken(t, cs)
	// The draft write is held until every click has read the session
	// and, but for the first, found it claimed (at least twice each).
	gate := make(chan struct{})
	var once sync.Once
	e.drafts.gate = gate
	e.store.mu.Lock()
	e.store.reads = 0
	e.store.onRead = func(n int) {
		if n >= 2*clicks-1 {
			once.Do(func() { close(gate) })
		}
	}
	e.store.mu.Unlock()
	outs := make([]*ContinueOutcome, clicks)
	errs := make([]error, clicks)
	var wg sync.WaitGroup
	for i := range clicks {
		wg.Go(func() { outs[i], errs[i] = e.c.Continue(context.Background(), token) })
	}
	wg.Wait()
	h := e.store.stored(cs.ID).State.Handoff
	if h == nil || len(e.drafts.upserts) != 1 || len(e.drafts.drafts) != 1 {
		t.Fatalf("handoff %+v, drafts %v", h, e.drafts.upserts)
	}
	for i := range clicks {
		if errs[i] != nil || outs[i].RedirectURL != h.InvoiceURL {
			t.Errorf("click %d: %+v, %v", i, outs[i], errs[i])
		}
	}
}

// TestContinueSessionStates: a link leads where the session's state says,
// and never writes a draft for a session that cannot be paid.
func TestContinueSessionStates(t *testing.T) {
	for _, tt := range []struct {
		name     string
		prepare  func(t *testing.T, e *handoffEnv, cs *Session)
		want     ContinueOutcome
		released bool // the draft of the first click is released
	}{
		{"canceled", func(t *testing.T, e *handoffEnv, cs *Session) {
			if _, err := e.c.Cancel(context.Background(), e.ag, cs.ID, nil); err != nil {
				t.Fatal(err)
			}
		}, ContinueOutcome{Page: PageEnded}, true},
		{"expired", func(t *testing.T, e *handoffEnv, cs *Session) { e.now = cs.ExpiresAt }, ContinueOutcome{Page: PageEnded}, true},
		{"completed", func(t *testing.T, e *handoffEnv, cs *Session) {
			done := e.store.stored(cs.ID)
			CompleteHandoff(&done, ShopOrder{ID: "gid://shopify/Order/1", Name: "#1001", StatusURL: "https://handoff.myshopify.com/orders/1"}, e.now)
			if err := e.store.SaveCheckoutSession(context.Background(), &done); err != nil {
				t.Fatal(err)
			}
		}, ContinueOutcome{RedirectURL: "https://handoff.myshopify.com/orders/1"}, false},
		{"completed without a status page", func(t *testing.T, e *handoffEnv, cs *Session) {
			done := e.store.stored(cs.ID)
			CompleteHandoff(&done, ShopOrder{ID: "gid://shopify/Order/1", Name: "#1001"}, e.now)
			if err := e.store.SaveCheckoutSession(context.Background(), &done); err != nil {
				t.Fatal(err)
			}
		}, ContinueOutcome{Page: PageCompleted}, false},
		{"no longer payable", func(t *testing.T, e *handoffEnv, cs *Session) {
			if _, err := e.c.Update(context.Background(), e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 9}}}); err != nil {
				t.Fatal(err)
			}
		}, ContinueOutcome{Page: PageNotReady}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandoffEnv(t)
			cs := e.payable(t, 1)
			e.click(t, cs)
			draft := e.store.stored(cs.ID).State.Handoff.DraftID
			tt.prepare(t, e, cs)
			if got := e.click(t, cs); *got != tt.want {
				t.Errorf("outcome = %+v, want %+v", got, tt.want)
			}
			if len(e.drafts.upserts) != 1 {
				t.Errorf("drafts written: %v", e.drafts.upserts)
			}
			released := len(e.queue.jobs) == 1 && e.queue.jobs[0] == (ReleaseDraftArgs{ShopID: handoffShop.ID, DraftID: draft})
			if released != tt.released {
				t.Errorf("jobs = %+v, want the draft's release: %v", e.queue.jobs, tt.released)
			}
		})
	}
}

// TestContinueBadTokens: anything but the session's own link is not
// found, and reads nothing it could give away.
func TestContinueBadTokens(t *testing.T) {
	e := newHandoffEnv(t)
	cs := e.payable(t, 1)
	secret := cs.State.Continue.Secret
	for _, tt := range []struct{ name, token string }{
		{"empty", ""},
		{"not base64", "not a token!"},
		{"the bare session id", cs.ID},
		{"truncated", linkToken(t, cs)[:20]},
		{"another secret", continueToken(handoffShop.ID, cs.ID, "AAAAAAAAAAAAAAAAAAAAAA")},
		{"no secret", continueToken(handoffShop.ID, cs.ID, "")},
		{"another shop", continueToken(handoffShop.ID+1, cs.ID, secret)},
		{"another session", continueToken(handoffShop.ID, "cs_"+strings.Repeat("a", 26), secret)},
		{"too long", strings.Repeat("A", 300)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := e.c.Continue(context.Background(), tt.token)
			if !errors.Is(err, ErrNoSuchLink) || out != nil {
				t.Errorf("Continue = %+v, %v; want ErrNoSuchLink", out, err)
			}
		})
	}
	if len(e.drafts.upserts) != 0 {
		t.Errorf("drafts written: %v", e.drafts.upserts)
	}
}

// TestContinueShopifyFailure: a click Shopify fails leaves the session as
// it was (no draft, no claim), says so with the error's code, and the
// next click succeeds.
func TestContinueShopifyFailure(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		code app.Code
	}{
		{"unavailable", errors.New("shopify: 502 bad gateway"), app.CodeUnavailable},
		{"throttled", shopify.ErrThrottled, app.CodeRateLimited},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newHandoffEnv(t)
			cs := e.payable(t, 1)
			e.drafts.fail = tt.err
			out, err := e.c.Continue(context.Background(), linkToken(t, cs))
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Code != tt.code || out != nil {
				t.Fatalf("Continue = %+v, %v; want %s", out, err, tt.code)
			}
			st := e.store.stored(cs.ID)
			if st.State.Handoff != nil || st.State.Continue.Claim != "" || st.Status != acp.StatusRequiresEscalation {
				t.Errorf("after the failure: %s, handoff %+v, link %+v", st.Status, st.State.Handoff, st.State.Continue)
			}
			e.drafts.fail = nil
			if out := e.click(t, cs); out.RedirectURL == "" || len(e.drafts.drafts) != 1 {
				t.Errorf("retry: %+v, drafts %v", out, e.drafts.drafts)
			}
		})
	}
}

// livePricer is handoffPricer whose live check finds the unit price at
// price, or Shopify unreachable (down).
type livePricer struct {
	handoffPricer
	price int64
	down  bool
	// throttled: down because the shop's API budget was short.
	throttled time.Duration
	calls     int
}

func (p *livePricer) QuoteLive(ctx context.Context, sh *app.Shop, v acp.Version, st *State) (Quote, error) {
	p.calls++
	q, err := p.Quote(ctx, sh, v, st)
	if p.down { // as Pricing.unreachable
		q.Complete, q.Options = false, nil
		q.Messages = append(q.Messages, acp.Message{Type: acp.MessageError, Code: acp.MessageCodeInvalid, Resolution: "recoverable",
			Content: "The store could not confirm prices, tax and shipping just now."})
		q.Throttled = p.throttled
		return q, err
	}
	for i := range q.Lines {
		q.Lines[i].UnitAmount = p.price
	}
	q.Live = true
	return q, err
}

// TestContinueLiveCheck: the click checks the lines live before writing
// them. A total other than the one the buyer was told is not sent to
// Shopify: the session takes it (the agent sees it) and the buyer is told,
// and the next click goes on at that total. Shopify unreachable writes
// nothing.
func TestContinueLiveCheck(t *testing.T) {
	e := newHandoffEnv(t)
	lp := &livePricer{price: 1200, down: true}
	e.c.Pricer = lp
	cs := e.payable(t, 1)
	before := e.store.stored(cs.ID)
	var ae *app.Error
	if _, err := e.c.Continue(context.Background(), linkToken(t, cs)); !errors.As(err, &ae) || ae.Code != app.CodeUnavailable {
		t.Fatalf("Shopify unreachable: %v", err)
	}
	if after := e.store.stored(cs.ID); after.State.Quote.Key != before.State.Quote.Key || !after.State.Quote.Complete || after.State.Continue.Claim != "" ||
		len(e.drafts.upserts) != 0 {
		t.Errorf("after the failed check: quote %+v, link %+v, drafts %v", after.State.Quote, after.State.Continue, e.drafts.upserts)
	}

	// The same when the shop's API budget is what is short, but a 429
	// with the budget's wait.
	lp.throttled = 3 * time.Second
	if _, err := e.c.Continue(context.Background(), linkToken(t, cs)); !errors.As(err, &ae) || ae.Code != app.CodeRateLimited ||
		ae.RetryAfter != 3*time.Second {
		t.Fatalf("live check throttled: %v", err)
	}
	if after := e.store.stored(cs.ID); after.State.Continue.Claim != "" || len(e.drafts.upserts) != 0 {
		t.Errorf("after the throttled check: link %+v, drafts %v", after.State.Continue, e.drafts.upserts)
	}

	lp.down, lp.throttled = false, 0
	out := e.click(t, cs)
	if out.Page != PagePriceChanged || out.Total != 1200+500 || out.Currency != "USD" || len(e.drafts.upserts) != 0 {
		t.Fatalf("price changed: %+v, drafts %v", out, e.drafts.upserts)
	}
	if st := e.store.stored(cs.ID); st.State.Quote.Lines[0].UnitAmount != 1200 || st.Status != acp.StatusRequiresEscalation {
		t.Errorf("the session after the check: %s, %+v", st.Status, st.State.Quote.Lines)
	}
	calls := lp.calls
	out = e.click(t, cs)
	h := e.store.stored(cs.ID).State.Handoff
	if h == nil || out.RedirectURL != h.InvoiceURL || e.drafts.drafts[h.DraftID].Lines[0].UnitPrice != 1200 || lp.calls != calls {
		t.Errorf("at the new total: %+v, handoff %+v, drafts %+v, live checks %d", out, h, e.drafts.drafts, lp.calls-calls)
	}
}

// TestContinueAgentChangesMeanwhile: the agent changes the session while
// a click is writing its draft. The click's guarded write loses, deletes
// the draft it made, and writes what the session holds now: one draft,
// with the agent's change, and none left behind.
func TestContinueAgentChangesMeanwhile(t *testing.T) {
	e := newHandoffEnv(t)
	cs := e.payable(t, 1)
	gate := make(chan struct{})
	e.drafts.gate = gate
	var out *ContinueOutcome
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		out, err = e.c.Continue(context.Background(), linkToken(t, cs))
	}()
	// The agent's update reads the session once the click has claimed it
	// (the click then waits on the gate, in its draft write).
	for st := e.store.stored(cs.ID); st.State.Continue.Claim == ""; st = e.store.stored(cs.ID) {
		runtime.Gosched()
	}
	if _, err := e.c.Update(context.Background(), e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 2}}}); err != nil {
		t.Fatal(err)
	}
	close(gate)
	<-done
	st := e.store.stored(cs.ID)
	e.drafts.mu.Lock()
	defer e.drafts.mu.Unlock()
	if err != nil || st.State.Handoff == nil || out.RedirectURL != st.State.Handoff.InvoiceURL || st.State.Continue.Claim != "" {
		t.Fatalf("click: %+v, %v; handoff %+v, link %+v", out, err, st.State.Handoff, st.State.Continue)
	}
	if len(e.drafts.drafts) != 1 || e.drafts.drafts[st.State.Handoff.DraftID].Lines[0].Quantity != 2 || len(e.drafts.deleted) != 1 {
		t.Errorf("drafts %+v, deleted %v: want one, of the agent's change, and the first deleted", e.drafts.drafts, e.drafts.deleted)
	}
}
