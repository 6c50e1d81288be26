package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// Sessions of shops whose completion method is Shopify's checkout
// (app.CompletionShopifyCheckout) are priced exactly as the others, but
// never charged here: once such a session could be paid, the agent is
// told (status requires_escalation, continue_url, one message) to send
// the buyer to its continue_url, a page of this app
// (handoff_continue.go). Following it writes a Shopify draft order with
// exactly the session's lines, address, shipping line, discount codes and
// buyer email, stock reserved from that click until the session expires,
// and sends the buyer on to the draft's invoice URL, Shopify's own
// checkout. The order comes back through Shopify's webhooks
// (app/orderevents calls CompleteHandoff). A canceled or expired
// session's draft is deleted by the checkout_release_draft job.

// Handoff is a session's Shopify draft order.
type Handoff struct {
	// DraftID is the DraftOrder GID, InvoiceURL where the buyer pays.
	DraftID    string `json:"draft_id"`
	InvoiceURL string `json:"invoice_url"`
	// Key identifies what the draft holds: an update that changes none of
	// it makes no Shopify call.
	Key string `json:"key"`
	// LinesKey identifies the draft's lines (variants, quantities,
	// prices): the live check before a draft is written runs when they
	// are new, not when only the shipping line or buyer changes.
	LinesKey string `json:"lines_key,omitempty"`
}

// HandoffAttribute is the draft's custom attribute (the order's note
// attribute) that carries the session id back with Shopify's order.
const HandoffAttribute = "acpbridge_session"

// HandoffSource is the draft's tag and source name.
const HandoffSource = "acpbridge"

// HandoffDraft is what a handoff session's draft order holds.
type HandoffDraft struct {
	SessionID string
	// CartID is set instead of SessionID for a cart's draft (carts.go).
	CartID string `json:",omitempty"`
	// DraftRequest is the cart as pricing sends it to Shopify: lines,
	// buyer email and phone, address (nil when nothing ships), discount
	// codes.
	DraftRequest
	// Shipping is the chosen rate at its price before discounts (Shopify
	// applies the codes itself); nil when nothing ships.
	Shipping *ShippingRate
	// Currency is the shop's, the one Shipping.Price is in.
	Currency     string
	ReserveUntil time.Time
}

// ErrDraftPaid is UpsertDraft's answer for a draft the buyer has already
// paid (it is an order now, which the webhooks bring back).
var ErrDraftPaid = errors.New("the draft order has been paid")

// DraftRef is a stored draft order.
type DraftRef struct {
	ID, InvoiceURL string
}

// Drafts keeps handoff sessions' Shopify draft orders (ShopifyDrafts).
type Drafts interface {
	// UpsertDraft creates a draft (id "") or replaces what draft id holds;
	// ErrNotFound when draft id is gone, ErrDraftPaid when it is an order
	// already.
	UpsertDraft(ctx context.Context, shop, id string, d HandoffDraft) (DraftRef, error)
	// DeleteDraft deletes the draft and so releases its reservation; a
	// draft that no longer exists, or was paid, is not an error.
	DeleteDraft(ctx context.Context, shop, id string) error
}

// ReleaseDraftArgs deletes the draft order of a session that was canceled
// or expired (Sessions.ReleaseDraft).
type ReleaseDraftArgs struct {
	ShopID  int64  `json:"shop_id"`
	DraftID string `json:"draft_id"`
}

// Kind implements river.JobArgs.
func (ReleaseDraftArgs) Kind() string { return "checkout_release_draft" }

// completion is the shop's settings and the completion method its
// sessions sell with. Settings an agent carries are already effective
// (authentication reads them); read ones are made so here.
func (c *Sessions) completion(ctx context.Context, ag *app.Agent) (*app.ACPSettings, app.CompletionMethod, error) {
	set, err := c.settings(ctx, ag)
	if err != nil {
		return nil, "", err
	}
	m := set.CompletionMethod.OrDefault()
	if ag.Settings == nil && c.Distribution != "" {
		m = c.Distribution.Effective(m) // as app.Distribution.Resolve does for the agents' settings
	}
	return set, m, nil
}

