package feeds

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
)

// Search knobs.
const (
	// DefaultSearchLimit and MaxSearchLimit bound a search page.
	DefaultSearchLimit = 20
	MaxSearchLimit     = 50
	// maxSearchTerms and maxQueryLen bound a query's work.
	maxSearchTerms = 8
	maxQueryLen    = 200
	// searchDescription is how much of the description is searched: the
	// start says what the product is, and the whole of it (up to 5,000
	// characters) would make the trigram index several times larger.
	searchDescription = 500
	// maxGroupItems caps the variants GetItem lists (Shopify allows 2,048
	// per product).
	maxGroupItems = 250
)

// SearchQuery is a search of the shop's published items. Every filter is
// optional; Text's words must all be contained (case-insensitively) in the
// item's title, description, brand, category, GTIN, MPN (the SKU), colour,
// size or ids.
type SearchQuery struct {
	Text         string `json:"query,omitempty"`
	MinPrice     *int64 `json:"min_price,omitempty"` // minor units, inclusive; needs Currency
	MaxPrice     *int64 `json:"max_price,omitempty"` // minor units, inclusive; needs Currency
	Currency     string `json:"currency,omitempty"`  // ISO 4217, the shop's currency
	Availability string `json:"availability,omitempty"`
	Category     string `json:"category,omitempty"` // a prefix of the category path, "Apparel > Shirts"
	Cursor       string `json:"cursor,omitempty"`   // SearchPage.NextCursor of the previous page
	Limit        int    `json:"limit,omitempty"`    // 1–50, default 20
}

// SearchPage is a page of results, best first (items whose title holds
// every word, then feed order). NextCursor is empty on the last page.
type SearchPage struct {
	Items      []SearchItem `json:"items"`
	NextCursor string       `json:"next_cursor,omitempty"`
}

// SearchItem is a published item as an agent sees it: the feed's fields,
// prices in minor units.
type SearchItem struct {
	ID                string            `json:"id"` // the variant id: the checkout item id
	GroupID           string            `json:"group_id"`
	Title             string            `json:"title"`
	Description       string            `json:"description,omitempty"`
	URL               string            `json:"url"`
	ImageURL          string            `json:"image_url,omitempty"`
	Brand             string            `json:"brand,omitempty"`
	Category          string            `json:"category,omitempty"`
	GTIN              string            `json:"gtin,omitempty"`
	MPN               string            `json:"mpn,omitempty"`
	Price             int64             `json:"price"`                   // what the buyer pays, minor units
	RegularPrice      int64             `json:"regular_price,omitempty"` // set when on sale
	Currency          string            `json:"currency"`
	Availability      string            `json:"availability"`
	InventoryQuantity *int              `json:"inventory_quantity,omitempty"`
	Options           map[string]string `json:"options,omitempty"`
	CheckoutEligible  bool              `json:"checkout_eligible"`
}

// ItemDetail is one published item with every published variant of its
// product (Item included), in feed order.
type ItemDetail struct {
	Item     SearchItem   `json:"item"`
	Variants []SearchItem `json:"variants"`
}

// availabilities are the feed's availability values a filter may name.
var availabilities = []feed.Availability{feed.InStock, feed.OutOfStock, feed.Backorder, feed.PreOrder}

// SearchItems searches the items of the shop's newest published feed:
// exactly what the feed file publishes (the merchant's rules, eligibility
// and validation applied by the build), from a per-build index the build
// writes in its second pass: until a new build's rows are complete, search
// answers from the previous build's. A shop with no indexed build finds
// nothing. Bad input is an *app.Error with CodeInvalid naming the field.
func (f *Service) SearchItems(ctx context.Context, shopID int64, q SearchQuery) (*SearchPage, error) {
	sq, err := f.searchQuery(ctx, shopID, q)
	if err != nil {
		return nil, err
	}
	cursorBuild := sq.BuildID
	sq.ShopID = shopID
	sq.Limit++ // one more tells whether there is a next page
	page := &SearchPage{Items: []SearchItem{}}
	var (
		b    *app.FeedBuild
		hits []app.FeedItemHit
	)
	err = f.readIndexed(ctx, shopID, func(ib *app.FeedBuild) (bool, error) {
		if cursorBuild != 0 && cursorBuild != ib.ID {
			// Publishing a build drops the older build's rows: its positions
			// mean nothing in the new one.
			return false, &app.Error{Code: app.CodeInvalid, Field: "cursor", Message: "the feed was rebuilt since this cursor was given; search again without it"}
		}
		b, sq.BuildID = ib, ib.ID
		var err error
		hits, err = f.Store.SearchFeedItems(ctx, sq)
		return len(hits) > 0, err
	})
	if errors.Is(err, app.ErrNotFound) {
		return page, nil // no indexed build yet
	}
	if err != nil {
		return nil, err
	}
	if len(hits) == sq.Limit {
		hits = hits[:len(hits)-1]
		last := hits[len(hits)-1]
		page.NextCursor = encodeCursor(b.ID, last.Rank, last.Seq)
	}
	for _, h := range hits {
		it, err := searchItem(h.Data)
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, it)
	}
	return page, nil
}

