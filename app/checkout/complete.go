package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/shopify"
)

// Completing a checkout charges the buyer once and writes one Shopify
// order, whatever crashes, retries or replicas do. The steps are
//
//	authorizing ─provider authorises─► authorized ─order written─► ordered ─captured─► completed
//	     │                               │
//	     ├─declined─► declined           └─Shopify refuses for good─► voided (authorisation cancelled)
//	     └─3-D Secure─► requires_action ─authentication result─► authorizing
//
// The record (Payment) is written when the completion begins, before
// orderCreate is sent, and where the drive stops (with the session's
// outcome, in one write: complete_write.go). A crash in between leaves the last record,
// and every external call from there is safe to repeat: payment calls
// carry idempotency keys derived from the session and attempt, and once an
// orderCreate was sent the order is looked up by its sourceIdentifier (the
// session id) before it is ever created again.
// Only the holder of the payment's lease drives it; the periodic sweep
// (maintenance.Housekeeping.SweepCompletions) hands any completion whose
// lease lapsed to the resume job.

// Payment states.
const (
	PaymentAuthorizing    = "authorizing"
	PaymentRequiresAction = "requires_action"
	PaymentAuthorized     = "authorized"
	PaymentOrdered        = "ordered"
	PaymentCompleted      = "completed"
	PaymentDeclined       = "declined"
	PaymentVoided         = "voided"
)