// handoff is price's end for a Shopify-checkout shop. A payable session
// becomes requires_escalation with its continue_url: a link to this app
// (ContinueLink) that writes the draft order when the buyer follows it
// (Continue, handoff_continue.go), so that no Shopify call is made for a
// conversation until its buyer goes to pay. Once a click has written a
// draft, the draft follows the session, as the buyer may hold its
// invoice open: a change updates it, and a session that is no longer
// payable loses it, so that a stale invoice cannot be paid.
func (c *Sessions) handoff(ctx context.Context, ag *app.Agent, v acp.Version, cs *Session) error {
	sh := ag.Shop
	st := &cs.State
	st.PaymentHandlers = nil
	if c.status(cs) == acp.StatusReadyForPayment && c.handsOff() {
		if err := c.giveLink(cs); err != nil {
			return err
		}
		if st.Handoff == nil {
			cs.Status = acp.StatusRequiresEscalation
			return nil
		}
		payable, err := c.followDraft(ctx, sh, v, cs)
		if err != nil || payable {
			return err
		}
	}
	cs.Status = c.status(cs)
	if cs.Status == acp.StatusReadyForPayment {
		// No way to hand off on this server: say so rather than offer a
		// payment that complete refuses.
		cs.Status = acp.StatusNotReadyForPayment
		st.Messages = append(st.Messages, acp.Message{Type: acp.MessageError, Code: acp.MessageCodeUnsupported,
			ContentType: acp.ContentPlain, Severity: "high", Resolution: "requires_buyer_review",
			Content: "This store's checkout cannot be reached from here right now."})
	}
	return c.dropDraft(ctx, sh, cs)
}

// followDraft updates the draft an earlier click wrote to what the
// session now holds (nothing when it holds it already). It reports false
// when the live check found the session no longer payable. A draft
// deleted in Shopify is forgotten (the next click writes a new one); a
// paid one is not replaced: the session completes from Shopify's order
// webhooks.
func (c *Sessions) followDraft(ctx context.Context, sh *app.Shop, v acp.Version, cs *Session) (bool, error) {
	st := &cs.State
	if payable, err := c.checkLive(ctx, sh, v, cs); err != nil || !payable {
		return false, err
	}
	d, err := handoffDraft(cs)
	if err != nil {
		return false, err
	}
	h, _, err := writeDraft(ctx, c.Drafts, sh.Domain, st.Handoff, d, func(error) bool { return false })
	switch {
	case errors.Is(err, app.ErrNotFound):
		st.Handoff = nil
	case errors.Is(err, ErrDraftPaid):
		return false, errDraftPaid()
	case err != nil:
		c.Logger.WarnContext(ctx, "draft order not written", "session", cs.ID, "err", err)
		return false, shopifyRefusal(err, "the store's checkout could not be prepared; try again")
	default:
		st.Handoff = h
	}
	cs.Status = acp.StatusRequiresEscalation
	return true, nil
}

// checkLive is the live check before a draft is written, and reports
// whether the session is still payable after it. Writing the draft's
// lines commits the session's price (the buyer pays what the draft
// holds), so a draft with new lines is preceded by the live check
// (QuoteLive): a price or stock change the catalog has not heard of yet
// becomes the session's quote (with its price_change or stock message)
// before the draft is written from it. A change of shipping line or buyer
// only keeps the lines checked before (Shopify prices a draft's variant
// lines itself again on every write).
func (c *Sessions) checkLive(ctx context.Context, sh *app.Shop, v acp.Version, cs *Session) (bool, error) {
	st := &cs.State
	if !st.Quote.Live {
		if d, err := handoffDraft(cs); err == nil && (st.Handoff == nil || st.Handoff.LinesKey != linesKey(d.Lines)) {
			q, err := quoteLive(ctx, c.Pricer, sh, v, st)
			if err != nil {
				return false, err
			}
			c.setQuote(cs, q)
		}
	}
	return c.status(cs) == acp.StatusReadyForPayment, nil
}

// errDraftPaid is the answer to a change of a session whose buyer has
// paid its draft already.
func errDraftPaid() error {
	return &app.Error{Code: app.CodeConflict, Reason: "invalid_state", RetryAfter: 2 * time.Second,
		Message: "the buyer has already paid at the store's checkout; the session completes in a moment"}
}

// writeDraft makes the draft order held as cur (nil: none) hold d: nothing
// when cur already holds it (same key), else an update of cur's draft, or
// a new draft when there is none or when Shopify's answer to the update
// makes fresh(err) true. It returns what is now held, the id of a draft it
// created (to delete again if the caller's write does not happen), and
// Shopify's error.
func writeDraft(ctx context.Context, drafts Drafts, shop string, cur *Handoff, d HandoffDraft, fresh func(error) bool) (*Handoff, string, error) {
	key := draftKey(d)
	if cur != nil && cur.Key == key {
		return cur, "", nil
	}
	id := ""
	if cur != nil {
		id = cur.DraftID
	}
	ref, err := drafts.UpsertDraft(ctx, shop, id, d)
	if err != nil && id != "" && fresh(err) {
		id = ""
		ref, err = drafts.UpsertDraft(ctx, shop, "", d)
	}
	if err != nil {
		return cur, "", err
	}
	created := ""
	if id == "" {
		created = ref.ID
	}
	return &Handoff{DraftID: ref.ID, InvoiceURL: ref.InvoiceURL, Key: key, LinesKey: linesKey(d.Lines)}, created, nil
}

