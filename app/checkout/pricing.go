package checkout

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/internal/ttlcache"
	"github.com/acpbridge/acpbridge/shopify"
)

// ItemSource maps the shop's variants as the feed publishes them, from our
// synced catalog and the merchant's feed settings and rules (the feeds
// capability: feeds.Service.CheckoutItems).
type ItemSource interface {
	CheckoutItems(ctx context.Context, sh *app.Shop, variantIDs []int64) (map[int64]app.CheckoutItem, error)
}

// Pricing prices carts: items must be sellable in the shop's published feed
// (our catalog), their price and stock come from the synced catalog (and
// from Shopify live at the committing step: QuoteLive), and tax, shipping
// and discounts come from Shopify's own draft-order calculation for the
// address. A quote is cached on the session by the
// hash of its inputs; Shopify taking longer than Timeout leaves the
// session with a recoverable message instead of a hanging agent.
type Pricing struct {
	Feeds   ItemSource
	Shopify ShopPricing
	Logger  *slog.Logger
	Now     func() time.Time
	// Timeout bounds all Shopify calls of one quote (default 4 s).
	Timeout time.Duration

	items ttlcache.Cache[string, map[int64]app.CheckoutItem] // see checkoutItems
}

// itemsTTL is how long the catalog view of a cart is reused: it is our own
// synced catalog and the merchant's feed settings and rules (the feed
// itself is rebuilt a minute after changes), read afresh on every reload
// (one statement on PostgreSQL). It adds to how late a quote hears of a
// webhook's change, and bounds how late it hears of a merchant's change
// of feed settings or rules; the committing step's live check (QuoteLive)
// catches what a quote missed of price and stock.
const itemsTTL = 5 * time.Second

// checkoutItems maps the cart's variants as the feed does, from a short
// cache: agents repeat the same cart in every call of a conversation.
// The shop is the request's (authenticated) shop: its row is not read again.
func (p *Pricing) checkoutItems(ctx context.Context, sh *app.Shop, ids []int64) (map[int64]app.CheckoutItem, error) {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	key := fmt.Sprint(sh.ID, sorted)
	now := p.now()
	if items, ok := p.items.Get(key, now, itemsTTL); ok {
		return items, nil
	}
	items, err := p.Feeds.CheckoutItems(ctx, sh, ids)
	if err != nil {
		return nil, err
	}
	p.items.Put(key, items, now, itemsTTL, 10_000)
	return items, nil
}

func (p *Pricing) now() time.Time {
	if p.Now != nil {
		return p.Now().UTC()
	}
	return time.Now().UTC()
}

// itemParam is the JSONPath of request item i in version v.
func itemParam(v acp.Version, i int) string {
	if v == acp.V20250929 {
		return "$.items[" + strconv.Itoa(i) + "]"
	}
	return "$.line_items[" + strconv.Itoa(i) + "]"
}

// addressParam is the JSONPath of the shipping address in version v.
func addressParam(v acp.Version) string {
	if v == acp.V20250929 {
		return "$.fulfillment_address"
	}
	return "$.fulfillment_details.address"
}

func errorMessage(code acp.MessageCode, param, content, resolution string) acp.Message {
	return acp.Message{Type: acp.MessageError, Code: code, Param: param, ContentType: acp.ContentPlain,
		Content: content, Severity: "high", Resolution: resolution}
}

var (
	usZip      = regexp.MustCompile(`^\d{5}(-\d{4})?$`)
	caPostcode = regexp.MustCompile(`^[A-Za-z]\d[A-Za-z] ?\d[A-Za-z]\d$`)
)

