package checkout

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// Carts are the ACP cart capability (2026-04-17): a basket an agent builds
// before the buyer decides, priced exactly as sessions are (Pricer: the
// synced catalog, live price and stock, Shopify's draft calculation where
// it applies), whose totals are estimates, and whose continue_url is the
// shop's own Shopify checkout: a cart that can be bought holds a Shopify
// draft order with its lines (and buyer email), stock reserved until the
// cart expires, and continue_url is the draft's invoice URL, where the
// buyer gives the address, picks shipping and pays. Carts have no status:
// a canceled cart is deleted (its draft with it, by the
// checkout_release_draft job), and an expired one reads as not found.
//
// Carts are offered to shops that sell through Shopify's checkout
// (app.CompletionShopifyCheckout), on a server that keeps drafts; for
// the others every cart call answers 404 and discovery leaves "carts" out
// (CartsEnabled). An order the buyer places from a cart's draft is the
// shop's ordinary Shopify order: ACP carts have no order, so no order
// event goes to the agent (the draft carries CartAttribute, not
// HandoffAttribute, so app/orderevents leaves it alone).

// Cart is a stored ACP cart.
type Cart struct {
	ID     string
	ShopID int64
	// APIKeyID is the agent key that created the cart (0: unknown).
	APIKeyID int64
	Currency string // ISO 4217, upper-case as Shopify gives it
	State    CartState
	// RowVersion: optimistic concurrency, bumped by every save.
	RowVersion int64
	ExpiresAt  time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time

	// newDraft is the draft order this call created (not stored), deleted
	// again when the cart's write does not happen.
	newDraft string
}

// CartState is what the agent sent and its last quote.
type CartState struct {
	Items  []CartItem `json:"items"`
	Buyer  *acp.Buyer `json:"buyer,omitempty"`
	Locale string     `json:"locale,omitempty"`
	Quote  Quote      `json:"quote"`
	// Handoff is the cart's Shopify draft order (its invoice URL is the
	// cart's continue_url).
	Handoff *Handoff `json:"handoff,omitempty"`
}

// CartAttribute is the draft's custom attribute naming the cart.
const CartAttribute = "acpbridge_cart"

// CartStore is what carts need of the database.
type CartStore interface {
	// InTx runs fn in one transaction (carried by its ctx).
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateCart(ctx context.Context, c *Cart) error
	// Cart returns the shop's cart, or ErrNotFound (also for another
	// shop's cart id).
	Cart(ctx context.Context, shopID int64, id string) (*Cart, error)
	// SaveCart writes c if its row version is still c.RowVersion, bumping
	// it; ErrConflict when another write came first (or the cart is gone).
	SaveCart(ctx context.Context, c *Cart) error
	// DeleteCart deletes c if its row version is still c.RowVersion;
	// ErrConflict otherwise.
	DeleteCart(ctx context.Context, c *Cart) error
	// OverdueCarts lists, oldest first and at most limit, the carts past
	// their expiry at now.
	OverdueCarts(ctx context.Context, now time.Time, limit int) ([]SessionRef, error)
	ACPSettings(ctx context.Context, shopID int64) (*app.ACPSettings, error)
}

// Carts is the ACP cart API's use-case.
type Carts struct {
	Store  CartStore
	Pricer Pricer
	Queue  app.Enqueuer
	Logger *slog.Logger
	Now    func() time.Time
	// TTL is how long a cart lives after its last change (default
	// DefaultCartTTL); its draft's stock is held as long.
	TTL time.Duration
	// Drafts keeps the carts' Shopify draft orders; nil: no carts.
	Drafts Drafts
	// Distribution decides the completion method stored settings allow
	// (as for Sessions).
	Distribution app.Distribution
}

// CartsOptions are the carts' settings.
type CartsOptions struct {
	Logger       *slog.Logger     // default slog.Default()
	Now          func() time.Time // default time.Now
	TTL          time.Duration    // default DefaultCartTTL
	Distribution app.Distribution
}

// NewCarts builds the carts over their store, the pricer sessions use, the
// job queue (the draft's release on cancel) and the draft orders.
func NewCarts(store CartStore, pricer Pricer, queue app.Enqueuer, drafts Drafts, opts CartsOptions) *Carts {
	return &Carts{Store: store, Pricer: pricer, Queue: queue, Drafts: drafts, Logger: orLogger(opts.Logger),
		Now: orNow(opts.Now), TTL: opts.TTL, Distribution: opts.Distribution}
}

// DefaultCartTTL is how long a cart lives after its last change by
// default: as long as a session, because its draft holds stock as long.
const DefaultCartTTL = DefaultSessionTTL

