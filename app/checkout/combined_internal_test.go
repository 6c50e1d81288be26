package checkout

import (
	"context"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
)

// answeringStore is handoffStore that also writes answers (as
// AnsweringStore), recording them, and counts its session reads.
type answeringStore struct {
	*handoffStore
	answers []AnswerRecord
	loads   int
}

func (s *answeringStore) CheckoutSession(ctx context.Context, shopID int64, id string) (*Session, error) {
	s.loads++
	return s.handoffStore.CheckoutSession(ctx, shopID, id)
}

func (s *answeringStore) CreateCheckoutSessionAnswered(ctx context.Context, cs *Session, a AnswerRecord) (bool, error) {
	if err := s.CreateCheckoutSession(ctx, cs); err != nil {
		return false, err
	}
	s.answers = append(s.answers, a)
	return true, nil
}

func (s *answeringStore) SaveCheckoutSessionAnswered(ctx context.Context, cs *Session, a AnswerRecord) (bool, error) {
	if err := s.SaveCheckoutSession(ctx, cs); err != nil {
		return false, err
	}
	s.answers = append(s.answers, a)
	return true, nil
}

// TestAnswerWithTheFinalWrite: the caller's answer is written with the
// write that ends Create, Update and Cancel, once, and is the session as
// written; a refusal, and the expiry write of an update that then
// refuses, carry none. A prefetched session serves the first load only:
// when it is stale, the write loses and the retry reads afresh.
func TestAnswerWithTheFinalWrite(t *testing.T) {
	e := newHandoffEnv(t)
	st := &answeringStore{handoffStore: e.store}
	e.c.Store = st
	ctx := context.Background()
	v := acp.V20260417
	withAnswer := func(ctx context.Context) (context.Context, *Answer) {
		a := &Answer{Record: 9, Outcome: "returned", Encode: func(cs *Session) ([]byte, error) { return acp.EncodeSession(v, cs.View()) }}
		return WithAnswer(ctx, a), a
	}
	// check: the operation stored the encoding of cs as its answer, once
	// (want), or stored none.
	check := func(what string, a *Answer, cs *Session, want bool, before int) {
		t.Helper()
		body, written := a.Written()
		stored := len(st.answers) - before
		if written != want || (want && stored != 1) || (!want && stored != 0) {
			t.Fatalf("%s: answer written %v, %d stored; want %v", what, written, stored, want)
		}
		if !want {
			return
		}
		enc, err := acp.EncodeSession(v, cs.View())
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != string(enc) || string(st.answers[len(st.answers)-1].Body) != string(enc) {
			t.Errorf("%s: stored %s\nanswered %s", what, body, enc)
		}
	}

	actx, a := withAnswer(ctx)
	cs, err := e.c.Create(actx, e.ag, v, createInput(1, true))
	if err != nil {
		t.Fatal(err)
	}
	check("create", a, cs, true, 0)
	id := cs.ID

	// A stale prefetch (a concurrent write came after the claim's read).
	stale, err := st.handoffStore.CheckoutSession(ctx, e.ag.Shop.ID, id)
	if err != nil {
		t.Fatal(err)
	}
	concurrent := *stale
	concurrent.State.OrderNotes = "concurrent"
	if err := st.SaveCheckoutSession(ctx, &concurrent); err != nil {
		t.Fatal(err)
	}
	pf := &Prefetch{ShopID: e.ag.Shop.ID, ID: id}
	pf.Fill(stale)
	actx, a = withAnswer(WithPrefetch(ctx, pf))
	n, loads := len(st.answers), st.loads
	cs, err = e.c.Update(actx, e.ag, v, id, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 2}}})
	if err != nil {
		t.Fatal(err)
	}
	if cs.State.OrderNotes != "concurrent" || cs.State.Items[0].Quantity != 2 || st.loads != loads+1 {
		t.Fatalf("update over a stale prefetch: notes %q, quantity %d, %d reads; want both changes after 1 read",
			cs.State.OrderNotes, cs.State.Items[0].Quantity, st.loads-loads)
	}
	check("update", a, cs, true, n)

	// A fresh prefetch: no read at all.
	fresh, _ := st.handoffStore.CheckoutSession(ctx, e.ag.Shop.ID, id)
	pf = &Prefetch{ShopID: e.ag.Shop.ID, ID: id}
	pf.Fill(fresh)
	actx, a = withAnswer(WithPrefetch(ctx, pf))
	n, loads = len(st.answers), st.loads
	if cs, err = e.c.Update(actx, e.ag, v, id, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 3}}}); err != nil {
		t.Fatal(err)
	}
	if st.loads != loads {
		t.Errorf("update with a prefetched session read it %d times", st.loads-loads)
	}
	check("update prefetched", a, cs, true, n)

	// A refusal stores nothing (the pipeline stores it apart).
	actx, a = withAnswer(ctx)
	n = len(st.answers)
	_, err = e.c.Update(actx, e.ag, v, id, &acp.UpdateSessionInput{SelectedFulfillment: []acp.SelectedFulfillmentInput{{OptionID: "nope"}}})
	if err == nil {
		t.Fatal("an unknown option was accepted")
	}
	check("refused update", a, nil, false, n)

	// Cancel ends the session in a transaction: the answer goes with it.
	actx, a = withAnswer(ctx)
	n = len(st.answers)
	if cs, err = e.c.Cancel(actx, e.ag, id, nil); err != nil {
		t.Fatal(err)
	}
	check("cancel", a, cs, true, n)

	// An expired session: the expiry is written, the update refused, and
	// neither carries the answer.
	cs, err = e.c.Create(ctx, e.ag, v, createInput(1, true))
	if err != nil {
		t.Fatal(err)
	}
	e.now = e.now.Add(24 * time.Hour)
	actx, a = withAnswer(ctx)
	n = len(st.answers)
	if _, err := e.c.Update(actx, e.ag, v, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 2}}}); err == nil {
		t.Fatal("an expired session was updated")
	}
	if got, _ := st.handoffStore.CheckoutSession(ctx, e.ag.Shop.ID, cs.ID); got.Status != acp.StatusExpired {
		t.Fatalf("expired session saved as %s", got.Status)
	}
	check("update of an expired session", a, nil, false, n)
}
