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
// Each step is recorded (Payment) before the next begins, and
// every external call is safe to repeat: payment calls carry idempotency
// keys derived from the session and attempt, and the order is looked up by
// its sourceIdentifier (the session id) before it is ever created. Only the
// holder of the payment's lease drives it; a job resumes any completion a
// crash left behind.

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
	SessionID       string
	Currency        string
	Lines           []QuotedLine
	Shipping        *QuotedOption
	Buyer           *acp.Buyer
	Address         *acp.Address
	BillingAddress  *acp.Address
	Total           int64
	PaymentIntentID string
	AcceptsEmail    bool
	Note            string
	Agent           string
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
	// SavePayment inserts or replaces the record.
	SavePayment(ctx context.Context, p *Payment) error
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
// a temporary failure); the resume job carries it on.
var errInProgress = errors.New("completion in progress")

// errLeased: another request or replica is driving the completion.
var errLeased = fmt.Errorf("%w: driven elsewhere", errInProgress)

// Drive carries the session's completion as far as it can go now. It
// returns the payment record as it stands; an error means it must be
// resumed later (the job does).
func (c *Completer) Drive(ctx context.Context, sh *app.Shop, cs *Session) (*Payment, error) {
	now := c.now()
	ok, err := c.Store.LeasePayment(ctx, cs.ID, now, now.Add(c.lease()))
	if err != nil {
		return nil, err
	}
	if !ok { // another request or replica drives it
		p, err := c.Store.CheckoutPayment(ctx, cs.ID)
		if err != nil {
			return nil, err
		}
		return p, errLeased
	}
	defer func() { _ = c.Store.ReleasePayment(context.WithoutCancel(ctx), cs.ID) }()
	p, err := c.Store.CheckoutPayment(ctx, cs.ID)
	if err != nil {
		return nil, err
	}
	pay, err := c.Payments.Open(ctx, c.Store, c.Keys, sh.ID)
	if err != nil {
		return p, err
	}
	// Each step either saves p in a later state (and returns nil) or returns
	// why the completion stops here; the states with nothing left to do end
	// the loop.
	for {
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

// save records p in state, with lastErr as its last error.
func (c *Completer) save(ctx context.Context, p *Payment, state string, lastErr error) error {
	p.State, p.UpdatedAt, p.LastError = state, c.now(), ""
	switch state {
	case PaymentAuthorized, PaymentOrdered, PaymentCompleted, PaymentDeclined, PaymentVoided:
		// The token has been spent (or refused): nothing keeps it.
		p.TokenSealed = ""
	}
	if lastErr != nil {
		p.LastError = app.Truncate(lastErr.Error(), 500)
	}
	return c.Store.SavePayment(ctx, p)
}

// authorize authorises the payment with the agent's token (or confirms it
// after 3-D Secure): authorised, declined, or waiting for the buyer's
// authentication.
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
		return c.save(ctx, p, PaymentDeclined, err)
	case err != nil:
		_ = c.save(ctx, p, PaymentAuthorizing, err)
		return fmt.Errorf("%w: authorise: %w", errInProgress, err)
	}
	p.PaymentIntentID = pi.ID
	switch pi.Status {
	case "requires_capture", "succeeded":
		return c.save(ctx, p, PaymentAuthorized, nil)
	case "requires_action":
		p.Details.Authentication = c.authentication(sh, pi, pay.AccountID)
		return c.save(ctx, p, PaymentRequiresAction, nil)
	case "requires_payment_method", "canceled":
		return c.save(ctx, p, PaymentDeclined, fmt.Errorf("payment intent %s is %s", pi.ID, pi.Status))
	default:
		_ = c.save(ctx, p, PaymentAuthorizing, fmt.Errorf("payment intent %s is %s", pi.ID, pi.Status))
		return errInProgress
	}
}