// checkAddress refuses postal codes that cannot be right for the country.
func checkAddress(v acp.Version, a *acp.Address) error {
	bad := func(field, msg string) error {
		return &app.Error{Code: app.CodeInvalid, Reason: "invalid", Field: addressParam(v) + "." + field, Message: msg}
	}
	switch a.Country {
	case "US":
		if !usZip.MatchString(a.PostalCode) {
			return bad("postal_code", "a US ZIP code has 5 digits, optionally followed by -4 digits")
		}
	case "CA":
		if !caPostcode.MatchString(a.PostalCode) {
			return bad("postal_code", "a Canadian postal code looks like K1A 0B1")
		}
	}
	return nil
}

// Quote prices the session's cart from our synced catalog (price, stock,
// eligibility), which Shopify's product and inventory webhooks keep
// current, and Shopify's draft-order calculation (tax, shipping,
// discounts). It makes no live variant lookup: that is QuoteLive's, at the
// step that commits. See Pricing.
func (p *Pricing) Quote(ctx context.Context, sh *app.Shop, v acp.Version, st *State) (Quote, error) {
	return p.quote(ctx, sh, v, st, false)
}

// QuoteLive is Quote with each line's price and stock read from Shopify
// now (LookupVariants) instead of the catalog: the check of the step that
// commits (complete, writing a handoff draft order), so that a change the
// catalog has not heard of yet is never charged unseen.
func (p *Pricing) QuoteLive(ctx context.Context, sh *app.Shop, v acp.Version, st *State) (Quote, error) {
	return p.quote(ctx, sh, v, st, true)
}

