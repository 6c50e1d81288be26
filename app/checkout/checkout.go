package checkout

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// Store is what checkout sessions need of the database.
type Store interface {
	// InTx runs fn in one transaction (carried by its ctx).
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateCheckoutSession(ctx context.Context, cs *Session) error
	// CheckoutSession returns the shop's session, or ErrNotFound (also for
	// another shop's session id).
	CheckoutSession(ctx context.Context, shopID int64, id string) (*Session, error)
	// SaveCheckoutSession writes cs if its row version is still
	// cs.RowVersion, bumping it; ErrConflict when another write came first.
	SaveCheckoutSession(ctx context.Context, cs *Session) error
	// OverdueHandoffSessions lists, oldest first and at most limit, the
	// sessions holding a draft order (State.Handoff) that are past their
	// expiry at now but not yet terminal.
	OverdueHandoffSessions(ctx context.Context, now time.Time, limit int) ([]SessionRef, error)
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	ShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	ACPSettings(ctx context.Context, shopID int64) (*app.ACPSettings, error)
	FeedSettings(ctx context.Context, shopID int64) (*app.FeedSettings, error)
}

// Pricer quotes carts against the shop: the synced catalog and Shopify's
// own tax, shipping and discount rules (pricing.go).
type Pricer interface {
	// Quote prices st for the shop. Message params are JSONPaths of
	// version v's request shape. Business problems are messages in the
	// quote; an error is a protocol problem (an *Error) or a failure.
	Quote(ctx context.Context, sh *app.Shop, v acp.Version, st *State) (Quote, error)
}

// LivePricer is a Pricer that also quotes with Shopify's live price and
// stock (Pricing.QuoteLive). The steps that commit (complete, writing a
// handoff draft order) quote live; a Pricer without it is taken to be
// live already.
type LivePricer interface {
	QuoteLive(ctx context.Context, sh *app.Shop, v acp.Version, st *State) (Quote, error)
}

// quoteLive quotes st with p's live check.
func quoteLive(ctx context.Context, p Pricer, sh *app.Shop, v acp.Version, st *State) (Quote, error) {
	if lp, ok := p.(LivePricer); ok {
		return lp.QuoteLive(ctx, sh, v, st)
	}
	return p.Quote(ctx, sh, v, st)
}

// Sessions is the ACP checkout API's use-case: it keeps sessions, prices
// them through the Pricer, and decides their status.
type Sessions struct {
	Store  Store
	Pricer Pricer
	Logger *slog.Logger
	Now    func() time.Time
	// TTL is how long a session lives before it expires (default 6 h).
	TTL time.Duration
	// Completer charges and orders (complete.go).
	Completer *Completer
	Queue     app.Enqueuer
	// Events, when set, records the order_create of each completed
	// session (orderevents.Service).
	Events OrderEvents
	// CompleteWait is how long a complete that finds another one running
	// waits for its result (default 10 s).
	CompleteWait time.Duration
	// Drafts keeps the Shopify draft orders of Shopify-checkout shops'
	// sessions (nil: such sessions never become payable here).
	Drafts Drafts
	// Distribution decides the completion method of settings read here
	// (Distribution.Effective); "" takes the stored method as it is.
	Distribution app.Distribution
	// Carts are advertised by Discovery for the shops that have them (nil:
	// none).
	Carts *Carts
	// AppURL is the app's public URL, the root of handoff sessions'
	// continue_url (nil or "": such sessions never become payable here).
	AppURL func() string
	// Admission, when set, may refuse a shop's next agent order (billing).
	Admission Admission
}

// DefaultSessionTTL is how long a checkout session lives by default.
const DefaultSessionTTL = 6 * time.Hour

// DefaultQuoteTimeout bounds the Shopify calls of one quote.
const DefaultQuoteTimeout = 4 * time.Second

// now is the clock at PostgreSQL's precision, so that a session reads back
// exactly as it was answered.
func (c *Sessions) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (c *Sessions) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultSessionTTL
}

// newSessionID returns "cs_" and 26 random base32 characters (130 bits).
func newSessionID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "cs_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