// maxIndexRetries bounds how often one search or get follows a newer
// build that replaced the one it read (each retry needs a whole build to
// have finished in between).
const maxIndexRetries = 3

// readIndexed runs read on the shop's newest indexed build; when read
// finds nothing, and a newer build has been indexed meanwhile, it runs
// read on that one (at most maxIndexRetries times): indexing a build
// drops the older builds' rows, so a read between the two found them
// gone (one statement sees all of a build's rows or none). ErrNotFound
// when the shop has no indexed build.
func (f *Service) readIndexed(ctx context.Context, shopID int64, read func(b *app.FeedBuild) (found bool, err error)) error {
	b, err := f.Store.LatestIndexedBuild(ctx, shopID)
	for attempt := 0; ; attempt++ {
		if err != nil {
			return err
		}
		found, err := read(b)
		if err != nil || found || attempt == maxIndexRetries {
			return err
		}
		nb, err := f.Store.LatestIndexedBuild(ctx, shopID)
		if err != nil || nb.ID == b.ID {
			return err // nothing found is the answer
		}
		b = nb
	}
}

// GetItem returns one item of the shop's newest indexed feed (as SearchItems) with its
// sibling variants (same group_id). An item the feed does not publish is
// app.ErrNotFound.
func (f *Service) GetItem(ctx context.Context, shopID int64, itemID string) (*ItemDetail, error) {
	if itemID == "" || len(itemID) > 64 {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "id", Message: "id must be a feed item id"}
	}
	var (
		d        *ItemDetail
		notFound error
	)
	err := f.readIndexed(ctx, shopID, func(b *app.FeedBuild) (bool, error) {
		var err error
		d, err = f.getItem(ctx, b, itemID)
		if errors.Is(err, app.ErrNotFound) {
			notFound = err
			return false, nil
		}
		return err == nil, err
	})
	if err == nil && d == nil {
		err = notFound
	}
	return d, err
}

// getItem reads the item and its group from build b's rows; app.ErrNotFound
// when the item is not there (or the group went with the build).
func (f *Service) getItem(ctx context.Context, b *app.FeedBuild, itemID string) (*ItemDetail, error) {
	row, err := f.Store.FeedItem(ctx, b.ShopID, b.ID, itemID)
	if err != nil {
		return nil, err
	}
	it, err := searchItem(row.Data)
	if err != nil {
		return nil, err
	}
	d := &ItemDetail{Item: it, Variants: []SearchItem{}}
	group, err := f.Store.FeedItemGroup(ctx, b.ShopID, b.ID, row.GroupID, maxGroupItems)
	if err != nil {
		return nil, err
	}
	if len(group) == 0 { // the group holds the item itself: the build's rows went in between
		return nil, fmt.Errorf("item %s: %w", itemID, app.ErrNotFound)
	}
	for _, g := range group {
		v, err := searchItem(g.Data)
		if err != nil {
			return nil, err
		}
		d.Variants = append(d.Variants, v)
	}
	return d, nil
}