// Payment is the record of one session's completion.
type Payment struct {
	SessionID       string
	ShopID          int64
	State           string
	Attempt         int
	TokenSealed     string
	Amount          int64
	Currency        string
	PaymentIntentID string
	OrderID         string
	OrderName       string
	OrderStatusURL  string
	Details         PaymentDetails
	LastError       string
	LeaseUntil      *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// PaymentDetails are what the complete request adds for the order.
type PaymentDetails struct {
	MarketingConsents []acp.MarketingConsent `json:"marketing_consents,omitempty"`
	OrderNotes        string                 `json:"order_notes,omitempty"`
	BillingAddress    *acp.Address           `json:"billing_address,omitempty"`
	ThreeDS           *ThreeDSResult         `json:"three_ds,omitempty"`
	// Authentication is what the provider asked for (requires_action).
	Authentication *acp.AuthenticationMetadata `json:"authentication,omitempty"`
	// OrderAttemptAt is when orderCreate was last sent for this payment.
	OrderAttemptAt *time.Time `json:"order_attempt_at,omitempty"`
	// OrderSent: an orderCreate has been sent for the session, by this
	// attempt or an earlier one (a new attempt carries it over), so an
	// order of it may exist and is looked up before another is created.
	// While it is false, orderCreate is sent without that lookup.
	OrderSent bool `json:"order_sent,omitempty"`
	// Unrecorded: the record is leased to the driver that began this
	// attempt (the complete request that wrote it), which may send
	// orderCreate without writing the record first and writes it only
	// when it stops (Sessions.record clears the mark). Another driver that
	// takes the record over while it is still marked cannot know whether
	// that orderCreate was sent (its driver died, or overran its lease),
	// so it presumes it was: it looks the order up, after the search lag,
	// before it may create one.
	Unrecorded bool `json:"unrecorded,omitempty"`
}

// ThreeDSResult is the agent's 3-D Secure outcome passed on to the provider.
type ThreeDSResult struct {
	// TransStatus is the ARes status: "Y" authenticated, "A" attempted.
	TransStatus   string `json:"trans_status"`
	Cryptogram    string `json:"cryptogram"`
	ECI           string `json:"eci"`
	TransactionID string `json:"transaction_id"`
	Version       string `json:"version"`
}

// PaymentIntent is the payment provider's view of a charge (named after
// Stripe's, whose statuses it uses).
type PaymentIntent struct {
	ID     string
	Status string // requires_capture, requires_action, succeeded, canceled, requires_payment_method, processing
	Amount int64
	// CardBrand is the card's network (visa, mastercard, amex, …), when known.
	CardBrand string
}

// AuthorizeRequest asks the PSP to authorise (not capture) an amount.
type AuthorizeRequest struct {
	Token          string
	Amount         int64
	Currency       string // lower-case
	IdempotencyKey string
	Description    string
	Metadata       map[string]string
}

// Payment failures the PSP reports.
var (
	// ErrPaymentDeclined: the card was declined; nothing was charged.
	ErrPaymentDeclined = errors.New("payment declined")
	// ErrPaymentToken: the token is invalid, used, expired, revoked, of
	// another seller, or below the amount; nothing was charged.
	ErrPaymentToken = errors.New("payment token refused")
	// ErrIntentState: the PaymentIntent's status does not allow the call
	// (e.g. capturing an authorisation that was released).
	ErrIntentState = errors.New("payment intent in another state")
)

// PaymentRefund is money given back through the PSP.
type PaymentRefund struct {
	ID     string
	Amount int64
	Status string // succeeded, pending, failed, …
}

// ErrRefundRefused: the PSP refused a refund for good.
var ErrRefundRefused = errors.New("refund refused")

// ShopOrder is an order in Shopify.
type ShopOrder struct {
	ID        string // GID
	Name      string // "#1001"
	StatusURL string
}

// OrderRequest is the paid order to write into Shopify.
type OrderRequest struct {
	SessionID string
	Currency  string
	Lines     []QuotedLine
	Shipping  *QuotedOption
	Buyer     *acp.Buyer
	// Email is the order's contact email (State.ContactEmail).
	Email           string
	Address         *acp.Address
	BillingAddress  *acp.Address
	Total           int64
	PaymentIntentID string
	AcceptsEmail    bool
	Note            string
	Agent           string
	// DiscountCodes are the codes Shopify applied to the quote (the
	// discount extension's applied codes), named on the order.
	DiscountCodes []string
	// UpsertCustomer creates or updates the buyer's Shopify customer (name
	// and phone) with the order: only while the shop grants write_customers
	// (app.FeatureCustomerRecords); without it the order carries the
	// buyer's contact and addresses only.
	UpsertCustomer bool
}

// ErrOrderRefused: Shopify refused the order for good (e.g. stock gone).
var ErrOrderRefused = errors.New("Shopify refused the order")

// Orders writes orders into the shop.
type Orders interface {
	// FindBySource returns the order written for a session, or nil.
	FindBySource(ctx context.Context, shop, sessionID string) (*ShopOrder, error)
	Create(ctx context.Context, shop string, in OrderRequest) (*ShopOrder, error)
}

// PaymentStore is what completion needs of the database.
type PaymentStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CheckoutPayment(ctx context.Context, sessionID string) (*Payment, error)
	// SavePayment inserts or replaces the record, its lease
	// (LeaseUntil) included.
	SavePayment(ctx context.Context, p *Payment) error
	// InsertPayment inserts the record when the session has none yet;
	// false (and nothing written) when it has one.
	InsertPayment(ctx context.Context, p *Payment) (bool, error)
	// UpdatePayment writes the record over the stored one of the same
	// attempt, its lease included; ErrConflict when a newer attempt
	// began.
	UpdatePayment(ctx context.Context, p *Payment) error
	// LeasePayment takes the lease until the given time when it is free
	// or lapsed; false when another holds it.
	LeasePayment(ctx context.Context, sessionID string, now, until time.Time) (bool, error)
	ReleasePayment(ctx context.Context, sessionID string) error
	PaymentCredentialStore
}

// Completer charges and orders (see the top of this file).
type Completer struct {
	Store PaymentStore
	// Payments are the payment providers the shops' credentials charge.
	Payments PaymentProviders
	Orders   Orders
	Queue    app.Enqueuer
	Keys     *secret.Keyring
	Now      func() time.Time
	// Lease is how long one driver may hold a completion (default 60 s).
	Lease time.Duration
	// OrderSearchLag is how long Shopify's order search may take to show a
	// new order (default 20 s). After an orderCreate whose answer was lost,
	// the order is looked up again only once this has passed, so a lookup
	// cannot miss an order that exists and create a second one.
	OrderSearchLag time.Duration
	// AcquirerBIN is sent in 3-D Secure authentication metadata.
	AcquirerBIN string
}

func (c *Completer) searchLag() time.Duration {
	if c.OrderSearchLag > 0 {
		return c.OrderSearchLag
	}
	return 20 * time.Second
}

