package checkout

import (
	"context"
	"errors"
	"testing"

	"github.com/acpbridge/acpbridge/acp"
)

// claimingStore is a handoffStore that remembers every session (as the
// store's memory would) and writes a claiming update as app/store does:
// only at the remembered row version, unless held says the key is held.
type claimingStore struct {
	*handoffStore
	held   bool
	forget bool // remember nothing
	writes int  // claiming writes made
}

func (s *claimingStore) MayClaimUpdate(shopID int64, id string) bool {
	_, ok := s.RememberedCheckoutSession(shopID, id)
	return ok
}

func (s *claimingStore) RememberedCheckoutSession(shopID int64, id string) (*Session, bool) {
	if s.forget {
		return nil, false
	}
	cs, err := s.CheckoutSession(context.Background(), shopID, id)
	return cs, err == nil
}

func (s *claimingStore) SaveCheckoutSessionClaiming(ctx context.Context, cs *Session, a AnswerRecord) (bool, error) {
	if s.held || a.Claim == nil {
		return false, nil
	}
	if err := s.SaveCheckoutSession(ctx, cs); err != nil {
		return false, nil // moved: nothing written
	}
	s.writes++
	return true, nil
}

// TestUpdateClaimingOnlyWhereNothingElseHappens: an update whose answer
// carries its key's claim writes the session with it, on the remembered
// session, only when nothing but that write can come of it; otherwise it
// writes nothing, calls no Shopify, and says ErrNotClaimed (the caller
// then runs it the ordinary way): a session not remembered, holding a
// draft order, past its expiry, over; an update that refuses; a held key.
func TestUpdateClaimingOnlyWhereNothingElseHappens(t *testing.T) {
	ctx := context.Background()
	address := createInput(1, true).FulfillmentDetails
	for _, tc := range []struct {
		name string
		// prepare makes the session's situation; the update then changes
		// the quantity (or sets in).
		prepare func(t *testing.T, e *handoffEnv, st *claimingStore, cs *Session)
		in      *acp.UpdateSessionInput
		claimed bool
	}{
		{"a remembered session", func(*testing.T, *handoffEnv, *claimingStore, *Session) {}, nil, true},
		{"a payable session, no draft yet", func(t *testing.T, e *handoffEnv, _ *claimingStore, cs *Session) {
			if _, err := e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{FulfillmentDetails: address}); err != nil {
				t.Fatal(err)
			}
		}, nil, true},
		{"not remembered", func(_ *testing.T, _ *handoffEnv, st *claimingStore, _ *Session) { st.forget = true }, nil, false},
		{"holding a draft order", func(t *testing.T, e *handoffEnv, _ *claimingStore, cs *Session) {
			up, err := e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{FulfillmentDetails: address})
			if err != nil {
				t.Fatal(err)
			}
			e.click(t, up)
			if e.store.stored(cs.ID).State.Handoff == nil {
				t.Fatal("no draft after the click")
			}
		}, nil, false},
		{"past its expiry", func(_ *testing.T, e *handoffEnv, _ *claimingStore, cs *Session) {
			e.now = cs.ExpiresAt
		}, nil, false},
		{"canceled", func(t *testing.T, e *handoffEnv, _ *claimingStore, cs *Session) {
			if _, err := e.c.Cancel(ctx, e.ag, cs.ID, nil); err != nil {
				t.Fatal(err)
			}
		}, nil, false},
		{"a refused update", func(*testing.T, *handoffEnv, *claimingStore, *Session) {},
			&acp.UpdateSessionInput{SelectedFulfillment: []acp.SelectedFulfillmentInput{{OptionID: "nope"}}}, false},
		{"a held key", func(_ *testing.T, _ *handoffEnv, st *claimingStore, _ *Session) { st.held = true }, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newHandoffEnv(t)
			st := &claimingStore{handoffStore: e.store}
			e.c.Store = st
			cs, err := e.c.Create(ctx, e.ag, acp.V20260417, createInput(1, true))
			if err != nil {
				t.Fatal(err)
			}
			// A quote that is complete, so that an unknown option is refused.
			if cs.Status != acp.StatusRequiresEscalation {
				t.Fatalf("created %s", cs.Status)
			}
			if _, err := e.c.Update(ctx, e.ag, acp.V20260417, cs.ID, &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 2}}}); err != nil {
				t.Fatal(err)
			}
			tc.prepare(t, e, st, cs)
			before, upserts, deleted := e.store.stored(cs.ID), len(e.drafts.upserts), len(e.drafts.deleted)
			in := tc.in
			if in == nil {
				in = &acp.UpdateSessionInput{Items: []acp.ItemInput{{ID: "42", Quantity: 3}}}
			}
			a := &Answer{Outcome: "returned", Claim: "the claim",
				Encode: func(cs *Session) ([]byte, error) { return []byte(cs.ID), nil }}
			got, err := e.c.Update(WithAnswer(ctx, a), e.ag, acp.V20260417, cs.ID, in)
			after := e.store.stored(cs.ID)
			body, written := a.Written()
			if tc.claimed {
				if err != nil || got == nil || st.writes != 1 || !written || string(body) != cs.ID ||
					after.RowVersion != before.RowVersion+1 || after.State.Items[0].Quantity != 3 {
					t.Fatalf("update = %v, %d claiming writes, answer written %v, row version %d → %d",
						err, st.writes, written, before.RowVersion, after.RowVersion)
				}
				return
			}
			if !errors.Is(err, ErrNotClaimed) || got != nil || st.writes != 0 || written {
				t.Fatalf("update = %v, %d claiming writes, answer written %v; want ErrNotClaimed and nothing written", err, st.writes, written)
			}
			if after.RowVersion != before.RowVersion || len(e.drafts.upserts) != upserts || len(e.drafts.deleted) != deleted {
				t.Fatalf("row version %d → %d, drafts written %d, deleted %d; want nothing done",
					before.RowVersion, after.RowVersion, len(e.drafts.upserts)-upserts, len(e.drafts.deleted)-deleted)
			}
		})
	}
}
