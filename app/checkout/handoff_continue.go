package checkout

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// A payable handoff session's continue_url is a page of this app, not the
// draft's invoice: the draft order is written when the buyer follows the
// link (Continue), with exactly what the session holds at that moment,
// so that a conversation whose buyer never goes to pay costs no Shopify
// write, and one whose agent changes the shipping option costs no
// rewrite. Stock is reserved (reserveInventoryUntil) from that click until
// the session expires.
//
// Exactly once: the click that finds no current draft claims the session
// (a short lease in its state, a row-version-guarded write), writes the
// draft and stores it with the same guarded write; any other click, or
// replica, that finds the claim waits briefly and sends its buyer to the
// winner's draft. A click that fails (Shopify away or throttled, stock
// gone) stores nothing but the release of its claim; a draft it created
// and could not store is deleted again.

// ContinuePath is where continue_urls point under the app's URL; the
// token follows.
const ContinuePath = "/checkout/continue/"

// ContinueLink is a payable handoff session's continue_url and the claim
// of the click writing its draft.
type ContinueLink struct {
	// Secret is the random part of the link's token: the token names
	// the session, and only this makes it the session's link.
	Secret string `json:"secret"`
	URL    string `json:"url"`
	// Claim identifies the click writing the draft, until ClaimUntil.
	Claim      string    `json:"claim,omitempty"`
	ClaimUntil time.Time `json:"claim_until,omitzero"`
}

// ContinuePage is what a followed continue_url shows when it does not
// redirect.
type ContinuePage string

// The pages of Continue.
const (
	// PageNotReady: the session cannot be paid as it stands (the agent
	// has more to settle with the buyer).
	PageNotReady ContinuePage = "not_ready"
	// PagePriceChanged: the live check found another total than the one
	// the buyer was told; the session now holds it, and following the
	// link again goes on at that total.
	PagePriceChanged ContinuePage = "price_changed"
	// PageEnded: the session was canceled or expired.
	PageEnded ContinuePage = "ended"
	// PageCompleted: the session is paid, and its order has no status
	// page to send the buyer to.
	PageCompleted ContinuePage = "completed"
	// PagePaid: the draft was paid; the session completes in a moment.
	PagePaid ContinuePage = "paid"
	// PageBusy: another click is still writing the draft.
	PageBusy ContinuePage = "busy"
)

// ContinueOutcome is where a followed continue_url leads: RedirectURL
// (the draft's invoice, or the order's status page), or else Page.
type ContinueOutcome struct {
	RedirectURL string
	// Checkout: RedirectURL is the draft's invoice (Shopify's checkout),
	// not the order's status page.
	Checkout bool
	Page     ContinuePage
	// Total and Currency are the session's (PagePriceChanged).
	Total    int64
	Currency string
}

// ErrNoSuchLink is Continue's answer to a token that names no session's
// link.
var ErrNoSuchLink = &app.Error{Code: app.CodeNotFound, Reason: "not_found",
	Message: "This checkout link is not valid. Ask your assistant for a new one."}

// Continue timings: a click's claim lasts continueLease, its Shopify
// calls at most continueWrite (so a claim outlives the work it covers);
// another click waits at most continueWait for it, looking every
// continuePoll.
const (
	continueLease = 20 * time.Second
	continueWrite = 15 * time.Second
	continueWait  = 10 * time.Second
	continuePoll  = 100 * time.Millisecond
)

// handsOff: this server can send buyers to Shopify's checkout.
func (c *Sessions) handsOff() bool { return c.Drafts != nil && c.appURL() != "" }

func (c *Sessions) appURL() string {
	if c.AppURL == nil {
		return ""
	}
	return strings.TrimRight(c.AppURL(), "/")
}