func tokenAAD(sessionID string) []byte { return []byte("checkout_payment_token:" + sessionID) }

// idempotencyKey is the provider's idempotency key of one step of one attempt.
func idempotencyKey(p *Payment, step string) string {
	sum := sha256.Sum256([]byte(p.SessionID + "/" + strconv.Itoa(p.Attempt) + "/" + step))
	return "acpb_" + hex.EncodeToString(sum[:16])
}

func (c *Completer) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

func (c *Completer) lease() time.Duration {
	if c.Lease > 0 {
		return c.Lease
	}
	return 60 * time.Second
}

// errInProgress: the completion could not finish now (an unknown outcome or
// a temporary failure); a later complete or the resume job carries it on.
var errInProgress = errors.New("completion in progress")

// errLeased: another request or replica is driving the completion.
var errLeased = fmt.Errorf("%w: driven elsewhere", errInProgress)

// drive carries the session's completion as far as it can go now. held is
// the record the request that began the completion wrote, leased to it
// (nil: drive takes the lease and reads the record), and pay the shop's
// payment provider that request opened (nil: drive opens it).
//
// It returns the record in the state where the completion stopped, still
// leased: the caller records it, with the lease released and the
// session's outcome, in one transaction (Sessions.record). On the way it
// writes only what must exist before an external call can act on it: the
// orderCreate attempt (see placeOrder). A crash before the caller's write
// leaves the last recorded step, from which every call is safe to repeat.
// An error means the completion must be resumed later; errLeased that
// another driver holds it (the record is as read, not leased).
func (c *Completer) drive(ctx context.Context, sh *app.Shop, cs *Session, held *Payment, pay *ShopPayment) (*Payment, error) {
	p := held
	if p == nil {
		now := c.now()
		ok, err := c.Store.LeasePayment(ctx, cs.ID, now, now.Add(c.lease()))
		if err != nil {
			return nil, err
		}
		if p, err = c.Store.CheckoutPayment(ctx, cs.ID); err != nil {
			if ok {
				_ = c.Store.ReleasePayment(context.WithoutCancel(ctx), cs.ID)
			}
			return nil, err
		}
		if !ok { // another request or replica drives it
			return p, errLeased
		}
		if p.Details.Unrecorded {
			c.presumeOrderSent(p)
		}
	}
	if pay == nil && !final(p.State) {
		var err error
		if pay, err = c.Payments.Open(ctx, c.Store, c.Keys, sh.ID); err != nil {
			return p, err
		}
	}
	// Each step either moves p to a later state (and returns nil) or
	// returns why the completion stops here; the states with nothing left
	// to do end the loop.
	for {
		var err error
		switch p.State {
		case PaymentAuthorizing:
			err = c.authorize(ctx, sh, cs, p, pay)
		case PaymentAuthorized:
			err = c.placeOrder(ctx, sh, cs, p, pay)
		case PaymentOrdered:
			err = c.capture(ctx, p, pay)
		default: // completed, declined, voided, requires_action
			return p, nil
		}
		if err != nil {
			return p, err
		}
	}
}

// presumeOrderSent takes over a record whose driver stopped before it
// recorded where it was (Details.Unrecorded): an orderCreate of it may
// have been sent up to now, so the order is looked up once Shopify's
// search can show one sent now, and this driver records before it sends
// its own.
func (c *Completer) presumeOrderSent(p *Payment) {
	now := c.now()
	d := &p.Details
	d.OrderSent, d.Unrecorded = true, false
	if d.OrderAttemptAt == nil || d.OrderAttemptAt.Before(now) {
		d.OrderAttemptAt = &now
	}
}

// sendUnrecorded reports whether the driver may send orderCreate at at
// without writing the record first: it is the driver that began the
// attempt (Details.Unrecorded), and its lease has at least half its length
// left for the order and the capture. Otherwise the attempt is recorded,
// with the lease renewed, before the call.
func (c *Completer) sendUnrecorded(p *Payment, at time.Time) bool {
	return p.Details.Unrecorded && p.LeaseUntil != nil && p.LeaseUntil.Sub(at) >= c.lease()/2
}

// final reports whether a payment in this state has nothing left to drive.
func final(state string) bool {
	switch state {
	case PaymentAuthorizing, PaymentAuthorized, PaymentOrdered:
		return false
	}
	return true
}