func (p *Pricing) quote(ctx context.Context, sh *app.Shop, v acp.Version, st *State, live bool) (Quote, error) {
	q := Quote{QuotedAt: p.now()}
	ids, addr, err := parseCart(v, st)
	if err != nil {
		return Quote{}, err
	}

	// 1. The items must be sellable in the shop's published feed.
	items, err := p.sellableItems(ctx, sh, v, ids)
	if err != nil {
		return Quote{}, err
	}

	// 2. Price and stock: the catalog's, or Shopify's now (within the
	// time budget) at the committing step.
	timeout := p.Timeout
	if timeout <= 0 {
		timeout = DefaultQuoteTimeout
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if live {
		lv, liveErr := p.Shopify.LiveVariants(qctx, sh.Domain, sh.CurrencyCode, uniq(ids))
		quoteLines(&q, v, st.Items, ids, items, lv, liveErr == nil)
		if liveErr != nil {
			return p.unreachable(ctx, sh, q, liveErr), nil
		}
		q.Live = true
	} else {
		quoteLines(&q, v, st.Items, ids, items, catalogVariants(items), true)
	}
	if hasError(q.Messages) {
		return q, nil // nothing to quote until the cart is sellable
	}
	if q.NeedsShipping && addr == nil {
		q.Messages = append(q.Messages, errorMessage(acp.MessageCodeMissing, addressParam(v),
			"A shipping address is needed to quote shipping and tax.", "requires_buyer_input"))
		return q, nil
	}

	// 3. Tax, shipping and discounts from Shopify, cached by their inputs.
	req := draftRequest(st, addr, q.Lines)
	q.Key = quoteKey(q.Lines, req)
	hit := st.Quote.Complete && st.Quote.Key == q.Key
	if hit && (!q.NeedsShipping || st.Quote.OptionsTaxed || chooseRate(st.Quote.Rates, st.SelectedOptionID) == st.Quote.Chosen) {
		// The same cart state: its options are priced already (each
		// with its tax when OptionsTaxed), whichever is chosen.
		cached := st.Quote
		cached.Messages = append(q.Messages[:len(q.Messages):len(q.Messages)], nonLiveMessages(cached.Messages)...)
		cached.Live = q.Live
		if q.NeedsShipping {
			cached.Chosen = chooseRate(cached.Rates, st.SelectedOptionID)
		}
		return cached, nil
	}
	var res *DraftResult
	var taxOf func(int64) int64
	if hit {
		q.Rates = st.Quote.Rates // only the chosen rate changed: one calculation
		q.WholeAddress = st.Quote.WholeAddress
	} else {
		calc := calculationRequest(req)
		if q.NeedsShipping {
			calc.Probe = &ShippingProbe{Price: probePrice, Currency: sh.CurrencyCode} // see pricing_options.go
		}
		if res, err = p.Shopify.CalculateDraft(qctx, sh.Domain, calc); err != nil {
			return p.unreachable(ctx, sh, q, err), nil
		}
		if q.NeedsShipping && len(res.Rates) == 0 {
			// No rates for the region with the probe: before saying the
			// shop does not ship there, ask as a buyer would, with the
			// whole address and no shipping line (carrier-calculated
			// rates may want the street).
			q.WholeAddress = true
			if res, err = p.Shopify.CalculateDraft(qctx, sh.Domain, wholeRequest(req, calc)); err != nil {
				return p.unreachable(ctx, sh, q, err), nil
			}
		}
		q.Rates = append([]ShippingRate(nil), res.Rates...)
		sort.SliceStable(q.Rates, func(i, j int) bool { return q.Rates[i].Price < q.Rates[j].Price })
		if q.NeedsShipping {
			taxOf, q.OptionsTaxed = optionTaxes(res, probePrice)
		}
		q.Live = q.Live || confirmsLines(res, q.Lines)
	}
	if q.NeedsShipping {
		if len(q.Rates) == 0 {
			q.Messages = append(q.Messages, errorMessage(acp.MessageCodeRegionRestricted, addressParam(v),
				"This store does not ship to this address.", "requires_buyer_input"))
			return q, nil
		}
		q.Chosen = chooseRate(q.Rates, st.SelectedOptionID)
		if q.OptionsTaxed {
			q.Options = taxedOptions(q.Rates, taxOf)
		} else {
			// Shopify's answer does not show how it taxes shipping:
			// calculate the chosen rate itself.
			req.ShippingRateHandle = q.Chosen
			calc := calculationRequest(req)
			if q.WholeAddress {
				calc = wholeRequest(req, calc)
			}
			if res, err = p.Shopify.CalculateDraft(qctx, sh.Domain, calc); err != nil {
				return p.unreachable(ctx, sh, q, err), nil
			}
			q.Options = shippingOptions(q.Rates, q.Chosen, res)
		}
	} else {
		q.Chosen = "digital"
		q.Options = []QuotedOption{{ID: q.Chosen, Type: acp.FulfillmentDigital, Title: "Digital delivery",
			Subtitle: "Delivered by email after purchase"}}
	}
	applyDraft(&q, res)
	q.Complete = true
	p.checkAgainstShopify(ctx, sh, q, res)
	return q, nil
}

// confirmsLines reports whether Shopify's calculation, made just now,
// confirms the lines' catalog prices and stock: it prices each variant at
// Shopify's current price and alerts when a line exceeds the stock. Then
// the quote is as good as a live check (Quote.Live), and a handoff draft
// written right after it needs no separate lookup.
func confirmsLines(res *DraftResult, lines []QuotedLine) bool {
	if res == nil || res.Cached || res.Alerts > 0 || len(res.Lines) != len(lines) {
		return false
	}
	for i, l := range lines {
		if res.Lines[i].VariantID != l.VariantID || res.Lines[i].UnitAmount != l.UnitAmount {
			return false
		}
	}
	return true
}

// parseCart reads the cart's variant IDs (the feed's item IDs) and its
// shipping address, refusing a malformed ID or an impossible address.
func parseCart(v acp.Version, st *State) ([]int64, *acp.Address, error) {
	ids := make([]int64, len(st.Items))
	for i, it := range st.Items {
		id, err := parseItemID(it.ItemID)
		if err != nil {
			return nil, nil, &app.Error{Code: app.CodeInvalid, Reason: "invalid", Field: itemParam(v, i) + ".id",
				Message: fmt.Sprintf("item id %q is not one of this shop's feed item ids", app.Truncate(it.ItemID, 40))}
		}
		ids[i] = id
	}
	var addr *acp.Address
	if st.Fulfillment != nil && st.Fulfillment.Address != nil {
		addr = st.Fulfillment.Address
		if err := checkAddress(v, addr); err != nil {
			return nil, nil, err
		}
	}
	return ids, addr, nil
}

// sellableItems are the feed's checkout items of ids, refusing an item not
// in the shop's published feed or not sellable through agents.
func (p *Pricing) sellableItems(ctx context.Context, sh *app.Shop, v acp.Version, ids []int64) (map[int64]app.CheckoutItem, error) {
	items, err := p.checkoutItems(ctx, sh, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		ci, ok := items[id]
		if !ok {
			return nil, &app.Error{Code: app.CodeInvalid, Reason: "invalid", Field: itemParam(v, i) + ".id",
				Message: fmt.Sprintf("item %d is not in this shop's product feed", id)}
		}
		if !ci.Sellable {
			return nil, &app.Error{Code: app.CodeInvalid, Reason: "invalid", Field: itemParam(v, i) + ".id",
				Message: fmt.Sprintf("item %d cannot be bought through agents: %s", id, ci.Reason)}
		}
	}
	return items, nil
}

// quoteLines prices the cart's lines from the catalog and, when Shopify
// answered (liveOK), from its live variants, noting their problems.
func quoteLines(q *Quote, v acp.Version, cart []CartItem, ids []int64, items map[int64]app.CheckoutItem, live map[int64]LiveVariant, liveOK bool) {
	for i, it := range cart {
		line := catalogLine(it, ids[i], items[ids[i]])
		if liveOK {
			q.Messages = append(q.Messages, applyLive(v, i, &line, live)...)
		}
		if line.RequiresShipping {
			q.NeedsShipping = true
		}
		q.Lines = append(q.Lines, line)
	}
}

// catalogVariants are the cart's variants as the synced catalog has them,
// in the shape of Shopify's live answer: a quote from the catalog checks
// the same things (stock, policy) as the committing step's live one. Only
// items of the published feed get here, so their product is active.
func catalogVariants(items map[int64]app.CheckoutItem) map[int64]LiveVariant {
	out := make(map[int64]LiveVariant, len(items))
	for id, ci := range items {
		cv := ci.Variant
		out[id] = LiveVariant{VariantID: id, ProductID: cv.ProductID, Title: ci.Item.Title, VariantTitle: cv.Title,
			SKU: cv.SKU, ImageURL: cv.ImageURL, PriceMinor: cv.PriceMinor, AvailableForSale: cv.AvailableForSale,
			Tracked: cv.Tracked, InventoryQuantity: cv.InventoryQuantity, InventoryPolicy: cv.InventoryPolicy,
			RequiresShipping: cv.RequiresShipping, ProductStatus: "ACTIVE"}
	}
	return out
}

// catalogLine is a cart item priced from the synced catalog, before
// the price and stock check (catalog or live).
func catalogLine(it CartItem, variantID int64, ci app.CheckoutItem) QuotedLine {
	return QuotedLine{
		ItemID: it.ItemID, VariantID: variantID, ProductID: ci.Variant.ProductID, Quantity: it.Quantity,
		UnitAmount: ci.Variant.PriceMinor, Title: ci.Item.Title, VariantTitle: ci.Variant.Title, SKU: ci.Variant.SKU,
		ImageURL: ci.Item.ImageURL, RequiresShipping: ci.Variant.RequiresShipping,
	}
}

// applyLive updates cart line i with Shopify's live variant (price,
// shipping, a missing image) and returns the problems it has: no longer
// sold, a changed price, too little stock.
func applyLive(v acp.Version, i int, line *QuotedLine, live map[int64]LiveVariant) []acp.Message {
	lv, ok := live[line.VariantID]
	if !ok || lv.ProductStatus != "ACTIVE" {
		return []acp.Message{errorMessage(acp.MessageCodeOutOfStock, itemParam(v, i),
			fmt.Sprintf("%s is no longer sold.", line.Title), "requires_buyer_input")}
	}
	var ms []acp.Message
	if lv.PriceMinor != line.UnitAmount {
		ms = append(ms, acp.Message{Type: acp.MessageWarning, Code: acp.WarningPriceChange,
			Param: itemParam(v, i), ContentType: acp.ContentPlain, Severity: "low",
			Content: fmt.Sprintf("The price of %s has changed since the catalog was published.", line.Title)})
	}
	line.UnitAmount, line.RequiresShipping = lv.PriceMinor, lv.RequiresShipping
	if lv.ImageURL != "" && line.ImageURL == "" {
		line.ImageURL = lv.ImageURL
	}
	if m, bad := stockProblem(v, i, *line, lv); bad {
		ms = append(ms, m)
	}
	return ms
}

// shippingOptions are the rates as fulfillment options, the chosen one
// with the price and tax of the calculation that chose it.
func shippingOptions(rates []ShippingRate, chosen string, res *DraftResult) []QuotedOption {
	var options []QuotedOption
	for _, r := range rates {
		o := QuotedOption{ID: r.Handle, Type: acp.FulfillmentShipping, Title: r.Title,
			Carrier: r.Carrier, Subtotal: r.Price, Earliest: r.Earliest, Latest: r.Latest}
		if o.ID == chosen && res.ShippingHandle == chosen {
			o.Subtotal, o.Tax = res.ShippingPrice, res.ShippingTax
		}
		options = append(options, o)
	}
	return options
}

// applyDraft takes the lines' prices, discounts and tax from Shopify's
// calculation, and the discounts it applied and the codes it rejected
// (the session's view warns of those: discounts.go).
func applyDraft(q *Quote, res *DraftResult) {
	q.AppliedDiscounts = res.Discounts
	q.RejectedCodes = rejectedCodes(res)
	// Every item discount, the line's own and its share of order
	// discounts (codes), is on its line; shipping discounts are in the
	// option's price.
	for i := range q.Lines {
		if i < len(res.Lines) && res.Lines[i].VariantID == q.Lines[i].VariantID {
			q.Lines[i].UnitAmount = res.Lines[i].UnitAmount
			q.Lines[i].Discount = min(res.Lines[i].Discount, q.Lines[i].UnitAmount*int64(q.Lines[i].Quantity))
			q.Lines[i].Tax = res.Lines[i].Tax
		}
	}
}

// stockProblem reports a line Shopify cannot fill.
func stockProblem(v acp.Version, i int, l QuotedLine, lv LiveVariant) (acp.Message, bool) {
	limited := lv.Tracked && lv.InventoryPolicy != "CONTINUE"
	switch {
	case !lv.AvailableForSale || limited && lv.InventoryQuantity <= 0:
		return errorMessage(acp.MessageCodeOutOfStock, itemParam(v, i), fmt.Sprintf("%s is out of stock.", l.Title), "requires_buyer_input"), true
	case limited && int64(l.Quantity) > lv.InventoryQuantity:
		return errorMessage(acp.MessageCodeQuantityExceeded, itemParam(v, i)+".quantity",
			fmt.Sprintf("Only %d of %s are available.", lv.InventoryQuantity, l.Title), "requires_buyer_input"), true
	}
	return acp.Message{}, false
}

// unreachable answers a quote Shopify could not give in time: the lines at
// their catalog prices, no options, and a message that retrying may work.
func (p *Pricing) unreachable(ctx context.Context, sh *app.Shop, q Quote, err error) Quote {
	if p.Logger != nil {
		p.Logger.WarnContext(ctx, "quote: Shopify unavailable", "shop", sh.Domain, "err", err)
	}
	q.Options, q.Complete, q.Key = nil, false, ""
	// A session has no Retry-After: when the shop's API budget is what is
	// short, the message says how long it needs, so that agents do not ask
	// again at once (under a burst they did, thousands of times a minute).
	retry := "Please try again in a moment."
	if wait, ok := shopify.RetryAfter(err); ok && errors.Is(err, shopify.ErrThrottled) {
		retry = fmt.Sprintf("Please try again in %d seconds.", max(1, int(math.Ceil(wait.Seconds()))))
		q.Throttled = wait
	}
	q.Messages = append(q.Messages, acp.Message{Type: acp.MessageError, Code: acp.MessageCodeInvalid, ContentType: acp.ContentPlain,
		Severity: "medium", Resolution: "recoverable",
		Content: "The store could not confirm prices, tax and shipping just now. " + retry})
	return q
}

// checkAgainstShopify logs when our totals and Shopify's disagree: the
// session's totals are built from Shopify's parts, so they should not. A
// calculation that carried the probe is Shopify's total with the probe's
// shipping replaced by the chosen option's.
func (p *Pricing) checkAgainstShopify(ctx context.Context, sh *app.Shop, q Quote, res *DraftResult) {
	var ours int64
	for _, l := range q.Lines {
		ours += l.UnitAmount*int64(l.Quantity) - l.Discount + l.Tax
	}
	theirs := res.TotalPrice
	if q.OptionsTaxed {
		theirs -= res.ShippingPrice + res.ShippingTax
	}
	for _, o := range q.Options {
		if o.ID == q.Chosen {
			ours += o.Subtotal + o.Tax
			if q.OptionsTaxed {
				theirs += o.Subtotal + o.Tax
			}
		}
	}
	ours -= q.Discount
	if ours != theirs && p.Logger != nil {
		p.Logger.WarnContext(ctx, "quote: our total differs from Shopify's", "shop", sh.Domain, "ours", ours, "shopify", theirs)
	}
}

// nonLiveMessages keeps the messages of a cached quote that do not come
// from the live check (which was just redone). Only quotes stored before
// the discount extension hold discount messages: newer ones keep their
// refused codes in RejectedCodes, which the view turns into warnings.
func nonLiveMessages(ms []acp.Message) []acp.Message {
	var out []acp.Message
	for _, m := range ms {
		if m.Code == "discount_code_invalid" {
			out = append(out, m)
		}
	}
	return out
}

func hasError(ms []acp.Message) bool {
	for _, m := range ms {
		if m.Type == acp.MessageError {
			return true
		}
	}
	return false
}

// chooseRate is the agent's choice when offered, else the cheapest rate.
func chooseRate(rates []ShippingRate, selected string) string {
	for _, r := range rates {
		if r.Handle == selected {
			return selected
		}
	}
	if len(rates) == 0 {
		return ""
	}
	return rates[0].Handle
}

// quoteKey hashes everything a Shopify quote depends on but the chosen
// shipping rate (Quote.Chosen).
func quoteKey(lines []QuotedLine, req DraftRequest) string {
	type keyLine struct {
		V int64
		Q int
		P int64
	}
	k := struct {
		Lines []keyLine
		Req   DraftRequest
	}{Req: req}
	for _, l := range lines {
		k.Lines = append(k.Lines, keyLine{l.VariantID, l.Quantity, l.UnitAmount})
	}
	b, _ := json.Marshal(k)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// parseItemID reads a feed item id: the numeric variant id (a variant GID
// is accepted too).
func parseItemID(s string) (int64, error) {
	if strings.HasPrefix(s, "gid://") {
		kind, id, err := app.ParseGID(s)
		if err != nil || kind != "ProductVariant" {
			return 0, errors.New("not a variant id")
		}
		return id, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, errors.New("not a variant id")
	}
	return id, nil
}

func uniq(ids []int64) []int64 {
	seen := map[int64]bool{}
	var out []int64
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}
