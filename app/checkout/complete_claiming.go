package checkout

import (
	"context"
	"fmt"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// A complete claims its idempotency key with the write that begins the
// payment (issue 17: one statement on PostgreSQL instead of the claim,
// which reads the session, and then that write), as an update claims its
// key with the session's UPDATE (UpdateClaimingStore). It runs on the
// session as the store remembers it, up to that write: the live price
// check reads Shopify, nothing else leaves the process, and nothing is
// charged before the write. A run that does not claim writes nothing,
// and the caller completes the ordinary way, claiming the key first.

// CompleteClaimingStore is a CompletionStore that claims the caller's
// idempotency key with a completion's beginning (store.Store).
type CompleteClaimingStore interface {
	// MayClaimComplete reports whether a complete of the session should
	// claim with its beginning: the store can, remembers the session, and
	// such claims mostly find their session as remembered here.
	MayClaimComplete(shopID int64, id string) bool
	// BeginCompletionClaiming writes the in-flight record of claim (the
	// caller's, an *idempotency.Pending of the store), cs and p as
	// BeginCompletionWrite does, only if cs's row is still at its
	// RowVersion as the store remembers it: all, or nothing. record is
	// the claimed record, 0 when nothing was written: a record holds the
	// key, the session moved, or the claim is not one the store can make.
	BeginCompletionClaiming(ctx context.Context, cs *Session, p *Payment, claim any) (record int64, err error)
}

// ClaimsCompleteKey reports whether a Complete of the shop's session id
// may run before its idempotency key is claimed, the claim made with the
// write that begins the payment (Answer.Claim): the stores can
// (UpdateClaimingStore, CompleteClaimingStore), and find it worth it for
// this session (CompleteClaimingStore.MayClaimComplete). When the claim
// is not made, Complete writes nothing and fails with ErrNotClaimed, and
// the caller runs it the ordinary way.
func (c *Sessions) ClaimsCompleteKey(shopID int64, id string) bool {
	if c.Completer == nil {
		return false
	}
	cst, ok := c.Completer.Store.(CompleteClaimingStore)
	_, remembers := c.Store.(UpdateClaimingStore)
	return ok && remembers && cst.MayClaimComplete(shopID, id)
}

// completable reports whether a complete may run on cs, a remembered
// session, before its key is claimed: only one that a completion would
// begin on at once. Not a session that is over, being completed or
// waiting for 3-D Secure (what the ordinary path answers of those is its
// to store under a claimed key), past its expiry (the load would expire
// it), or handed off to Shopify's checkout.
func completable(cs *Session, now time.Time) bool {
	return !cs.Status.Terminal() && cs.Status != acp.StatusCompleteInProgress &&
		cs.Status != acp.StatusAuthenticationRequired && now.Before(cs.ExpiresAt) && cs.State.Handoff == nil
}

// completeClaiming is Complete for a caller whose answer carries the
// claim of its key (a.Claim). The completion begins on the session as
// the store remembers it, and its beginning (the session, the payment
// attempt) is written with the claim, in flight, guarded by the
// remembered row version; the payment is then driven as Complete drives
// it. Or nothing is written and ErrNotClaimed says so: the stores cannot
// claim, the shop does not take payments here, the session is not
// remembered or not completable, the request is refused or the session
// not payable as it is (what the ordinary path answers then is its to
// store), the key is held, or the session moved.
func (c *Sessions) completeClaiming(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.CompleteSessionInput, a *Answer) (*Session, error) {
	sh := ag.Shop
	st, ok := c.Store.(UpdateClaimingStore)
	if !ok || c.Completer == nil || a.Encode == nil || !validSessionID(id) {
		return nil, ErrNotClaimed
	}
	cst, ok := c.Completer.Store.(CompleteClaimingStore)
	if !ok {
		return nil, ErrNotClaimed
	}
	set, method, err := c.completion(ctx, ag)
	if err != nil || method == app.CompletionShopifyCheckout {
		return nil, ErrNotClaimed
	}
	ctx = withSettings(ctx, set)
	if err := checkPayment(v, in, c.payments().accepted(set)); err != nil {
		return nil, ErrNotClaimed
	}
	cs, ok := st.RememberedCheckoutSession(sh.ID, id)
	if !ok || !completable(cs, c.now()) {
		return nil, ErrNotClaimed
	}
	if checkCompleteDetails(&cs.State, in) != nil || c.admit(ctx, sh) != nil {
		return nil, ErrNotClaimed
	}
	b, err := c.preparePayment(ctx, ag, v, cs, in)
	if err != nil || b == nil || cs.newDraft != "" || cs.State.Handoff != nil {
		// Not expected of a delegated shop's live check: a draft or a
		// handoff goes the ordinary way.
		c.dropNewDraft(ctx, sh, cs)
		return nil, ErrNotClaimed
	}
	record, err := cst.BeginCompletionClaiming(ctx, cs, b.p, a.Claim)
	if err != nil {
		// The write's outcome is unknown: the caller's ordinary path
		// finds the record in flight if it landed, and the payment's
		// lease lets a resume drive it.
		return nil, fmt.Errorf("begin completion: %w", err)
	}
	if record == 0 {
		return nil, ErrNotClaimed
	}
	a.Claim, a.Record = nil, record
	if a.Claimed != nil {
		a.Claimed(record)
	}
	return c.drive(ctx, sh, cs, b)
}
