package checkout

import (
	"time"

	"github.com/acpbridge/acpbridge/acp"
)

// Session is a stored ACP checkout session. Its State holds what the
// agent sent and the last quote; the wire session (acp.Session) is built
// from it on every answer, per the version the caller speaks.
type Session struct {
	ID         string
	ShopID     int64
	Version    acp.Version // of the create call
	Status     acp.Status
	Currency   string // ISO 4217, upper-case as Shopify gives it
	State      State
	RowVersion int64 // optimistic concurrency: bumped by every save
	// APIKeyID is the agent key that created the session (0: unknown).
	APIKeyID  int64
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time

	// newDraft is the draft order this call created (not stored), deleted
	// again when the session's write does not happen.
	newDraft string
}

// State is the session's inputs and its priced result.
type State struct {
	Items            []CartItem              `json:"items"`
	Buyer            *acp.Buyer              `json:"buyer,omitempty"`
	Fulfillment      *acp.FulfillmentDetails `json:"fulfillment,omitempty"`
	SelectedOptionID string                  `json:"selected_option_id,omitempty"`
	// OptionChosen is true when the agent picked the option; false when we
	// picked the cheapest as a default.
	OptionChosen  bool     `json:"option_chosen,omitempty"`
	DiscountCodes []string `json:"discount_codes,omitempty"`
	// SubmittedCodes are the discount codes as the agent last sent them
	// (DiscountCodes is them normalized: upper-case, once each), echoed
	// in the discount extension's discounts.codes.
	SubmittedCodes []string               `json:"submitted_codes,omitempty"`
	OrderNotes     string                 `json:"order_notes,omitempty"`
	Locale         string                 `json:"locale,omitempty"`
	Timezone       string                 `json:"timezone,omitempty"`
	Capabilities   *acp.AgentCapabilities `json:"capabilities,omitempty"`
	Quote          Quote                  `json:"quote"`
	// Agreed is the last complete quote the agent was shown, kept while
	// a complete's live check could not reach Shopify (the quote is then
	// incomplete): the complete that retries charges it only if Shopify
	// confirms it. Any update clears it.
	Agreed *Quote `json:"agreed,omitempty"`
	// Messages are the session-level problems found after quoting (buyer
	// email, payments), recomputed on every change; the quote's own
	// messages are in Quote.
	Messages     []acp.Message `json:"messages,omitempty"`
	CancelReason string        `json:"cancel_reason,omitempty"`
	// Links and PaymentHandlers are the shop's policy pages and the ways
	// to pay its payment account offers, as of the last change, shown with
	// the session. (Sessions stored before migration 00015 kept the Stripe
	// account instead; the migration turned it into its handler.)
	Links           []acp.Link           `json:"links,omitempty"`
	PaymentHandlers []acp.PaymentHandler `json:"payment_handlers,omitempty"`
	// Order is the Shopify order, once completed.
	Order *ShopOrder `json:"order,omitempty"`
	// PaymentMessages say what happened to the last payment attempt
	// (declined, refused); cleared by the next change.
	PaymentMessages []acp.Message `json:"payment_messages,omitempty"`
	// Authentication is what 3-D Secure needs (authentication_required).
	Authentication *acp.AuthenticationMetadata `json:"authentication,omitempty"`
	// Handoff is the session's Shopify draft order, where the buyer of a
	// Shopify-checkout shop pays (handoff.go); Continue is the buyer's
	// link to it (continue_url), which writes the draft when followed
	// (handoff_continue.go).
	Handoff  *Handoff      `json:"handoff,omitempty"`
	Continue *ContinueLink `json:"continue,omitempty"`
}

// CartItem is a requested item: a feed item id (the variant id) and a
// quantity.
type CartItem struct {
	ItemID   string `json:"item_id"`
	Quantity int    `json:"quantity"`
}

// Quote is the priced cart: live prices and stock, Shopify's tax, shipping
// rates and discounts. Key identifies the inputs it was computed from, so
// an update that changes none of them reuses it.
type Quote struct {
	Key     string         `json:"key"`
	Lines   []QuotedLine   `json:"lines"`
	Options []QuotedOption `json:"options,omitempty"`
	// Rates are Shopify's shipping rates for the cart and address,
	// cheapest first, and Chosen the option the quote's tax includes.
	Rates  []ShippingRate `json:"rates,omitempty"`
	Chosen string         `json:"chosen,omitempty"`
	// OptionsTaxed: every option carries its own tax, derived from one
	// calculation (pricing_options.go), so choosing another needs none.
	OptionsTaxed bool `json:"options_taxed,omitempty"`
	// WholeAddress: the address's region alone brought no shipping
	// rates, so the calculations send the whole address.
	WholeAddress bool  `json:"whole_address,omitempty"`
	Discount     int64 `json:"discount,omitempty"` // order-level, not allocated to lines
	// Messages are the business problems and notes of this quote.
	Messages []acp.Message `json:"messages,omitempty"`
	// AppliedDiscounts are the discounts Shopify applied (codes and
	// automatic ones) with their allocations, and RejectedCodes the codes
	// it refused, with the discount extension's reason (discounts.go).
	AppliedDiscounts []DraftDiscount `json:"applied_discounts,omitempty"`
	RejectedCodes    []RejectedCode  `json:"rejected_codes,omitempty"`
	// NeedsShipping: some line requires shipping.
	NeedsShipping bool `json:"needs_shipping,omitempty"`
	// Complete: tax and fulfillment were quoted by Shopify for the current
	// address (false while the address is missing or Shopify was
	// unreachable).
	Complete bool `json:"complete,omitempty"`
	// Live: the lines' price and stock were confirmed by Shopify at
	// quoting (QuoteLive, the committing step, or a calculation made
	// just now that confirmed them), not only by the synced catalog.
	Live     bool      `json:"live,omitempty"`
	QuotedAt time.Time `json:"quoted_at"`
	// Throttled is the wait the shop's API budget asked for when Shopify
	// could not be asked for this quote for that reason (not stored).
	Throttled time.Duration `json:"-"`
}

// QuotedLine is one priced line.
type QuotedLine struct {
	ItemID           string `json:"item_id"`
	VariantID        int64  `json:"variant_id"`
	ProductID        int64  `json:"product_id"`
	Quantity         int    `json:"quantity"`
	UnitAmount       int64  `json:"unit_amount"`
	Discount         int64  `json:"discount,omitempty"`
	Tax              int64  `json:"tax,omitempty"`
	Title            string `json:"title"`
	VariantTitle     string `json:"variant_title,omitempty"`
	SKU              string `json:"sku,omitempty"`
	ImageURL         string `json:"image_url,omitempty"`
	RequiresShipping bool   `json:"requires_shipping,omitempty"`
}

// QuotedOption is a fulfillment option: a Shopify shipping rate (ID is its
// handle) or digital delivery.
type QuotedOption struct {
	ID       string              `json:"id"`
	Type     acp.FulfillmentType `json:"type"`
	Title    string              `json:"title"`
	Subtitle string              `json:"subtitle,omitempty"`
	Carrier  string              `json:"carrier,omitempty"`
	Subtotal int64               `json:"subtotal"`
	Tax      int64               `json:"tax,omitempty"`
	Earliest *time.Time          `json:"earliest,omitempty"`
	Latest   *time.Time          `json:"latest,omitempty"`
}
