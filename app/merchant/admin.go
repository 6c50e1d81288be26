package merchant

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/catalog"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/app/feeds"
	"github.com/acpbridge/acpbridge/app/internal/ttlcache"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// Admin is what the merchant's embedded admin pages read and the actions
// only they take: the onboarding checklist, the products table with each
// product's feed status, feed health, agent orders and their chart. The
// settings themselves are saved through Feeds, Agents and Deliveries.
type Admin struct {
	Store  AdminStore
	Feeds  *feeds.Service
	Agents *agents.Access
	Events *orderevents.Service
	// Checkout runs the test checkout.
	Checkout   *checkout.Sessions
	Catalog    *catalog.Syncer
	Deliveries *feeds.Deliveries
	// Channels lists the shop's sales channels (for the warning about
	// Shopify's own agentic channels); nil skips the check.
	Channels ChannelLister
	Now      func() time.Time

	// collections caches each shop's collection list (they change only
	// with a sync) for CollectionsTTL: grouping them was a third of the
	// products page's time at 10,000 products.
	collections ttlcache.Cache[int64, []CollectionSummary]
}

// Options are the admin's settings; each has a default.
type Options struct {
	// Channels lists the shop's sales channels (nil skips the check).
	Channels ChannelLister
	Now      func() time.Time // default time.Now
}

// New builds the admin's read model over its store and the capabilities
// whose use-cases the admin pages call.
func New(store AdminStore, fs *feeds.Service, deliveries *feeds.Deliveries, cat *catalog.Syncer,
	ag *agents.Access, co *checkout.Sessions, events *orderevents.Service, opts Options) *Admin {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Admin{
		Store: store, Feeds: fs, Deliveries: deliveries, Catalog: cat, Agents: ag,
		Checkout: co, Events: events, Channels: opts.Channels, Now: now,
	}
}

// CollectionsTTL is how long the products page reuses a shop's collections.
const CollectionsTTL = 30 * time.Second

// catalogCollections is the shop's collections, from the cache when fresh.
func (a *Admin) catalogCollections(ctx context.Context, shopID int64) ([]CollectionSummary, error) {
	now := a.now()
	if list, ok := a.collections.Get(shopID, now, CollectionsTTL); ok {
		return slices.Clone(list), nil
	}
	list, err := a.Store.CatalogCollections(ctx, shopID)
	if err != nil {
		return nil, err
	}
	a.collections.Put(shopID, list, now, CollectionsTTL, 10_000)
	return slices.Clone(list), nil
}

// AdminStore is what the admin pages read from the database.
type AdminStore interface {
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	// AdminProducts returns the page of products matching q (with their
	// variants, media and collections) and how many match in all.
	AdminProducts(ctx context.Context, shopID int64, q ProductQuery) (*app.CatalogPage, int64, error)
	CatalogCollections(ctx context.Context, shopID int64) ([]CollectionSummary, error)
	LatestSync(ctx context.Context, shopID int64) (*app.CatalogSync, error)
	LatestBuild(ctx context.Context, shopID int64, status string) (*app.FeedBuild, error)
	FeedProblems(ctx context.Context, buildID int64, limit int) ([]app.FeedProblem, error)
	FeedTargets(ctx context.Context, shopID int64) ([]*app.FeedTarget, error)
	FeedDeliveries(ctx context.Context, targetID int64, limit int) ([]app.FeedDelivery, error)
	APIKeys(ctx context.Context, shopID int64) ([]*app.APIKey, error)
	// AgentOrders lists the shop's completions, newest first.
	AgentOrders(ctx context.Context, shopID int64, limit, offset int) ([]AgentOrder, int64, error)
	AgentOrder(ctx context.Context, shopID int64, sessionID string) (*AgentOrder, error)
	// CompletedSince lists when each completed agent order was placed and
	// its amount, for the chart.
	CompletedSince(ctx context.Context, shopID int64, since time.Time) ([]OrderPoint, error)
	AgentEvents(ctx context.Context, shopID int64, sessionID string) ([]*orderevents.Event, error)
	AgentEventAttempts(ctx context.Context, eventID int64) ([]orderevents.Attempt, error)
	SaveACPSettings(ctx context.Context, s app.ACPSettings) error
	// KnownTargets returns which of ids are products (or collections) in
	// the shop's synced catalog.
	KnownTargets(ctx context.Context, shopID int64, scope string, ids []int64) (map[int64]bool, error)
}