// now is the clock at PostgreSQL's precision, so that a cart reads back
// exactly as it was answered.
func (c *Carts) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (c *Carts) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultCartTTL
}

func errNoCart() error {
	return &app.Error{Code: app.CodeNotFound, Reason: "not_found", Message: "no such cart; it may have expired or been canceled"}
}

// CartsEnabled reports whether the shop offers carts: it sells through
// Shopify's checkout, and this server keeps draft orders.
func (c *Carts) CartsEnabled(ctx context.Context, ag *app.Agent) (bool, error) {
	if c == nil || c.Drafts == nil {
		return false, nil
	}
	set := ag.Settings
	if set == nil {
		s, err := c.Store.ACPSettings(ctx, ag.Shop.ID)
		switch {
		case errors.Is(err, app.ErrNotFound):
			s = &app.ACPSettings{ShopID: ag.Shop.ID}
		case err != nil:
			return false, err
		}
		set = s
	}
	m := set.CompletionMethod.OrDefault()
	if ag.Settings == nil && c.Distribution != "" {
		m = c.Distribution.Effective(m)
	}
	return m == app.CompletionShopifyCheckout, nil
}

// enabled answers a cart call of a shop without carts: not found, as the
// spec's discovery lets agents expect of a capability not advertised.
func (c *Carts) enabled(ctx context.Context, ag *app.Agent) error {
	ok, err := c.CartsEnabled(ctx, ag)
	if err != nil {
		return err
	}
	if !ok {
		return &app.Error{Code: app.CodeNotFound, Reason: "not_found",
			Message: "this store does not offer carts; create a checkout session instead"}
	}
	return nil
}

func newCartID() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "cart_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)), nil
}

func validCartID(id string) bool {
	if !strings.HasPrefix(id, "cart_") || len(id) > 64 {
		return false
	}
	for _, r := range id[5:] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Create makes a cart for the caller's shop and prices it.
func (c *Carts) Create(ctx context.Context, ag *app.Agent, in *acp.CreateCartInput) (*Cart, error) {
	if err := c.enabled(ctx, ag); err != nil {
		return nil, err
	}
	sh := ag.Shop
	if sh.CurrencyCode == "" {
		return nil, &app.Error{Code: app.CodeUnavailable, Message: "the shop's details are not known yet; try again in a minute"}
	}
	id, err := newCartID()
	if err != nil {
		return nil, err
	}
	now := c.now()
	ct := &Cart{ID: id, ShopID: sh.ID, Currency: sh.CurrencyCode, ExpiresAt: now.Add(c.ttl()), CreatedAt: now, UpdatedAt: now,
		State: CartState{Items: cartItems(in.Items), Buyer: in.Buyer, Locale: in.Locale}}
	if ag.Key != nil {
		ct.APIKeyID = ag.Key.ID
	}
	if err := c.price(ctx, sh, ct); err != nil {
		return nil, err
	}
	if err := c.Store.CreateCart(ctx, ct); err != nil {
		c.dropNewDraft(ctx, sh, ct)
		return nil, fmt.Errorf("create cart: %w", err)
	}
	ct.newDraft = ""
	return ct, nil
}

// Get returns the shop's live cart; an expired one is not found.
func (c *Carts) Get(ctx context.Context, ag *app.Agent, id string) (*Cart, error) {
	if err := c.enabled(ctx, ag); err != nil {
		return nil, err
	}
	return c.load(ctx, ag.Shop, id)
}

// Update replaces the cart's items and buyer (a full replacement: an
// absent buyer removes it), reprices it and refreshes its expiry.
func (c *Carts) Update(ctx context.Context, ag *app.Agent, id string, in *acp.UpdateCartInput) (*Cart, error) {
	if err := c.enabled(ctx, ag); err != nil {
		return nil, err
	}
	sh := ag.Shop
	for attempt := 1; ; attempt++ {
		ct, err := c.load(ctx, sh, id)
		if err != nil {
			return nil, err
		}
		ct.State.Items, ct.State.Buyer = cartItems(in.Items), in.Buyer
		now := c.now()
		ct.UpdatedAt, ct.ExpiresAt = now, now.Add(c.ttl())
		if err := c.price(ctx, sh, ct); err != nil {
			c.dropNewDraft(ctx, sh, ct)
			return nil, err
		}
		err = c.Store.SaveCart(ctx, ct)
		if err == nil {
			ct.newDraft = ""
			return ct, nil
		}
		c.dropNewDraft(ctx, sh, ct)
		if !errors.Is(err, app.ErrConflict) {
			return nil, fmt.Errorf("save cart: %w", err)
		}
		if attempt == maxWriteAttempts {
			return nil, &app.Error{Code: app.CodeConflict, Reason: "concurrent_update", RetryAfter: time.Second,
				Message: "the cart is being changed by another request; retry"}
		}
	}
}

// Cancel deletes the cart and answers its state before deletion, as the
// spec asks; its draft order is deleted by the checkout_release_draft job
// enqueued with the deletion, which releases the reserved stock.
func (c *Carts) Cancel(ctx context.Context, ag *app.Agent, id string) (*Cart, error) {
	if err := c.enabled(ctx, ag); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		ct, err := c.load(ctx, ag.Shop, id)
		if err != nil {
			return nil, err
		}
		err = c.remove(ctx, ct)
		if err == nil {
			return ct, nil
		}
		if !errors.Is(err, app.ErrConflict) || attempt == maxWriteAttempts {
			return nil, fmt.Errorf("cancel cart: %w", err)
		}
	}
}