// placeOrder writes the Shopify order of an authorised payment, once: it
// looks for the order an earlier attempt may have written before creating
// one. Shopify refusing the order cancels the authorisation.
func (c *Completer) placeOrder(ctx context.Context, sh *app.Shop, cs *Session, p *Payment, pay *ShopPayment) error {
	if at := p.Details.OrderAttemptAt; at != nil && c.now().Sub(*at) < c.searchLag() {
		// An earlier orderCreate may have written an order that the
		// search does not show yet: wait before looking again.
		return fmt.Errorf("%w: waiting for Shopify's order search after an unanswered orderCreate", errInProgress)
	}
	order, err := c.Orders.FindBySource(ctx, sh.Domain, cs.ID)
	sent := false // whether this attempt sent orderCreate
	if err == nil && order == nil {
		sent = true
		at := c.now()
		p.Details.OrderAttemptAt = &at
		if err := c.save(ctx, p, PaymentAuthorized, nil); err != nil { // recorded before the call
			return err
		}
		order, err = c.Orders.Create(ctx, sh.Domain, orderRequest(cs, p))
	}
	if errors.Is(err, ErrOrderRefused) {
		if cerr := pay.Cancel(ctx, pay.Credentials, p.PaymentIntentID, idempotencyKey(p, "cancel")); cerr != nil {
			_ = c.save(ctx, p, PaymentAuthorized, fmt.Errorf("order refused (%v); cancelling the authorisation: %w", err, cerr))
			return errInProgress
		}
		return c.save(ctx, p, PaymentVoided, err)
	}
	if err != nil {
		if sent && errors.Is(err, shopify.ErrThrottled) {
			// Shopify ran none of this orderCreate's attempts
			// (THROTTLED or 429): no order of this attempt can appear
			// in the search later, so the next try need not wait for
			// it. A throttled lookup says nothing of an earlier
			// attempt's orderCreate: its mark stays.
			p.Details.OrderAttemptAt = nil
		}
		_ = c.save(ctx, p, PaymentAuthorized, err)
		return fmt.Errorf("%w: order: %w", errInProgress, err)
	}
	p.OrderID, p.OrderName, p.OrderStatusURL = order.ID, order.Name, order.StatusURL
	return c.save(ctx, p, PaymentOrdered, nil)
}

// capture captures the payment of a written order, completing it.
func (c *Completer) capture(ctx context.Context, p *Payment, pay *ShopPayment) error {
	_, err := pay.Capture(ctx, pay.Credentials, p.PaymentIntentID, idempotencyKey(p, "capture"))
	if errors.Is(err, ErrIntentState) {
		// The authorisation was released before capture: the
		// merchant cancelled the order in Shopify meanwhile. The
		// order exists, nothing is charged; the session is done.
		return c.save(ctx, p, PaymentCompleted, fmt.Errorf("not captured: %w", err))
	}
	if err != nil {
		_ = c.save(ctx, p, PaymentOrdered, err)
		return fmt.Errorf("%w: capture: %w", errInProgress, err)
	}
	return c.save(ctx, p, PaymentCompleted, nil)
}

// authentication is what the agent needs to run 3-D Secure for the shop.
// The provider does not expose its acquirer's BIN and merchant id (Stripe
// does not on the PaymentIntent, in the API version stripe-go v79 speaks):
// the acquirer merchant id is the shop's payment account and the BIN is
// AcquirerBIN.
func (c *Completer) authentication(sh *app.Shop, pi *PaymentIntent, merchant string) *acp.AuthenticationMetadata {
	ds := "visa"
	switch pi.CardBrand {
	case "mastercard":
		ds = "mastercard"
	case "amex", "american_express":
		ds = "american_express"
	}
	bin := c.AcquirerBIN
	if bin == "" {
		bin = "000000"
	}
	name := sh.Name
	if name == "" {
		name = sh.Domain
	}
	if r := []rune(name); len(r) > 40 {
		name = string(r[:40])
	}
	country := sh.CountryCode
	if country == "" {
		country = "US"
	}
	if len(merchant) > 35 {
		merchant = merchant[:35]
	}
	return &acp.AuthenticationMetadata{AcquirerBIN: bin, AcquirerCountry: country, AcquirerMerchantID: merchant,
		MerchantName: name, DirectoryServer: ds, FlowPreference: &acp.FlowPreference{Type: "challenge", Challenge: "preferred"}}
}

// orderRequest is the Shopify order of a session being completed.
func orderRequest(cs *Session, p *Payment) OrderRequest {
	st := &cs.State
	in := OrderRequest{
		SessionID: cs.ID, Currency: cs.Currency, Lines: st.Quote.Lines, Buyer: st.Buyer,
		Total: p.Amount, PaymentIntentID: p.PaymentIntentID, Note: p.Details.OrderNotes,
		BillingAddress: p.Details.BillingAddress, Agent: "ACP agent",
	}
	if st.Fulfillment != nil {
		in.Address = st.Fulfillment.Address
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