// ChannelLister names the sales channels (publications) of a shop.
type ChannelLister interface {
	SalesChannels(ctx context.Context, shop *app.Shop) ([]string, error)
}

func (a *Admin) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Feed statuses of a product as the admin shows them.
const (
	ProductPublished = "published"
	ProductExcluded  = "excluded"
	ProductInvalid   = "invalid"
)

// ProductQuery selects a page of the products table.
type ProductQuery struct {
	Search       string // in title, vendor, handle or a variant's SKU
	Status       string // "", published, excluded, invalid
	CollectionID int64
	Page         int // from 1
	PageSize     int
	// ProductID selects one product (its own page).
	ProductID int64
	// LastBuildID is the build whose problems define "invalid" (set by
	// Admin, not the caller).
	LastBuildID int64
}

// MaxPageSize caps a products page.
const MaxPageSize = 100

// Normalize checks the query and fills in defaults.
func (q *ProductQuery) Normalize() error {
	q.Search = strings.TrimSpace(q.Search)
	if len([]rune(q.Search)) > 200 {
		return &app.Error{Code: app.CodeInvalid, Field: "q", Message: "search text must be at most 200 characters"}
	}
	switch q.Status {
	case "", ProductPublished, ProductExcluded, ProductInvalid:
	default:
		return &app.Error{Code: app.CodeInvalid, Field: "status", Message: "status must be published, excluded or invalid"}
	}
	if q.Page <= 0 {
		q.Page = 1
	}
	if q.Page > 100_000 {
		return &app.Error{Code: app.CodeInvalid, Field: "page", Message: "page is out of range"}
	}
	if q.PageSize <= 0 {
		q.PageSize = 25
	}
	q.PageSize = min(q.PageSize, MaxPageSize)
	return nil
}

// ProductRow is one product of the table with its feed status now (what
// the next build would do).
type ProductRow struct {
	Product     app.CatalogProduct
	Variants    []VariantRow
	Collections []app.CatalogCollection
	ImageURL    string
	Status      string
	Reasons     []string // why excluded or invalid, without repeats
	Checkout    bool     // at least one item is checkout-eligible
	Rule        *app.FeedRule
	MinPrice    int64
	MaxPrice    int64
	Currency    string
}

// VariantRow is a variant with its feed status.
type VariantRow struct {
	Variant  app.CatalogVariant
	Status   string
	Problems []feed.Problem
	Checkout bool
}

// ProductsPage is one page of the products table.
type ProductsPage struct {
	Query       ProductQuery
	Rows        []ProductRow
	Total       int64
	Collections []CollectionSummary
}

// Pages is the number of pages.
func (p *ProductsPage) Pages() int {
	return max(1, int((p.Total+int64(p.Query.PageSize)-1)/int64(p.Query.PageSize)))
}

// CollectionSummary is a collection with its product count and rule.
type CollectionSummary struct {
	CollectionID int64
	Title        string
	Products     int64
	Rule         *app.FeedRule
}

// Products reads a page of the products table, each with its feed status
// computed by the same mapping and validation as a build.
func (a *Admin) Products(ctx context.Context, shopID int64, q ProductQuery) (*ProductsPage, error) {
	if err := q.Normalize(); err != nil {
		return nil, err
	}
	if q.Status == ProductInvalid {
		if b, err := a.Store.LatestBuild(ctx, shopID, app.BuildPublished); err == nil {
			q.LastBuildID = b.ID
		} else if !errors.Is(err, app.ErrNotFound) {
			return nil, err
		}
	}
	page, total, err := a.Store.AdminProducts(ctx, shopID, q)
	if err != nil {
		return nil, err
	}
	rows, idx, err := a.productRows(ctx, shopID, page)
	if err != nil {
		return nil, err
	}
	cols, err := a.catalogCollections(ctx, shopID)
	if err != nil {
		return nil, err
	}
	for i := range cols {
		if r, ok := idx.CollectionRule(cols[i].CollectionID); ok {
			cols[i].Rule = &r
		}
	}
	return &ProductsPage{Query: q, Rows: rows, Total: total, Collections: cols}, nil
}