// Create opens a session for the caller's shop and prices it. The caller
// is the authenticated agent (its key becomes the session's APIKeyID), or
// the merchant's own test checkout (an Agent without Key).
func (c *Sessions) Create(ctx context.Context, ag *app.Agent, v acp.Version, in *acp.CreateSessionInput) (*Session, error) {
	sh := ag.Shop
	if sh.CurrencyCode == "" {
		return nil, &app.Error{Code: app.CodeUnavailable, Message: "the shop's details are not known yet; try again in a minute"}
	}
	if in.Currency != "" && !strings.EqualFold(in.Currency, sh.CurrencyCode) {
		return nil, &app.Error{Code: app.CodeInvalid, Reason: "unsupported_currency", Field: "$.currency",
			Message: fmt.Sprintf("this shop sells in %s only", strings.ToLower(sh.CurrencyCode))}
	}
	if err := c.admit(ctx, sh); err != nil {
		return nil, err // before anything is made
	}
	id, err := newSessionID()
	if err != nil {
		return nil, err
	}
	now := c.now()
	cs := &Session{
		ID: id, ShopID: sh.ID, Version: v, Currency: sh.CurrencyCode,
		ExpiresAt: now.Add(c.ttl()), CreatedAt: now, UpdatedAt: now,
		State: State{
			Items: cartItems(in.Items), Buyer: in.Buyer, Fulfillment: in.FulfillmentDetails,
			DiscountCodes: normalizeCodes(in.DiscountCodes), SubmittedCodes: submittedCodes(in.DiscountCodes), OrderNotes: in.OrderNotes,
			Locale: in.Locale, Timezone: in.Timezone, Capabilities: in.Capabilities,
		},
	}
	if ag.Key != nil {
		cs.APIKeyID = ag.Key.ID
	}
	if err := c.price(ctx, ag, v, cs); err != nil {
		return nil, err
	}
	if err := c.createSession(ctx, cs); err != nil {
		c.dropNewDraft(ctx, sh, cs)
		return nil, fmt.Errorf("create checkout session: %w", err)
	}
	cs.newDraft = ""
	return cs, nil
}