// remove deletes the cart with the release of its draft, in one
// transaction.
func (c *Carts) remove(ctx context.Context, ct *Cart) error {
	return c.Store.InTx(ctx, func(ctx context.Context) error {
		if err := c.Store.DeleteCart(ctx, ct); err != nil {
			return err
		}
		if h := ct.State.Handoff; h != nil && c.Queue != nil {
			return c.Queue.EnqueueTx(ctx, ReleaseDraftArgs{ShopID: ct.ShopID, DraftID: h.DraftID}, nil)
		}
		return nil
	})
}

// load reads the shop's cart; one past its expiry is deleted (releasing
// its draft) and not found.
func (c *Carts) load(ctx context.Context, sh *app.Shop, id string) (*Cart, error) {
	if !validCartID(id) {
		return nil, errNoCart()
	}
	ct, err := c.Store.Cart(ctx, sh.ID, id)
	if errors.Is(err, app.ErrNotFound) {
		return nil, errNoCart()
	}
	if err != nil {
		return nil, err
	}
	if !c.now().Before(ct.ExpiresAt) {
		if err := c.remove(ctx, ct); err != nil && !errors.Is(err, app.ErrConflict) {
			return nil, err
		}
		return nil, errNoCart()
	}
	return ct, nil
}

// price quotes the cart as a session without an address would be quoted
// (the address is the buyer's to give at Shopify's checkout, so its
// absence is no problem here), then gives a cart that can be bought its
// draft order, and takes it from one that cannot.
func (c *Carts) price(ctx context.Context, sh *app.Shop, ct *Cart) error {
	st := State{Items: ct.State.Items, Buyer: ct.State.Buyer, Locale: ct.State.Locale, Quote: ct.State.Quote}
	q, err := c.Pricer.Quote(ctx, sh, acp.V20260417, &st)
	if err != nil {
		return err
	}
	if h := ct.State.Handoff; !q.Live && !hasError(q.Messages) && len(q.Lines) > 0 && (h == nil || h.Key != draftKey(cartDraft(ct, q.Lines))) {
		// The draft is about to be written: the buyer pays what it
		// holds, so price and stock are checked with Shopify now.
		if q, err = quoteLive(ctx, c.Pricer, sh, acp.V20260417, &st); err != nil {
			return err
		}
	}
	kept := q.Messages[:0:0]
	for _, m := range q.Messages {
		if m.Code == acp.MessageCodeMissing && m.Param == addressParam(acp.V20260417) {
			continue
		}
		kept = append(kept, m)
	}
	q.Messages = kept
	ct.State.Quote = q
	if hasError(q.Messages) || len(q.Lines) == 0 {
		return c.dropDraft(ctx, sh, ct)
	}
	return c.handoff(ctx, sh, ct)
}

// handoff writes the cart's draft order when what it holds changed.
func (c *Carts) handoff(ctx context.Context, sh *app.Shop, ct *Cart) error {
	st := &ct.State
	d := cartDraft(ct, st.Quote.Lines)
	// Gone, or bought already (an ordinary order now): the cart goes on
	// with a fresh draft.
	h, created, err := writeDraft(ctx, c.Drafts, sh.Domain, st.Handoff, d, func(err error) bool {
		return errors.Is(err, app.ErrNotFound) || errors.Is(err, ErrDraftPaid)
	})
	if err != nil {
		c.Logger.WarnContext(ctx, "cart draft order not written", "cart", ct.ID, "err", err)
		return shopifyRefusal(err, "the store's checkout could not be prepared for this cart; try again")
	}
	if created != "" {
		ct.newDraft = created
	}
	st.Handoff = h
	return nil
}