// Product is one product with its variants' feed status, for its page.
func (a *Admin) Product(ctx context.Context, shopID, productID int64) (*ProductRow, error) {
	page, _, err := a.Store.AdminProducts(ctx, shopID, ProductQuery{Page: 1, PageSize: 1, ProductID: productID})
	if err != nil {
		return nil, err
	}
	if len(page.Products) == 0 {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "no such product in this shop's catalog"}
	}
	rows, _, err := a.productRows(ctx, shopID, page)
	if err != nil {
		return nil, err
	}
	return &rows[0], nil
}

// productRows maps each product as a build would and sums up its status;
// it also gives the shop's rules it read, for the collections' decisions.
func (a *Admin) productRows(ctx context.Context, shopID int64, page *app.CatalogPage) ([]ProductRow, feeds.Rules, error) {
	sh, _, settings, fshop, idx, err := a.Feeds.FeedInputs(ctx, shopID)
	if err != nil {
		return nil, feeds.Rules{}, err
	}
	rows := make([]ProductRow, 0, len(page.Products))
	var items []feed.Item
	for _, p := range page.Products {
		ov := idx.Override(p.ProductID, page.Collections[p.ProductID])
		fp := feeds.ToFeedProduct(p, page, ov)
		row := ProductRow{Product: p, Collections: page.Collections[p.ProductID], Currency: sh.CurrencyCode}
		if r, ok := idx.ProductRule(p.ProductID); ok {
			row.Rule = &r
		}
		if m := page.Media[p.ProductID]; len(m) > 0 {
			row.ImageURL = m[0].URL
		}
		variants := page.Variants[p.ProductID]
		for i, v := range variants {
			if i == 0 || v.PriceMinor < row.MinPrice {
				row.MinPrice = v.PriceMinor
			}
			row.MaxPrice = max(row.MaxPrice, v.PriceMinor)
		}
		if ok, reason := feed.Eligibility(fp); !ok {
			row.Status, row.Reasons = ProductExcluded, []string{reason}
			for _, v := range variants {
				row.Variants = append(row.Variants, VariantRow{Variant: v, Status: ProductExcluded})
			}
			rows = append(rows, row)
			continue
		}
		items = feed.AppendItems(items[:0], fp, settings, fshop)
		published := 0
		for _, it := range items {
			vr := VariantRow{Status: ProductPublished, Checkout: it.IsEligibleCheckout}
			id, _ := strconv.ParseInt(it.ItemID, 10, 64)
			for _, v := range variants {
				if v.VariantID == id {
					vr.Variant = v
				}
			}
			vr.Problems = feed.Validate(it, settings.FieldNames)
			if feed.HasErrors(vr.Problems) {
				vr.Status, vr.Checkout = ProductInvalid, false
				for _, pr := range vr.Problems {
					if pr.Severity == feed.SeverityError {
						msg := pr.Field + ": " + pr.Message
						if !slices.Contains(row.Reasons, msg) {
							row.Reasons = append(row.Reasons, msg)
						}
					}
				}
			} else {
				published++
				row.Checkout = row.Checkout || vr.Checkout
			}
			row.Variants = append(row.Variants, vr)
		}
		if published > 0 {
			row.Status = ProductPublished
		} else {
			row.Status = ProductInvalid
		}
		rows = append(rows, row)
	}
	return rows, idx, nil
}

// MaxBulk caps how many products one bulk change may name.
const MaxBulk = 250

// ProductRuleChange is a merchant's include/exclude or checkout decision
// for several products or one collection. A nil field keeps the current
// decision; Clear removes the rule's decision (back to the default).
type ProductRuleChange struct {
	Scope    string
	IDs      []int64
	Exclude  *bool
	Checkout *bool
}