// giveLink gives the session its continue_url, once.
func (c *Sessions) giveLink(cs *Session) error {
	if cs.State.Continue != nil {
		return nil
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	secret := base64.RawURLEncoding.EncodeToString(b)
	cs.State.Continue = &ContinueLink{Secret: secret,
		URL: c.appURL() + ContinuePath + continueToken(cs.ShopID, cs.ID, secret)}
	return nil
}

// continueURL is where the agent sends the buyer: the session's link
// while it is requires_escalation ("" otherwise). A session handed off
// before links existed has its draft's invoice URL.
func (cs *Session) continueURL() string {
	st := &cs.State
	switch {
	case cs.Status != acp.StatusRequiresEscalation:
		return ""
	case st.Continue != nil:
		return st.Continue.URL
	case st.Handoff != nil:
		return st.Handoff.InvoiceURL
	}
	return ""
}

// continueToken names the shop, the session and the link's secret:
// base64url of the shop id and the session id (uvarint-prefixed) and the
// secret.
func continueToken(shopID int64, id, secret string) string {
	b := binary.AppendUvarint(nil, uint64(shopID))
	b = binary.AppendUvarint(b, uint64(len(id)))
	b = append(b, id...)
	return base64.RawURLEncoding.EncodeToString(append(b, secret...))
}

// parseContinueToken is continueToken's inverse; false for anything it
// did not make.
func parseContinueToken(token string) (shopID int64, id, secret string, ok bool) {
	if len(token) > 256 {
		return 0, "", "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return 0, "", "", false
	}
	shop, n := binary.Uvarint(b)
	if n <= 0 || shop == 0 || shop > 1<<62 {
		return 0, "", "", false
	}
	b = b[n:]
	l, n := binary.Uvarint(b)
	if n <= 0 || l > uint64(len(b)-n) {
		return 0, "", "", false
	}
	id, secret = string(b[n:n+int(l)]), string(b[n+int(l):])
	if !validSessionID(id) || secret == "" {
		return 0, "", "", false
	}
	return int64(shop), id, secret, true
}

// Continue is the buyer following a session's continue_url (its token):
// it sends them to the session's draft order, written now if the
// session has none or has changed since it was written (with the live
// check first), or to the order's status page once paid; otherwise it
// says why not (ContinueOutcome.Page). ErrNoSuchLink for a token that is
// not a session's link; Shopify's failures are *app.Error (unavailable,
// rate limited), after which the session is as it was.
func (c *Sessions) Continue(ctx context.Context, token string) (*ContinueOutcome, error) {
	shopID, id, secret, ok := parseContinueToken(token)
	if !ok {
		return nil, ErrNoSuchLink
	}
	sh, err := c.Store.ShopByID(ctx, shopID)
	if errors.Is(err, app.ErrNotFound) || err == nil && sh.Status == app.ShopUninstalled {
		return nil, ErrNoSuchLink
	}
	if err != nil {
		return nil, err
	}
	// claim is this click's while it holds one; any way out but the
	// write that stores the draft (and clears it) releases it.
	claim := ""
	defer func() { c.releaseClaim(ctx, sh.ID, id, claim) }()
	deadline := time.Now().Add(continueWait)
	for {
		cs, err := c.Store.CheckoutSession(ctx, sh.ID, id)
		if errors.Is(err, app.ErrNotFound) {
			return nil, ErrNoSuchLink
		}
		if err != nil {
			return nil, err
		}
		l := cs.State.Continue
		if l == nil || subtle.ConstantTimeCompare([]byte(l.Secret), []byte(secret)) != 1 {
			return nil, ErrNoSuchLink
		}
		if err := c.expire(ctx, cs); err != nil {
			return nil, err
		}
		if out := continueAsIs(cs); out != nil {
			return out, nil
		}
		l = cs.State.Continue // as expire may have read it again
		if l.Claim != "" && l.Claim != claim && c.now().Before(l.ClaimUntil) {
			// Another click is writing the draft: its outcome is ours.
			if time.Now().After(deadline) {
				return &ContinueOutcome{Page: PageBusy}, nil
			}
			if err := pause(ctx, continuePoll); err != nil {
				return nil, err
			}
			continue
		}
		if claim == "" || l.Claim != claim { // not (or no longer) ours: claim it
			if claim, err = c.claimLink(ctx, cs); errors.Is(err, app.ErrConflict) {
				claim = ""
				if time.Now().After(deadline) {
					return &ContinueOutcome{Page: PageBusy}, nil
				}
				continue // changed meanwhile: look again
			} else if err != nil {
				return nil, err
			}
		}
		out, err := c.writeAtClick(ctx, sh, cs)
		if errors.Is(err, app.ErrConflict) {
			if time.Now().Before(deadline) {
				continue // an agent's change came first: write what it holds now
			}
			return &ContinueOutcome{Page: PageBusy}, nil
		}
		if err == nil && out.Page != PagePaid {
			claim = "" // stored, with the claim cleared
		}
		return out, err
	}
}

// continueAsIs is where the link leads without writing anything, nil when
// the draft is to be written: a payable session whose draft holds what
// the session does goes to its invoice, a paid one to its order's page,
// and the others get a page saying why they cannot be paid.
func continueAsIs(cs *Session) *ContinueOutcome {
	st := &cs.State
	switch cs.Status {
	case acp.StatusCompleted:
		if st.Order != nil && st.Order.StatusURL != "" {
			return &ContinueOutcome{RedirectURL: st.Order.StatusURL}
		}
		return &ContinueOutcome{Page: PageCompleted}
	case acp.StatusCanceled, acp.StatusExpired:
		return &ContinueOutcome{Page: PageEnded}
	case acp.StatusRequiresEscalation:
	default:
		return &ContinueOutcome{Page: PageNotReady}
	}
	d, err := handoffDraft(cs)
	if err != nil {
		return &ContinueOutcome{Page: PageNotReady}
	}
	if h := st.Handoff; h != nil && h.Key == draftKey(d) {
		return &ContinueOutcome{RedirectURL: h.InvoiceURL, Checkout: true}
	}
	return nil
}

// claimLink claims the session for this click (a guarded write: one
// click of many wins, the others get ErrConflict) and returns the claim.
func (c *Sessions) claimLink(ctx context.Context, cs *Session) (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	claim := base64.RawURLEncoding.EncodeToString(b)
	cs.State.Continue.Claim, cs.State.Continue.ClaimUntil = claim, c.now().Add(continueLease)
	if err := c.Store.SaveCheckoutSession(ctx, cs); err != nil {
		return "", err
	}
	return claim, nil
}

// writeAtClick writes the claimed session's draft and stores it with the
// claim released. The Shopify calls and the write run to their end even
// when the buyer's browser goes away (their own deadline): what Shopify
// did is then stored, not left behind.
func (c *Sessions) writeAtClick(ctx context.Context, sh *app.Shop, cs *Session) (*ContinueOutcome, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), continueWrite)
	defer cancel()
	st := &cs.State
	told, err := sessionTotal(cs.View())
	if err != nil {
		return nil, err
	}
	payable, err := c.checkLive(ctx, sh, cs.Version, cs)
	if err != nil {
		return nil, err
	}
	if !payable && recoverable(st.Quote.Messages) {
		// Shopify could not confirm the lines: nothing changes, the
		// buyer tries again in a moment — when the shop's API budget was
		// what was short, once it is back (429, as for a draft write).
		if wait := st.Quote.Throttled; wait > 0 {
			return nil, &app.Error{Code: app.CodeRateLimited, Reason: "rate_limit_exceeded", RetryAfter: wait,
				Message: "The store is busy right now. Try again in a moment."}
		}
		return nil, &app.Error{Code: app.CodeUnavailable, RetryAfter: 2 * time.Second,
			Message: "The store's checkout cannot be reached right now. Try again in a moment."}
	}
	now, _ := sessionTotal(cs.View())
	var out *ContinueOutcome
	switch {
	case !payable:
		// Sold out or no longer sellable: the session says so to the
		// agent, and any earlier draft goes.
		cs.Status = c.status(cs)
		if err := c.dropDraft(ctx, sh, cs); err != nil {
			return nil, err
		}
		out = &ContinueOutcome{Page: PageNotReady}
	case now != told:
		out = &ContinueOutcome{Page: PagePriceChanged, Total: now, Currency: cs.Currency}
	}
	created := ""
	if out == nil {
		d, err := handoffDraft(cs)
		if err != nil {
			return nil, err
		}
		var h *Handoff
		h, created, err = writeDraft(ctx, c.Drafts, sh.Domain, st.Handoff, d, func(err error) bool { return errors.Is(err, app.ErrNotFound) })
		if errors.Is(err, ErrDraftPaid) {
			return &ContinueOutcome{Page: PagePaid}, nil
		}
		if err != nil {
			c.Logger.WarnContext(ctx, "draft order not written", "session", cs.ID, "err", err)
			return nil, shopifyRefusal(err, "The store's checkout could not be prepared. Try again in a moment.")
		}
		st.Handoff = h
		out = &ContinueOutcome{RedirectURL: h.InvoiceURL, Checkout: true}
	}
	st.Continue.Claim, st.Continue.ClaimUntil = "", time.Time{}
	cs.UpdatedAt = c.now()
	if err := c.Store.SaveCheckoutSession(ctx, cs); err != nil {
		cs.newDraft = created
		c.dropNewDraft(ctx, sh, cs)
		return nil, fmt.Errorf("save checkout session: %w", err)
	}
	return out, nil
}

// releaseClaim ends a failed click's claim, so that the next one need not
// wait for it to lapse; best effort (the lease lapses anyway).
func (c *Sessions) releaseClaim(ctx context.Context, shopID int64, id, claim string) {
	if claim == "" {
		return
	}
	ctx = context.WithoutCancel(ctx)
	cs, err := c.Store.CheckoutSession(ctx, shopID, id)
	if err != nil || cs.State.Continue == nil || cs.State.Continue.Claim != claim {
		return
	}
	cs.State.Continue.Claim, cs.State.Continue.ClaimUntil = "", time.Time{}
	if err := c.Store.SaveCheckoutSession(ctx, cs); err != nil && !errors.Is(err, app.ErrConflict) {
		c.Logger.WarnContext(ctx, "continue claim not released", "session", id, "err", err)
	}
}

// recoverable: some error message asks to try again as it is (Shopify
// could not be reached), rather than for a change.
func recoverable(ms []acp.Message) bool {
	for _, m := range ms {
		if m.Type == acp.MessageError && m.Resolution == "recoverable" {
			return true
		}
	}
	return false
}

// pause waits d, or less when ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