// set moves p to state, with lastErr as its last error; set does not save.
func (c *Completer) set(p *Payment, state string, lastErr error) {
	p.State, p.UpdatedAt, p.LastError = state, c.now(), ""
	switch state {
	case PaymentAuthorized, PaymentOrdered, PaymentCompleted, PaymentDeclined, PaymentVoided:
		// The token has been spent (or refused): nothing keeps it.
		p.TokenSealed = ""
	}
	if lastErr != nil {
		p.LastError = app.Truncate(lastErr.Error(), 500)
	}
}

// authorize authorises the payment with the agent's token (or confirms it
// after 3-D Secure): authorised, declined, or waiting for the buyer's
// authentication. Nothing is saved: a crash before the outcome is recorded
// leaves the payment authorizing, and authorising again with the same
// idempotency key gives the same answer.
func (c *Completer) authorize(ctx context.Context, sh *app.Shop, cs *Session, p *Payment, pay *ShopPayment) error {
	var pi *PaymentIntent
	var err error
	if p.PaymentIntentID != "" && p.Details.ThreeDS != nil {
		pi, err = pay.ConfirmAuthenticated(ctx, pay.Credentials, p.PaymentIntentID, *p.Details.ThreeDS, idempotencyKey(p, "confirm_3ds"))
	} else {
		token, oerr := c.Keys.Open(p.TokenSealed, tokenAAD(p.SessionID))
		if oerr != nil {
			return fmt.Errorf("open payment token: %w", oerr)
		}
		pi, err = pay.Authorize(ctx, pay.Credentials, AuthorizeRequest{
			Token: string(token), Amount: p.Amount, Currency: strings.ToLower(p.Currency),
			IdempotencyKey: idempotencyKey(p, "authorize"),
			Description:    "Agent order " + cs.ID,
			Metadata:       map[string]string{"checkout_session_id": cs.ID, "shop": sh.Domain, "channel": "acpbridge"},
		})
	}
	switch {
	case errors.Is(err, ErrPaymentDeclined), errors.Is(err, ErrPaymentToken):
		c.set(p, PaymentDeclined, err)
		return nil
	case err != nil:
		c.set(p, PaymentAuthorizing, err)
		return fmt.Errorf("%w: authorise: %w", errInProgress, err)
	}
	p.PaymentIntentID = pi.ID
	switch pi.Status {
	case "requires_capture", "succeeded":
		c.set(p, PaymentAuthorized, nil)
	case "requires_action":
		p.Details.Authentication = c.authentication(sh, pi, pay.AccountID)
		c.set(p, PaymentRequiresAction, nil)
	case "requires_payment_method", "canceled":
		c.set(p, PaymentDeclined, fmt.Errorf("payment intent %s is %s", pi.ID, pi.Status))
	default:
		c.set(p, PaymentAuthorizing, fmt.Errorf("payment intent %s is %s", pi.ID, pi.Status))
		return errInProgress
	}
	return nil
}