// ChangeRules applies one decision to each product (or collection) named,
// all or none.
func (a *Admin) ChangeRules(ctx context.Context, shopID int64, ch ProductRuleChange) error {
	if len(ch.IDs) == 0 {
		return &app.Error{Code: app.CodeInvalid, Field: "ids", Message: "select at least one product"}
	}
	if len(ch.IDs) > MaxBulk {
		return &app.Error{Code: app.CodeInvalid, Field: "ids", Message: fmt.Sprintf("at most %d products at once", MaxBulk)}
	}
	if ch.Exclude == nil && ch.Checkout == nil {
		return &app.Error{Code: app.CodeInvalid, Field: "exclude", Message: "choose include/exclude or checkout on/off"}
	}
	if ch.Scope != app.RuleProduct && ch.Scope != app.RuleCollection {
		return &app.Error{Code: app.CodeInvalid, Field: "scope", Message: `scope must be "product" or "collection"`}
	}
	known, err := a.Store.KnownTargets(ctx, shopID, ch.Scope, ch.IDs)
	if err != nil {
		return err
	}
	for _, id := range ch.IDs {
		if !known[id] {
			return &app.Error{Code: app.CodeNotFound, Field: "ids", Message: fmt.Sprintf("no %s %d in this shop's catalog", ch.Scope, id)}
		}
	}
	cur, err := a.Feeds.Store.FeedRules(ctx, shopID)
	if err != nil {
		return err
	}
	existing := map[int64]app.FeedRule{}
	for _, r := range cur {
		if r.Scope == ch.Scope {
			existing[r.TargetID] = r
		}
	}
	return a.Feeds.Store.InTx(ctx, func(ctx context.Context) error {
		for _, id := range ch.IDs {
			r, ok := existing[id]
			if !ok {
				r = app.FeedRule{ShopID: shopID, Scope: ch.Scope, TargetID: id}
			}
			if ch.Exclude != nil {
				r.Exclude = ch.Exclude
			}
			if ch.Checkout != nil {
				r.CheckoutEligible = ch.Checkout
			}
			r.UpdatedAt = a.now()
			if err := a.Feeds.SaveRule(ctx, r); err != nil {
				return err
			}
		}
		return a.Catalog.RequestBuild(ctx, shopID)
	})
}

// ProductOverrides are a product's field overrides; "" removes one.
type ProductOverrides struct {
	Title, Description, Category, GTIN, MPN string
}

// SaveOverrides replaces a product's field overrides, keeping its
// include/exclude and checkout decisions.
func (a *Admin) SaveOverrides(ctx context.Context, shopID, productID int64, o ProductOverrides) error {
	if _, err := a.Product(ctx, shopID, productID); err != nil {
		return err
	}
	cur, err := a.Feeds.Store.FeedRules(ctx, shopID)
	if err != nil {
		return err
	}
	r := app.FeedRule{ShopID: shopID, Scope: app.RuleProduct, TargetID: productID}
	for _, c := range cur {
		if c.Scope == app.RuleProduct && c.TargetID == productID {
			r = c
		}
	}
	opt := func(s string) *string {
		if s = strings.TrimSpace(s); s == "" {
			return nil
		}
		return &s
	}
	r.Title, r.Description, r.Category, r.GTIN, r.MPN = opt(o.Title), opt(o.Description), opt(o.Category), opt(o.GTIN), opt(o.MPN)
	r.UpdatedAt = a.now()
	if err := a.Feeds.SaveRule(ctx, r); err != nil {
		return err
	}
	return a.Catalog.RequestBuild(ctx, shopID)
}

// ChecklistStep is one step of onboarding with its live status.
type ChecklistStep struct {
	Key    string
	Title  string
	Done   bool
	Detail string
}

// Overview is the main page: the checklist and what agents see.
type Overview struct {
	Shop         *app.Shop
	Steps        []ChecklistStep
	StepsDone    int
	Settings     *app.FeedSettings
	ACP          *app.ACPSettings
	Keys         []*app.APIKey
	LiveKeys     int
	Build        *app.FeedBuild
	Targets      []*app.FeedTarget
	ChannelWarns []string
	ChannelError string
}

// agentChannelWords name Shopify's own agentic channels (ChatGPT through
// Shopify Catalog / Agentic Storefronts) in a publication's title.
var agentChannelWords = []string{"chatgpt", "openai", "agentic", "shopify catalog", "ai agent"}