// Get returns the shop's session, marking it expired when its time is up.
func (c *Sessions) Get(ctx context.Context, ag *app.Agent, id string) (*Session, error) {
	cs, err := c.load(ctx, ag.Shop, id)
	if err != nil {
		return nil, err
	}
	if err := c.expire(ctx, cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// Update applies the agent's changes and reprices the session.
func (c *Sessions) Update(ctx context.Context, ag *app.Agent, v acp.Version, id string, in *acp.UpdateSessionInput) (*Session, error) {
	return c.modify(ctx, ag.Shop, id, func(cs *Session) error {
		if cs.Status.Terminal() || cs.Status == acp.StatusCompleteInProgress {
			return notModifiable(cs)
		}
		st := &cs.State
		st.PaymentMessages, st.Agreed = nil, nil
		if in.Items != nil {
			st.Items = cartItems(in.Items)
		}
		if in.Buyer != nil {
			st.Buyer = in.Buyer
		}
		if in.FulfillmentDetails != nil {
			st.Fulfillment = in.FulfillmentDetails
		}
		if in.DiscountCodes != nil {
			st.DiscountCodes = normalizeCodes(in.DiscountCodes)
			st.SubmittedCodes = submittedCodes(in.DiscountCodes)
		}
		if in.OrderNotes != nil {
			st.OrderNotes = *in.OrderNotes
		}
		if len(in.SelectedFulfillment) > 0 {
			// One option covers the whole cart: this app quotes one
			// shipment per session (Shopify's draft order has one
			// shipping line).
			sel := in.SelectedFulfillment[0]
			st.SelectedOptionID, st.OptionChosen = sel.OptionID, true
			if !st.hasOption(sel.OptionID) && !c.optionMayAppear(st, in) {
				return &app.Error{Code: app.CodeInvalid, Reason: "invalid", Field: selectedOptionParam(v),
					Message: fmt.Sprintf("fulfillment option %q is not one of the session's options", sel.OptionID)}
			}
		}
		return c.price(ctx, ag, v, cs)
	})
}

// optionMayAppear: an option id unknown to the last quote is accepted when
// the same update changes what the options depend on (items or address),
// or when the last quote is incomplete (Shopify could not quote: its
// options are gone, and the agent, told to try again, resends its choice);
// the new quote then decides.
func (c *Sessions) optionMayAppear(st *State, in *acp.UpdateSessionInput) bool {
	return in.Items != nil || in.FulfillmentDetails != nil || !st.Quote.Complete
}

func (st *State) hasOption(id string) bool {
	for _, o := range st.Quote.Options {
		if o.ID == id {
			return true
		}
	}
	return false
}

func selectedOptionParam(v acp.Version) string {
	if v == acp.V20250929 {
		return "$.fulfillment_option_id"
	}
	return "$.selected_fulfillment_options[0].option_id"
}

// Cancel cancels a session that is not yet terminal; a terminal one
// answers "not allowed" (405).
func (c *Sessions) Cancel(ctx context.Context, ag *app.Agent, id string, in *acp.CancelSessionInput) (*Session, error) {
	return c.modify(ctx, ag.Shop, id, func(cs *Session) error {
		if cs.Status == acp.StatusCompleteInProgress {
			return notModifiable(cs) // a payment is under way
		}
		if cs.Status.Terminal() {
			return &app.Error{Code: app.CodeNotAllowed, Reason: "invalid_state",
				Message: fmt.Sprintf("the session is %s and can no longer be canceled", cs.Status)}
		}
		cs.Status = acp.StatusCanceled
		if in != nil {
			cs.State.CancelReason = in.ReasonCode
		}
		return nil // modify releases the draft with the write
	})
}

func notModifiable(cs *Session) error {
	return &app.Error{Code: app.CodeConflict, Reason: "invalid_state",
		Message: fmt.Sprintf("the session is %s and can no longer be changed", cs.Status)}
}

// maxWriteAttempts bounds the optimistic-concurrency retries of one call.
const maxWriteAttempts = 4

// modify loads the session, applies fn and saves it, retrying from a fresh
// read when a concurrent write got there first.
func (c *Sessions) modify(ctx context.Context, sh *app.Shop, id string, fn func(*Session) error) (*Session, error) {
	if a := answerFrom(ctx); a != nil && a.Claim != nil {
		return c.modifyClaiming(ctx, sh, id, fn, a) // combined.go
	}
	for attempt := 1; ; attempt++ {
		cs, err := c.load(ctx, sh, id)
		if err != nil {
			return nil, err
		}
		if err := c.expire(ctx, cs); err != nil {
			return nil, err
		}
		before := cs.Status
		if err := fn(cs); err != nil {
			c.dropNewDraft(ctx, sh, cs)
			return nil, err
		}
		cs.UpdatedAt = c.now()
		// The caller's answer, if any, is written with the session
		// (combined.go).
		committed := func() {}
		if !before.Terminal() && (cs.Status == acp.StatusCanceled || cs.Status == acp.StatusExpired) {
			// The session and the release of its draft, when this write
			// ends it, commit together (fn's Shopify calls stay outside).
			err = c.Store.InTx(ctx, func(ctx context.Context) error {
				var err error
				if committed, err = c.saveSession(ctx, cs); err != nil {
					return err
				}
				return c.releaseDraft(ctx, cs)
			})
		} else {
			// One guarded UPDATE is atomic on its own: a transaction
			// around it would only add BEGIN and COMMIT, two round trips
			// on every update (issue 17).
			committed, err = c.saveSession(ctx, cs)
		}
		if err == nil {
			committed()
			cs.newDraft = ""
			return cs, nil
		}
		c.dropNewDraft(ctx, sh, cs)
		if !errors.Is(err, app.ErrConflict) || attempt == maxWriteAttempts {
			if errors.Is(err, app.ErrConflict) {
				return nil, &app.Error{Code: app.CodeConflict, Reason: "concurrent_update", RetryAfter: time.Second,
					Message: "the session is being changed by another request; retry"}
			}
			return nil, fmt.Errorf("save checkout session: %w", err)
		}
	}
}

func (c *Sessions) load(ctx context.Context, sh *app.Shop, id string) (*Session, error) {
	if !validSessionID(id) {
		return nil, &app.Error{Code: app.CodeNotFound, Reason: "not_found", Message: "no such checkout session"}
	}
	cs, ok := PrefetchFrom(ctx).take(sh.ID, id)
	if ok && cs == nil {
		return nil, &app.Error{Code: app.CodeNotFound, Reason: "not_found", Message: "no such checkout session"}
	}
	if ok {
		return cs, nil
	}
	cs, err := c.Store.CheckoutSession(ctx, sh.ID, id)
	if errors.Is(err, app.ErrNotFound) {
		return nil, &app.Error{Code: app.CodeNotFound, Reason: "not_found", Message: "no such checkout session"}
	}
	return cs, err
}

func validSessionID(id string) bool {
	if !strings.HasPrefix(id, "cs_") || len(id) > 64 {
		return false
	}
	for _, r := range id[3:] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// expire turns a session past its expiry into an expired one (saved, so
// every replica agrees from then on).
func (c *Sessions) expire(ctx context.Context, cs *Session) error {
	if cs.Status.Terminal() || cs.Status == acp.StatusCompleteInProgress || c.now().Before(cs.ExpiresAt) {
		return nil
	}
	cs.Status, cs.UpdatedAt = acp.StatusExpired, c.now()
	err := c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := c.Store.SaveCheckoutSession(ctx, cs); err != nil {
			return err
		}
		return c.releaseDraft(ctx, cs) // once: only the write that expired it
	})
	if errors.Is(err, app.ErrConflict) {
		fresh, err := c.Store.CheckoutSession(ctx, cs.ShopID, cs.ID)
		if err != nil {
			return err
		}
		*cs = *fresh
		return nil
	}
	return err
}

// settings are the shop's ACP settings: the caller's when it carries them
// (authentication read them already), else read.
func (c *Sessions) settings(ctx context.Context, ag *app.Agent) (*app.ACPSettings, error) {
	if ag.Settings != nil {
		return ag.Settings, nil
	}
	set, err := c.Store.ACPSettings(ctx, ag.Shop.ID)
	if errors.Is(err, app.ErrNotFound) {
		return &app.ACPSettings{ShopID: ag.Shop.ID}, nil
	}
	return set, err
}

// payments are the payment providers completion charges through (none
// without a Completer: such a server takes no payments).
func (c *Sessions) payments() PaymentProviders {
	if c.Completer == nil {
		return nil
	}
	return c.Completer.Payments
}

// links are the shop's policy pages, from its feed settings: the ones
// authentication read with the key when the caller carries them, else read.
func (c *Sessions) links(ctx context.Context, ag *app.Agent) ([]acp.Link, error) {
	sh, pol := ag.Shop, ag.Policies
	if pol == nil {
		fs, err := c.Store.FeedSettings(ctx, sh.ID)
		if errors.Is(err, app.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		pol = &app.PolicyURLs{Saved: true, Terms: fs.TermsURL, Privacy: fs.PrivacyPolicyURL, Returns: fs.ReturnPolicyURL}
	}
	if !pol.Saved {
		return nil, nil
	}
	var out []acp.Link
	for _, l := range []struct {
		t   acp.LinkType
		url string
	}{
		{acp.LinkTypeTermsOfUse, pol.Terms},
		{acp.LinkTypePrivacyPolicy, pol.Privacy},
		{acp.LinkTypeReturnPolicy, pol.Returns},
		{acp.LinkTypeShippingPolicy, sh.ShippingPolicyURL},
		{acp.LinkTypeContactUs, sh.ContactURL},
	} {
		if l.url != "" {
			out = append(out, acp.Link{Type: l.t, URL: l.url})
		}
	}
	return out, nil
}

func cartItems(in []acp.ItemInput) []CartItem {
	out := make([]CartItem, len(in))
	for i, it := range in {
		q := it.Quantity
		if q == 0 {
			q = 1
		}
		out[i] = CartItem{ItemID: it.ID, Quantity: q}
	}
	return out
}

// normalizeCodes upper-cases discount codes (Shopify matches them without
// case) and drops duplicates and blanks, keeping the agent's order.
func normalizeCodes(codes []string) []string {
	var out []string // nil when none: the state round-trips through JSON
	seen := map[string]bool{}
	for _, c := range codes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" || seen[c] {
			continue
		}
		seen[c] = true
		out = append(out, c)
	}
	return out
}