// placeOrder writes the Shopify order of an authorised payment, once.
// Before orderCreate is sent, the attempt is recorded (with the payment
// authorised and its PaymentIntent): a driver that finds that record
// after a crash or a lost answer waits for Shopify's order search and looks
// the order up by its source before it may create one. The driver that
// began the attempt skips that write (one statement per purchase, issue
// 17): its record is marked Unrecorded from the start, which a driver
// taking it over reads as "sent" (presumeOrderSent). While no
// orderCreate was ever sent for the session (OrderSent), no order of it
// can exist and the lookup is skipped. Shopify refusing the order cancels
// the authorisation.
func (c *Completer) placeOrder(ctx context.Context, sh *app.Shop, cs *Session, p *Payment, pay *ShopPayment) error {
	var order *ShopOrder
	var err error
	d := &p.Details
	if d.OrderSent || d.OrderAttemptAt != nil { // (records written before OrderSent existed have only the time)
		if at := d.OrderAttemptAt; at != nil && c.now().Sub(*at) < c.searchLag() {
			// An earlier orderCreate may have written an order that the
			// search does not show yet: wait before looking again.
			return fmt.Errorf("%w: waiting for Shopify's order search after an unanswered orderCreate", errInProgress)
		}
		order, err = c.Orders.FindBySource(ctx, sh.Domain, cs.ID)
	}
	sent, sentBefore := false, d.OrderSent // whether this attempt sent orderCreate
	if err == nil && order == nil {
		sent = true
		at := c.now()
		d.OrderAttemptAt, d.OrderSent = &at, true
		c.set(p, PaymentAuthorized, nil)
		if !c.sendUnrecorded(p, at) {
			// Recorded before the call, with the lease renewed: the
			// order and the capture get a whole lease.
			p.LeaseUntil = new(at.Add(c.lease()))
			if err := c.Store.UpdatePayment(ctx, p); err != nil {
				return err
			}
		}
		req := orderRequest(cs, p)
		req.UpsertCustomer = sh.FeatureOn(app.FeatureCustomerRecords)
		order, err = c.Orders.Create(ctx, sh.Domain, req)
	}
	if errors.Is(err, ErrOrderRefused) {
		if cerr := pay.Cancel(ctx, pay.Credentials, p.PaymentIntentID, idempotencyKey(p, "cancel")); cerr != nil {
			c.set(p, PaymentAuthorized, fmt.Errorf("order refused (%v); cancelling the authorisation: %w", err, cerr))
			return errInProgress
		}
		c.set(p, PaymentVoided, err)
		return nil
	}
	if err != nil {
		if sent && errors.Is(err, shopify.ErrThrottled) {
			// Shopify ran none of this orderCreate's attempts
			// (THROTTLED or 429): no order of this attempt can appear
			// in the search later, so the next try need not wait for
			// it (nor look, if none was sent before). A throttled
			// lookup says nothing of an earlier orderCreate: its mark
			// stays.
			d.OrderAttemptAt, d.OrderSent = nil, sentBefore
		}
		c.set(p, PaymentAuthorized, err)
		return fmt.Errorf("%w: order: %w", errInProgress, err)
	}
	p.OrderID, p.OrderName, p.OrderStatusURL = order.ID, order.Name, order.StatusURL
	c.set(p, PaymentOrdered, nil)
	return nil
}

// capture captures the payment of a written order, completing it. The
// order is not recorded before the capture: a crash here leaves the
// orderCreate attempt recorded, and the driver that resumes finds the
// order by its source and captures with the same idempotency key.
func (c *Completer) capture(ctx context.Context, p *Payment, pay *ShopPayment) error {
	_, err := pay.Capture(ctx, pay.Credentials, p.PaymentIntentID, idempotencyKey(p, "capture"))
	if errors.Is(err, ErrIntentState) {
		// The authorisation was released before capture: the
		// merchant cancelled the order in Shopify meanwhile. The
		// order exists, nothing is charged; the session is done.
		c.set(p, PaymentCompleted, fmt.Errorf("not captured: %w", err))
		return nil
	}
	if err != nil {
		c.set(p, PaymentOrdered, err)
		return fmt.Errorf("%w: capture: %w", errInProgress, err)
	}
	c.set(p, PaymentCompleted, nil)
	return nil
}

// orderRequest is the Shopify order of a session being completed.
func orderRequest(cs *Session, p *Payment) OrderRequest {
	st := &cs.State
	in := OrderRequest{
		SessionID: cs.ID, Currency: cs.Currency, Lines: st.Quote.Lines, Buyer: st.Buyer, Email: st.ContactEmail(),
		Total: p.Amount, PaymentIntentID: p.PaymentIntentID, Note: p.Details.OrderNotes,
		BillingAddress: p.Details.BillingAddress, Agent: "ACP agent",
	}
	if st.Fulfillment != nil {
		in.Address = st.Fulfillment.Address
	}
	for _, d := range st.Quote.AppliedDiscounts {
		if d.Code != "" {
			in.DiscountCodes = append(in.DiscountCodes, d.Code)
		}
	}
	for i := range st.Quote.Options {
		if o := st.Quote.Options[i]; o.ID == st.SelectedOptionID && o.Type == acp.FulfillmentShipping {
			in.Shipping = &o
		}
	}
	for _, m := range p.Details.MarketingConsents {
		if m.Channel == "email" && m.OptedIn {
			in.AcceptsEmail = true
		}
	}
	return in
}