// Overview reads every checklist step's live status.
func (a *Admin) Overview(ctx context.Context, sh *app.Shop) (*Overview, error) {
	ov := &Overview{Shop: sh}
	var err error
	if ov.Settings, err = a.Feeds.Settings(ctx, sh.ID); err != nil {
		return nil, err
	}
	if ov.ACP, err = a.Agents.Settings(ctx, sh.ID); err != nil {
		return nil, err
	}
	if ov.Keys, err = a.Store.APIKeys(ctx, sh.ID); err != nil {
		return nil, err
	}
	for _, k := range ov.Keys {
		if k.RevokedAt == nil {
			ov.LiveKeys++
		}
	}
	if ov.Build, err = a.Store.LatestBuild(ctx, sh.ID, app.BuildPublished); errors.Is(err, app.ErrNotFound) {
		ov.Build, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if ov.Targets, err = a.Store.FeedTargets(ctx, sh.ID); err != nil {
		return nil, err
	}

	stripe := ChecklistStep{Key: "stripe", Title: "Connect your Stripe account"}
	if pa := ov.ACP.Payment; pa != nil && pa.AccountID != "" && pa.VerifiedAt != nil {
		stripe.Done = true
		stripe.Detail = "Stripe account " + pa.AccountID + " verified " + pa.VerifiedAt.Format("2006-01-02 15:04 MST")
	} else {
		stripe.Detail = "Agents' payments are charged through your own Stripe account."
	}
	policies := ChecklistStep{Key: "policies", Title: "Set your store policies"}
	if missing := ov.Settings.MissingForCheckout(); len(missing) == 0 {
		policies.Done = true
		policies.Detail = fmt.Sprintf("Return, privacy and terms pages set; returns within %d days.", ov.Settings.ReturnWindowDays)
	} else {
		policies.Detail = "Missing: " + strings.ReplaceAll(strings.Join(missing, ", "), "_", " ") + "."
	}
	delivery := ChecklistStep{Key: "feed", Title: "Deliver your product feed"}
	delivery.Done, delivery.Detail = feedDeliveryStatus(ov.Settings, ov.Build, ov.Targets)
	access := ChecklistStep{Key: "keys", Title: "Give your agent access"}
	if ov.LiveKeys > 0 {
		access.Done = true
		access.Detail = fmt.Sprintf("%d live API key(s).", ov.LiveKeys)
	} else {
		access.Detail = "Create an API key for the agent's checkout calls."
	}
	hook := ChecklistStep{Key: "webhook", Title: "Tell the agent about orders"}
	switch {
	case ov.ACP.WebhookURL == "":
		hook.Detail = "Set the agent's order-event webhook URL."
	case ov.ACP.WebhookTestedAt == nil:
		hook.Detail = "Send a test event to " + ov.ACP.WebhookURL + "."
	case ov.ACP.WebhookTestStatus >= 200 && ov.ACP.WebhookTestStatus < 300:
		hook.Done = true
		hook.Detail = fmt.Sprintf("Test event delivered (HTTP %d) %s.", ov.ACP.WebhookTestStatus, ov.ACP.WebhookTestedAt.Format("2006-01-02 15:04 MST"))
	default:
		hook.Detail = "The last test event failed: " + ov.ACP.WebhookTestError
	}
	ov.Steps = []ChecklistStep{stripe, policies, delivery, access, hook}
	for _, s := range ov.Steps {
		if s.Done {
			ov.StepsDone++
		}
	}
	if a.Channels != nil {
		names, err := a.Channels.SalesChannels(ctx, sh)
		if err != nil {
			// The checklist still renders; the warning says it could not look.
			ov.ChannelError = err.Error()
		}
		for _, n := range names {
			l := strings.ToLower(n)
			for _, w := range agentChannelWords {
				if strings.Contains(l, w) {
					ov.ChannelWarns = append(ov.ChannelWarns, n)
					break
				}
			}
		}
	}
	return ov, nil
}

// feedDeliveryStatus is done when a build is published and every push
// target's last delivery succeeded (or, with no push target, the pull URL
// has a token).
func feedDeliveryStatus(fs *app.FeedSettings, b *app.FeedBuild, targets []*app.FeedTarget) (bool, string) {
	if b == nil {
		return false, "No feed published yet: sync the catalog and build the feed."
	}
	enabled := 0
	for _, t := range targets {
		if !t.Enabled {
			continue
		}
		enabled++
		if t.LastStatus != "succeeded" {
			d := t.LastDetail
			if d == "" {
				d = "not delivered yet"
			}
			return false, "Push to " + t.Kind + " target: " + d
		}
	}
	if enabled > 0 {
		return true, fmt.Sprintf("%d items published; pushed to %d target(s).", b.ItemsPublished, enabled)
	}
	if fs.FeedTokenHash != "" {
		return true, fmt.Sprintf("%d items published at the pull URL.", b.ItemsPublished)
	}
	return false, "Create a pull URL token or add a push target."
}

// AgentOrder is one agent purchase as the orders list shows it.
type AgentOrder struct {
	SessionID     string
	SessionStatus string
	State         string // the completion's state (PaymentCompleted, …)
	Amount        int64
	Currency      string
	OrderID       string // Shopify GID
	OrderName     string
	KeyLabel      string
	KeyPrint      string
	APIVersion    string
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// OrderNumericID is the Shopify order's number in its GID.
func (o AgentOrder) OrderNumericID() string {
	if _, id, err := app.ParseGID(o.OrderID); err == nil {
		return strconv.FormatInt(id, 10)
	}
	return ""
}

// OrderPoint is a completed order for the chart.
type OrderPoint struct {
	At     time.Time
	Amount int64
}

// DayStat is one day of the chart.
type DayStat struct {
	Day     time.Time
	Orders  int
	Revenue int64
}

// OrdersPage is the orders list with its 30-day chart.
type OrdersPage struct {
	Orders   []AgentOrder
	Total    int64
	Page     int
	PageSize int
	Days     []DayStat
	Currency string
	Sum      DayStat
}

// ChartDays is the span of the orders chart.
const ChartDays = 30

// Orders lists agent orders (newest first) with the chart of the last
// ChartDays days (UTC), today included.
func (a *Admin) Orders(ctx context.Context, sh *app.Shop, page int) (*OrdersPage, error) {
	if page <= 0 {
		page = 1
	}
	if page > 100_000 {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "page", Message: "page is out of range"}
	}
	const size = 25
	orders, total, err := a.Store.AgentOrders(ctx, sh.ID, size, (page-1)*size)
	if err != nil {
		return nil, err
	}
	today := a.now().UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(ChartDays - 1))
	points, err := a.Store.CompletedSince(ctx, sh.ID, first)
	if err != nil {
		return nil, err
	}
	out := &OrdersPage{Orders: orders, Total: total, Page: page, PageSize: size, Currency: sh.CurrencyCode}
	out.Days = make([]DayStat, ChartDays)
	for i := range out.Days {
		out.Days[i].Day = first.AddDate(0, 0, i)
	}
	for _, p := range points {
		i := int(p.At.UTC().Sub(first) / (24 * time.Hour))
		if i < 0 || i >= ChartDays {
			continue
		}
		out.Days[i].Orders++
		out.Days[i].Revenue += p.Amount
		out.Sum.Orders++
		out.Sum.Revenue += p.Amount
	}
	return out, nil
}