// reserveUntil is t rounded up to the whole second: Shopify keeps whole
// seconds, and the stock must be held for the whole of the session's or
// cart's life.
func reserveUntil(t time.Time) time.Time {
	until := t.Truncate(time.Second)
	if until.Before(t) {
		until = until.Add(time.Second)
	}
	return until
}

// dropDraft deletes the session's draft order, if it has one, before the
// session is saved without it: a draft that no longer matches a payable
// session (or a shop that no longer sells through Shopify's checkout) must
// not stay payable.
func (c *Sessions) dropDraft(ctx context.Context, sh *app.Shop, cs *Session) error {
	h := cs.State.Handoff
	if h == nil || c.Drafts == nil {
		return nil
	}
	if err := c.Drafts.DeleteDraft(ctx, sh.Domain, h.DraftID); err != nil {
		c.Logger.WarnContext(ctx, "draft order not deleted", "session", cs.ID, "draft", h.DraftID, "err", err)
		return shopifyRefusal(err, "the store's checkout could not be updated; try again")
	}
	cs.State.Handoff = nil
	return nil
}

// handoffDraft is the draft order a payable session holds.
func handoffDraft(cs *Session) (HandoffDraft, error) {
	st := &cs.State
	var addr *acp.Address
	if st.Quote.NeedsShipping && st.Fulfillment != nil {
		addr = st.Fulfillment.Address
	}
	d := HandoffDraft{SessionID: cs.ID, DraftRequest: draftRequest(st, addr, st.Quote.Lines), Currency: cs.Currency,
		ReserveUntil: reserveUntil(cs.ExpiresAt)}
	if st.Quote.NeedsShipping {
		if addr == nil {
			return d, errors.New("handoff: a shipping session without an address")
		}
		for _, r := range st.Quote.Rates {
			if r.Handle == st.SelectedOptionID {
				d.Shipping = &r
				break
			}
		}
		if d.Shipping == nil {
			return d, fmt.Errorf("handoff: the chosen rate %q is not among the quote's", st.SelectedOptionID)
		}
	}
	return d, nil
}