// searchQuery validates q into a store query (without shop and build).
func (f *Service) searchQuery(ctx context.Context, shopID int64, q SearchQuery) (app.FeedItemQuery, error) {
	invalid := func(field, msg string) (app.FeedItemQuery, error) {
		return app.FeedItemQuery{}, &app.Error{Code: app.CodeInvalid, Field: field, Message: msg}
	}
	var sq app.FeedItemQuery
	if utf8.RuneCountInString(q.Text) > maxQueryLen {
		return invalid("query", "query must be at most "+strconv.Itoa(maxQueryLen)+" characters")
	}
	sq.Terms = strings.Fields(strings.ToLower(q.Text))
	if len(sq.Terms) > maxSearchTerms {
		return invalid("query", "query must have at most "+strconv.Itoa(maxSearchTerms)+" words")
	}
	switch {
	case q.Limit == 0:
		sq.Limit = DefaultSearchLimit
	case q.Limit < 0 || q.Limit > MaxSearchLimit:
		return invalid("limit", "limit must be between 1 and "+strconv.Itoa(MaxSearchLimit))
	default:
		sq.Limit = q.Limit
	}
	if q.MinPrice != nil && *q.MinPrice < 0 {
		return invalid("min_price", "min_price must be 0 or more (minor units)")
	}
	if q.MaxPrice != nil && *q.MaxPrice < 0 {
		return invalid("max_price", "max_price must be 0 or more (minor units)")
	}
	if q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice {
		return invalid("max_price", "max_price must not be below min_price")
	}
	sq.MinPrice, sq.MaxPrice = q.MinPrice, q.MaxPrice
	if q.Currency != "" || q.MinPrice != nil || q.MaxPrice != nil {
		sh, err := f.Store.ShopByID(ctx, shopID)
		if err != nil {
			return app.FeedItemQuery{}, err
		}
		if q.Currency == "" {
			return invalid("currency", "currency is required with a price range (the shop sells in "+sh.CurrencyCode+")")
		}
		if !strings.EqualFold(q.Currency, sh.CurrencyCode) {
			return invalid("currency", "the shop sells in "+sh.CurrencyCode+", not "+q.Currency)
		}
		sq.Currency = sh.CurrencyCode
	}
	if q.Availability != "" {
		ok := false
		for _, a := range availabilities {
			ok = ok || q.Availability == string(a)
		}
		if !ok {
			return invalid("availability", "availability must be in_stock, out_of_stock, backorder or pre_order")
		}
		sq.Availability = q.Availability
	}
	if utf8.RuneCountInString(q.Category) > maxQueryLen {
		return invalid("category", "category must be at most "+strconv.Itoa(maxQueryLen)+" characters")
	}
	sq.CategoryPrefix = strings.ToLower(strings.TrimSpace(q.Category))
	if q.Cursor != "" {
		build, rank, seq, ok := decodeCursor(q.Cursor)
		if !ok {
			return invalid("cursor", "cursor must be the next_cursor of a previous page")
		}
		sq.BuildID, sq.AfterRank, sq.AfterSeq = build, rank, seq
	}
	return sq, nil
}

// encodeCursor and decodeCursor write the position after a page's last
// item: "build.rank.seq". It is opaque to callers.
func encodeCursor(build, rank, seq int64) string {
	return strconv.FormatInt(build, 36) + "." + strconv.FormatInt(rank, 36) + "." + strconv.FormatInt(seq, 36)
}

func decodeCursor(s string) (build, rank, seq int64, ok bool) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return 0, 0, 0, false
	}
	var v [3]int64
	for i, p := range parts {
		n, err := strconv.ParseInt(p, 36, 64)
		if err != nil || n < 0 {
			return 0, 0, 0, false
		}
		v[i] = n
	}
	return v[0], v[1], v[2], true
}

// searchItem reads a stored item into what agents see.
func searchItem(data []byte) (SearchItem, error) {
	var it feed.Item
	if err := json.Unmarshal(data, &it); err != nil {
		return SearchItem{}, err
	}
	out := SearchItem{
		ID: it.ItemID, GroupID: it.GroupID, Title: it.Title, Description: it.Description, URL: it.URL,
		ImageURL: it.ImageURL, Brand: it.Brand, Category: it.ProductCategory, GTIN: it.GTIN, MPN: it.MPN,
		Price: it.Price.Minor, Currency: it.Price.Currency, Availability: string(it.Availability),
		CheckoutEligible: it.IsEligibleCheckout,
	}
	if !it.SalePrice.IsZero() {
		out.Price, out.RegularPrice = it.SalePrice.Minor, it.Price.Minor
	}
	if it.InventoryQuantity >= 0 {
		q := it.InventoryQuantity
		out.InventoryQuantity = &q
	}
	if len(it.VariantDict) > 0 {
		out.Options = make(map[string]string, len(it.VariantDict))
		for _, o := range it.VariantDict {
			out.Options[o.Name] = o.Value
		}
	}
	return out, nil
}

// feedItemRow is what the build stores of a published item for search.
func feedItemRow(shopID, buildID int64, it *feed.Item) (app.FeedItemRow, error) {
	data, err := json.Marshal(it)
	if err != nil {
		return app.FeedItemRow{}, err
	}
	price := it.Price
	if !it.SalePrice.IsZero() {
		price = it.SalePrice
	}
	desc := it.Description
	if len(desc) > searchDescription {
		cut := searchDescription
		for cut > 0 && !utf8.RuneStart(desc[cut]) {
			cut--
		}
		desc = desc[:cut]
	}
	var sb strings.Builder
	for _, s := range []string{it.Title, it.Brand, it.ProductCategory, it.GTIN, it.MPN, it.Color, it.Size, it.ItemID, it.GroupID, desc} {
		if s != "" {
			sb.WriteString(s)
			sb.WriteByte('\n')
		}
	}
	return app.FeedItemRow{
		ShopID: shopID, BuildID: buildID, ItemID: it.ItemID, GroupID: it.GroupID,
		TitleText: strings.ToLower(it.Title), SearchText: strings.ToLower(sb.String()),
		Category: strings.ToLower(it.ProductCategory), PriceMinor: price.Minor, Currency: price.Currency,
		Availability: string(it.Availability), Data: data,
	}, nil
}