// TimelineEntry is one thing that happened to an agent order.
type TimelineEntry struct {
	At     time.Time
	What   string
	Detail string
	OK     bool
}

// OrderDetail is one agent order with its timeline of events sent to the
// agent.
type OrderDetail struct {
	Order    AgentOrder
	Events   []*orderevents.Event
	Timeline []TimelineEntry
}

// Order reads one agent order and its timeline.
func (a *Admin) Order(ctx context.Context, shopID int64, sessionID string) (*OrderDetail, error) {
	if len(sessionID) > 100 {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "no such order"}
	}
	o, err := a.Store.AgentOrder(ctx, shopID, sessionID)
	if errors.Is(err, app.ErrNotFound) {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "no such order"}
	}
	if err != nil {
		return nil, err
	}
	d := &OrderDetail{Order: *o}
	d.Timeline = append(d.Timeline, TimelineEntry{At: o.CreatedAt, What: "Agent asked to complete", Detail: "API " + o.APIVersion, OK: true})
	if o.OrderName != "" {
		d.Timeline = append(d.Timeline, TimelineEntry{At: o.UpdatedAt, What: "Order " + o.OrderName + " created in Shopify", OK: true})
	}
	if o.LastError != "" {
		d.Timeline = append(d.Timeline, TimelineEntry{At: o.UpdatedAt, What: "Completion " + o.State, Detail: o.LastError})
	}
	if d.Events, err = a.Store.AgentEvents(ctx, shopID, sessionID); err != nil {
		return nil, err
	}
	for _, ev := range d.Events {
		atts, err := a.Store.AgentEventAttempts(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		if len(atts) == 0 {
			d.Timeline = append(d.Timeline, TimelineEntry{At: ev.CreatedAt, What: ev.Type + " event " + ev.Status, Detail: ev.LastError, OK: ev.Status != orderevents.Failed})
		}
		for _, at := range atts {
			e := TimelineEntry{At: at.AttemptedAt, What: ev.Type + " sent to the agent", OK: at.Error == ""}
			switch {
			case at.Error != "":
				e.Detail = at.Error
			default:
				e.Detail = fmt.Sprintf("HTTP %d in %d ms", at.StatusCode, at.Duration.Milliseconds())
			}
			d.Timeline = append(d.Timeline, e)
		}
	}
	slices.SortStableFunc(d.Timeline, func(x, y TimelineEntry) int { return x.At.Compare(y.At) })
	return d, nil
}