// cartDraft is the draft order of a cart priced as lines.
func cartDraft(ct *Cart, lines []QuotedLine) HandoffDraft {
	qs := State{Items: ct.State.Items, Buyer: ct.State.Buyer}
	return HandoffDraft{CartID: ct.ID, DraftRequest: draftRequest(&qs, nil, lines), Currency: ct.Currency,
		ReserveUntil: reserveUntil(ct.ExpiresAt)}
}

// dropDraft deletes the draft of a cart that can no longer be bought as it
// stands, so that a stale invoice cannot be paid.
func (c *Carts) dropDraft(ctx context.Context, sh *app.Shop, ct *Cart) error {
	h := ct.State.Handoff
	if h == nil {
		return nil
	}
	if err := c.Drafts.DeleteDraft(ctx, sh.Domain, h.DraftID); err != nil {
		c.Logger.WarnContext(ctx, "cart draft order not deleted", "cart", ct.ID, "draft", h.DraftID, "err", err)
		return shopifyRefusal(err, "the store's checkout could not be updated for this cart; try again")
	}
	ct.State.Handoff = nil
	return nil
}

func (c *Carts) dropNewDraft(ctx context.Context, sh *app.Shop, ct *Cart) {
	if ct.newDraft == "" {
		return
	}
	if err := c.Drafts.DeleteDraft(context.WithoutCancel(ctx), sh.Domain, ct.newDraft); err != nil {
		c.Logger.WarnContext(ctx, "orphan cart draft order not deleted", "cart", ct.ID, "draft", ct.newDraft, "err", err)
	}
	ct.newDraft = ""
}

// View is the protocol's cart of a stored one.
func (ct *Cart) View() *acp.Cart {
	st := &ct.State
	q := &st.Quote
	v := &acp.Cart{ID: ct.ID, Currency: ct.Currency, Buyer: st.Buyer, Discount: q.Discount,
		TaxEstimated: q.Complete, ExpiresAt: ct.ExpiresAt}
	for i, l := range q.Lines {
		v.LineItems = append(v.LineItems, viewLine(i, l))
	}
	v.Messages = append(v.Messages, q.Messages...)
	if h := st.Handoff; h != nil {
		v.ContinueURL = h.InvoiceURL
	}
	if !q.Complete {
		v.Messages = append(v.Messages, acp.Message{Type: acp.MessageInfo, ContentType: acp.ContentPlain,
			Content: "Totals are estimates before tax and shipping, which the store's checkout adds once the buyer gives an address."})
	}
	return v
}

// viewLine is the protocol's line i of a quote, as sessions show it.
func viewLine(i int, l QuotedLine) acp.LineItem {
	name := l.Title
	// The feed's title already names the variant ("T-Shirt - S").
	if l.VariantTitle != "" && l.VariantTitle != "Default Title" && !strings.Contains(name, l.VariantTitle) {
		name += " – " + l.VariantTitle
	}
	li := acp.LineItem{
		ID: "li_" + strconv.Itoa(i+1), ItemID: l.ItemID, Quantity: l.Quantity,
		UnitAmount: l.UnitAmount, Discount: l.Discount, Tax: l.Tax,
		Name: name, SKU: l.SKU,
		ProductID: strconv.FormatInt(l.ProductID, 10), VariantID: strconv.FormatInt(l.VariantID, 10),
	}
	if l.ImageURL != "" {
		li.Images = []string{l.ImageURL}
	}
	return li
}

// ExpireOverdue deletes the carts whose time is up and that no call has
// read since (a read deletes an expired cart itself), releasing their
// drafts, so that no stale invoice stays payable; the housekeeping job
// runs it through Sessions.ExpireOverdue. It returns how many it deleted.
func (c *Carts) ExpireOverdue(ctx context.Context) (int, error) {
	if c == nil {
		return 0, nil
	}
	refs, err := c.Store.OverdueCarts(ctx, c.now(), overdueBatch)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, r := range refs {
		ct, err := c.Store.Cart(ctx, r.ShopID, r.ID)
		if errors.Is(err, app.ErrNotFound) {
			continue
		}
		if err != nil {
			return n, err
		}
		if c.now().Before(ct.ExpiresAt) {
			continue // updated since it was listed
		}
		err = c.remove(ctx, ct)
		if errors.Is(err, app.ErrConflict) {
			continue // a concurrent call changed or removed it
		}
		if err != nil {
			return n, fmt.Errorf("expire cart %s: %w", r.ID, err)
		}
		n++
	}
	return n, nil
}