// linesKey identifies a draft's lines.
func linesKey(lines []DraftLine) string {
	b, _ := json.Marshal(lines) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

func draftKey(d HandoffDraft) string {
	b, _ := json.Marshal(d) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// FormatMinor is amount (minor units of currency) as a decimal string,
// e.g. 1050 USD → "10.50": how Shopify's Admin API takes money.
func FormatMinor(amount int64, currency string) string {
	exp := app.CurrencyExponent(currency)
	sign := ""
	if amount < 0 {
		sign, amount = "-", -amount
	}
	s := strconv.FormatInt(amount, 10)
	if exp == 0 {
		return sign + s
	}
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return sign + s[:len(s)-exp] + "." + s[len(s)-exp:]
}

// handoffMessage is what View tells the agent of a handed-off session:
// where the buyer pays.
func handoffMessage(url string) acp.Message {
	return acp.Message{Type: acp.MessageError, Code: acp.MessageCodeInterventionRequired,
		ContentType: acp.ContentPlain, Severity: "medium", Resolution: "requires_buyer_review",
		Content: "The buyer pays at the store's own Shopify checkout: send them to " + url + ", where they review and pay. " +
			"The session becomes completed, with its order, once they have paid; it cannot be completed through this API."}
}

// refuseHandoffComplete is complete's answer for a Shopify-checkout shop:
// nothing is charged here.
func refuseHandoffComplete(cs *Session) error {
	msg := "this store takes payment at its own Shopify checkout only, never through complete: send the buyer to the session's continue_url"
	if u := cs.continueURL(); u != "" {
		msg += " (" + u + ")"
	} else {
		msg += " once the session is requires_escalation"
	}
	return &app.Error{Code: app.CodeInvalid, Reason: "requires_escalation", Field: "$.payment_data", Message: msg}
}

// releaseDraft enqueues the deletion of a session's draft (in the
// transaction ctx carries), after the session was canceled or expired.
func (c *Sessions) releaseDraft(ctx context.Context, cs *Session) error {
	h := cs.State.Handoff
	if h == nil || h.DraftID == "" || c.Queue == nil {
		return nil
	}
	return c.Queue.EnqueueTx(ctx, ReleaseDraftArgs{ShopID: cs.ShopID, DraftID: h.DraftID}, nil)
}

// ReleaseDraft is the checkout_release_draft job: it deletes the draft
// order (and so its reservation). Deleting is idempotent, so a retried or
// repeated job does no harm.
func (c *Sessions) ReleaseDraft(ctx context.Context, shopID int64, draftID string) error {
	if c.Drafts == nil || draftID == "" {
		return nil
	}
	sh, err := c.Store.ShopByID(ctx, shopID)
	if errors.Is(err, app.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if sh.Status == app.ShopUninstalled {
		return nil // no token; the shop's drafts are no longer ours to keep
	}
	return c.Drafts.DeleteDraft(ctx, sh.Domain, draftID)
}

// dropNewDraft deletes a draft this call created for a write that did not
// happen (a concurrent write won, or the insert failed), so that no
// reservation is left behind; best effort.
func (c *Sessions) dropNewDraft(ctx context.Context, sh *app.Shop, cs *Session) {
	if cs.newDraft == "" || c.Drafts == nil {
		return
	}
	if err := c.Drafts.DeleteDraft(context.WithoutCancel(ctx), sh.Domain, cs.newDraft); err != nil {
		c.Logger.WarnContext(ctx, "orphan draft order not deleted", "session", cs.ID, "draft", cs.newDraft, "err", err)
	}
	cs.newDraft = ""
}

// HandoffPayment is the payment record of a session paid at Shopify's
// checkout: completed, with the order and no provider charge (so the
// order events find the order, and never refund through a provider).
func HandoffPayment(cs *Session, o ShopOrder, now time.Time) (*Payment, error) {
	total, err := sessionTotal(cs.View())
	if err != nil {
		return nil, err
	}
	return &Payment{SessionID: cs.ID, ShopID: cs.ShopID, State: PaymentCompleted, Attempt: 1,
		Amount: total, Currency: cs.Currency, OrderID: o.ID, OrderName: o.Name, OrderStatusURL: o.StatusURL,
		CreatedAt: now, UpdatedAt: now}, nil
}

// CompleteHandoff marks a handed-off session completed with the order its
// buyer placed at Shopify's checkout. False when there is nothing to do:
// the session is already completed (a redelivery, or the order's other
// webhook came first) or is not a handoff session.
func CompleteHandoff(cs *Session, o ShopOrder, now time.Time) bool {
	if cs.Status == acp.StatusCompleted || cs.State.Handoff == nil {
		return false
	}
	// Even a session that expired or was canceled meanwhile: the buyer
	// paid, and the order is what the agent must hear of.
	cs.Status = acp.StatusCompleted
	cs.State.Order = &o
	cs.State.PaymentMessages = nil
	cs.UpdatedAt = now.UTC().Truncate(time.Microsecond)
	return true
}

// InsertOpts: one pending release per draft; Shopify may be briefly away.
func (ReleaseDraftArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, UniqueOpts: river.UniqueOpts{ByArgs: true}}
}

// SessionRef names a session.
type SessionRef struct {
	ShopID int64
	ID     string
}

// overdueBatch bounds the sessions one ExpireOverdue looks at.
const overdueBatch = 1000

// ExpireOverdue expires the handed-off sessions whose time is up and that
// no call has read since (the agent went away), so their drafts are
// deleted and nothing is left payable, and deletes the overdue carts
// likewise (Carts.ExpireOverdue); the housekeeping job runs it. It
// returns how many sessions and carts it expired. Each expiry is the same
// conditional write a read makes, so a session is expired, and its draft
// released, once.
func (c *Sessions) ExpireOverdue(ctx context.Context) (int, error) {
	refs, err := c.Store.OverdueHandoffSessions(ctx, c.now(), overdueBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		cs, err := c.Store.CheckoutSession(ctx, r.ShopID, r.ID)
		if errors.Is(err, app.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if err := c.expire(ctx, cs); err != nil {
			return n, fmt.Errorf("expire %s: %w", r.ID, err)
		}
		if cs.Status == acp.StatusExpired {
			n++
		}
	}
	carts, err := c.Carts.ExpireOverdue(ctx)
	return n + carts, err
}