// SendTestEvent posts a signed test order event to the shop's agent
// webhook URL now and records the outcome for the checklist.
func (a *Admin) SendTestEvent(ctx context.Context, shopID int64) (int, error) {
	set, err := a.Agents.Settings(ctx, shopID)
	if err != nil {
		return 0, err
	}
	if set.WebhookURL == "" || set.WebhookSecretSealed == "" {
		return 0, &app.Error{Code: app.CodeInvalid, Field: "webhook_url", Message: "set the agent's webhook URL first"}
	}
	status, sendErr := a.Events.SendTest(ctx, set)
	now := a.now()
	set.WebhookTestedAt, set.WebhookTestStatus, set.WebhookTestError = &now, status, ""
	if sendErr != nil {
		set.WebhookTestError = app.Truncate(sendErr.Error(), 300)
	}
	if err := a.Store.SaveACPSettings(ctx, *set); err != nil {
		return 0, err
	}
	if sendErr != nil {
		return status, &app.Error{Code: app.CodeUnprocessable, Field: "webhook_url", Message: "the test event was not accepted: " + set.WebhookTestError}
	}
	return status, nil
}

// TestCheckoutResult is what a test checkout showed: the session an agent
// would get for one published item, priced by Shopify, then canceled.
type TestCheckoutResult struct {
	Item    feeds.PublishedItem
	Session *acp.Session
	Totals  []acp.Total
}

// testAddresses are shipping addresses a test checkout uses, by the
// shop's country (a US address otherwise).
var testAddresses = map[string]acp.Address{
	"US": {Name: "Test Buyer", LineOne: "1 Market St", City: "San Francisco", State: "CA", Country: "US", PostalCode: "94105"},
	"CA": {Name: "Test Buyer", LineOne: "100 Queen St W", City: "Toronto", State: "ON", Country: "CA", PostalCode: "M5H 2N2"},
	"GB": {Name: "Test Buyer", LineOne: "10 Downing St", City: "London", Country: "GB", PostalCode: "SW1A 2AA"},
}

// TestCheckout runs the agent's first two calls through the real checkout
// code (create with an address, which prices the cart with Shopify) for
// the first published, checkout-eligible item in stock, and cancels the
// session. It charges nothing and creates no order.
func (a *Admin) TestCheckout(ctx context.Context, sh *app.Shop) (*TestCheckoutResult, error) {
	if a.Checkout == nil {
		return nil, &app.Error{Code: app.CodeUnavailable, Message: "checkout is not configured on this server"}
	}
	items, err := a.Feeds.PublishedItems(ctx, sh.ID, 200)
	if err != nil {
		return nil, err
	}
	var pick *feeds.PublishedItem
	for i := range items {
		if items[i].Available && items[i].Inventory > 0 {
			pick = &items[i]
			break
		}
	}
	if pick == nil {
		return nil, &app.Error{Code: app.CodeUnprocessable, Message: "no published item is in stock and open to checkout: sync the catalog and check the products page"}
	}
	addr, ok := testAddresses[sh.CountryCode]
	if !ok {
		addr = testAddresses["US"]
	}
	in := &acp.CreateSessionInput{
		Items:              []acp.ItemInput{{ID: pick.ID, Quantity: 1}},
		Buyer:              &acp.Buyer{FirstName: "Test", LastName: "Buyer", Email: "test-buyer@example.com"},
		FulfillmentDetails: &acp.FulfillmentDetails{Name: addr.Name, Email: "test-buyer@example.com", Address: &addr},
	}
	// The merchant, not an agent, is the caller: no API key.
	merchant := &app.Agent{Shop: sh}
	cs, err := a.Checkout.Create(ctx, merchant, acp.V20260417, in)
	if err != nil {
		return nil, err
	}
	view := cs.View()
	res := &TestCheckoutResult{Item: *pick, Session: view}
	if res.Totals, err = view.Totals(); err != nil {
		return nil, err
	}
	if _, err := a.Checkout.Cancel(ctx, merchant, cs.ID, &acp.CancelSessionInput{}); err != nil {
		return nil, fmt.Errorf("cancel the test session: %w", err)
	}
	return res, nil
}

// FeedHealth is the feed page: the last sync and builds, problems by
// field, and each push target with its delivery history.
type FeedHealth struct {
	Status    *catalog.CatalogStatus
	Published *app.FeedBuild // the build agents get now (nil before the first)
	Problems  []app.FieldProblems
	Settings  *app.FeedSettings
	Targets   []TargetHistory
}

// TargetHistory is a push target with its latest deliveries.
type TargetHistory struct {
	Target     *app.FeedTarget
	Where      string // host or URL, without credentials
	Deliveries []app.FeedDelivery
}

// FeedHealth reads the feed page.
func (a *Admin) FeedHealth(ctx context.Context, shopID int64) (*FeedHealth, error) {
	h := &FeedHealth{}
	var err error
	if h.Status, err = a.Catalog.Status(ctx, shopID); err != nil {
		return nil, err
	}
	if h.Published, err = a.Store.LatestBuild(ctx, shopID, app.BuildPublished); errors.Is(err, app.ErrNotFound) {
		h.Published, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b := h.Status.Build; b != nil {
		h.Problems = b.ProblemsByField()
	}
	if h.Settings, err = a.Feeds.Settings(ctx, shopID); err != nil {
		return nil, err
	}
	targets, err := a.Store.FeedTargets(ctx, shopID)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		th := TargetHistory{Target: t}
		switch t.Kind {
		case app.TargetSFTP:
			var c app.SFTPTargetConfig
			_ = json.Unmarshal(t.Config, &c)
			th.Where = "sftp://" + c.User + "@" + c.Addr + "/" + strings.TrimPrefix(c.Dir, "/")
		case app.TargetACP:
			var c app.ACPTargetConfig
			_ = json.Unmarshal(t.Config, &c)
			th.Where = c.BaseURL + " (feed " + c.FeedID + ")"
		}
		if th.Deliveries, err = a.Store.FeedDeliveries(ctx, t.ID, 10); err != nil {
			return nil, err
		}
		h.Targets = append(h.Targets, th)
	}
	return h, nil
}

// SaveFeedSettings saves the shop's feed settings and schedules a build
// that uses them.
func (a *Admin) SaveFeedSettings(ctx context.Context, fs app.FeedSettings) error {
	if err := a.Feeds.SaveSettings(ctx, fs); err != nil {
		return err
	}
	return a.Catalog.RequestBuild(ctx, fs.ShopID)
}

// FeedSettings returns the shop's feed settings.
func (a *Admin) FeedSettings(ctx context.Context, shopID int64) (*app.FeedSettings, error) {
	return a.Feeds.Settings(ctx, shopID)
}

// RotateFeedToken makes a new pull URL token (shown once).
func (a *Admin) RotateFeedToken(ctx context.Context, shopID int64) (string, error) {
	return a.Feeds.RotateToken(ctx, shopID)
}

// SaveACPTarget adds or changes a push target for an ACP Feed API and
// pushes the published feed to it.
func (a *Admin) SaveACPTarget(ctx context.Context, shopID, id int64, cfg app.ACPTargetConfig, token string, enabled bool) (*app.FeedTarget, error) {
	t, err := a.Deliveries.SaveACPTarget(ctx, shopID, id, cfg, token, enabled)
	if err != nil {
		return nil, err
	}
	return t, a.Catalog.RequestBuild(ctx, shopID)
}

// SaveSFTPTarget adds or changes an SFTP push target and pushes the
// published feed to it.
func (a *Admin) SaveSFTPTarget(ctx context.Context, shopID, id int64, cfg app.SFTPTargetConfig, password, key string, enabled bool) (*app.FeedTarget, error) {
	t, err := a.Deliveries.SaveSFTPTarget(ctx, shopID, id, cfg, password, key, enabled)
	if err != nil {
		return nil, err
	}
	return t, a.Catalog.RequestBuild(ctx, shopID)
}

// RequestBuild schedules a feed build now.
func (a *Admin) RequestBuild(ctx context.Context, shopID int64) error {
	return a.Catalog.RequestBuild(ctx, shopID)
}
