package billing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// Plan is the app's pricing (config: ACPBRIDGE_BILLING_*).
type Plan struct {
	// FreeOrders is how many agent orders a shop gets each calendar month
	// (UTC) without a plan; negative: billing is off (no limit, no charge).
	FreeOrders int
	// Name is the subscription's name as the merchant sees it in Shopify.
	Name string
	// Currency is the currency of the amounts below (Shopify bills apps
	// in USD).
	Currency string
	// Recurring is the fee every 30 days, PerOrder the usage charge of
	// each agent order past the free tier, UsageCap the most usage charged
	// in 30 days (decimal strings, e.g. "19.00").
	Recurring, PerOrder, UsageCap string
	// Test makes the subscription a test charge (development stores:
	// Shopify bills nothing).
	Test bool
}

// Enabled reports whether the shop's orders are limited and charged.
func (p Plan) Enabled() bool { return p.FreeOrders >= 0 }

// Terms is the usage line item's terms, as the merchant reads them when
// approving.
func (p Plan) Terms() string {
	return fmt.Sprintf("%s %s per agent order beyond the %d free each calendar month", p.Currency, p.PerOrder, p.FreeOrders)
}

// Charge is what billing made of a counted order.
type Charge string

// The charges (billing_orders.charge).
const (
	ChargePending  Charge = "pending"  // not decided yet
	ChargeFree     Charge = "free"     // within the month's free tier
	ChargeCharged  Charge = "charged"  // a usage record was created
	ChargeUnbilled Charge = "unbilled" // past the free tier, nothing charged (no plan, or the cap reached)
)

// Order is a counted agent order.
type Order struct {
	ShopID     int64
	Shop       string // the shop's domain
	ShopActive bool   // the app is installed
	SessionID  string
	CreatedAt  time.Time
	Charge     Charge
}

// PlanState is the shop's subscription as last read from Shopify's
// currentAppInstallation.
type PlanState struct {
	ShopID         int64
	SubscriptionID string // "": none active
	Name, Status   string
	Test           bool
	Currency       string
	// Recurring, UsageCap and UsageUsed are decimal strings in Currency.
	Recurring, UsageCap, UsageUsed string
	UsageLineItemID                string
	PeriodEnd                      *time.Time
	CheckedAt                      time.Time
}

// Active reports whether the shop has an active subscription.
func (p *PlanState) Active() bool { return p != nil && p.SubscriptionID != "" && p.Status == "ACTIVE" }

// Store is what billing keeps (app/store).
type Store interface {
	// CountBillingOrders counts the shop's orders created in [from, to);
	// decidedOnly counts those no longer pending; atMost > 0 stops
	// counting there (the gate and the sweep only compare the count with
	// the free tier, so a busy shop's month is not counted whole on every
	// checkout).
	CountBillingOrders(ctx context.Context, shopID int64, from, to time.Time, decidedOnly bool, atMost int) (int, error)
	// PendingBillingOrders lists up to limit pending orders, oldest first.
	PendingBillingOrders(ctx context.Context, limit int) ([]Order, error)
	// SetBillingOrderCharge records what was made of a pending order;
	// false when it was no longer pending.
	SetBillingOrderCharge(ctx context.Context, shopID int64, sessionID string, c Charge, usageRecordID string, at time.Time) (bool, error)
	// ShopPlan is the shop's plan as last read; nil when never read.
	ShopPlan(ctx context.Context, shopID int64) (*PlanState, error)
	// SaveShopPlan stores the plan read.
	SaveShopPlan(ctx context.Context, p *PlanState) error
}

// Options are billing's settings.
type Options struct {
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
}

// Service is billing (the package doc says what it owns).
type Service struct {
	store  Store
	q      shopify.Querier
	plan   Plan
	logger *slog.Logger
	now    func() time.Time
}

// New builds billing over its store, Shopify's Admin API (shops.Shopify)
// and the pricing.
func New(store Store, q shopify.Querier, plan Plan, opts Options) *Service {
	s := &Service{store: store, q: q, plan: plan, logger: opts.Logger, now: opts.Now}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

// Plan is the pricing billing works with.
func (s *Service) Plan() Plan { return s.plan }

// How long a plan read from Shopify is trusted: an active one for an hour
// (a cancellation is rare, and the gate must not call Shopify on every
// checkout), a missing one for a minute (so an approval the return URL
// did not report is noticed soon, without a Shopify call per refused
// checkout).
const (
	activeFresh   = time.Hour
	inactiveFresh = time.Minute
)

// monthOf is the calendar month (UTC) holding t: [from, to).
func monthOf(t time.Time) (from, to time.Time) {
	t = t.UTC()
	from = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	return from, from.AddDate(0, 1, 0)
}

// ReasonPlanLimit is the ACP error code of a checkout refused because the
// shop is past its free tier without a plan.
const ReasonPlanLimit = "merchant_plan_limit_reached"

// AdmitOrder implements checkout.Admission: nil when the shop may take
// another agent order (within the month's free tier, or with an active
// plan), else a 403 with ReasonPlanLimit. It reads Shopify only when the
// shop is past its free tier and its stored plan is stale.
func (s *Service) AdmitOrder(ctx context.Context, sh *app.Shop) error {
	if !s.plan.Enabled() {
		return nil
	}
	from, to := monthOf(s.now())
	n, err := s.store.CountBillingOrders(ctx, sh.ID, from, to, false, s.plan.FreeOrders)
	if err != nil {
		return fmt.Errorf("admit order: %w", err)
	}
	if n < s.plan.FreeOrders {
		return nil
	}
	p, err := s.currentPlan(ctx, sh)
	if err != nil {
		return err
	}
	if p.Active() {
		return nil
	}
	return &app.Error{Code: app.CodeForbidden, Reason: ReasonPlanLimit,
		Message: fmt.Sprintf("this store has used the %d agent orders its free plan allows in %s; agents can buy here again "+
			"once the merchant chooses a paid plan in the acpbridge app. Nothing was created or charged.",
			s.plan.FreeOrders, from.Format("January 2006"))}
}

// currentPlan is the shop's stored plan, read again from Shopify when
// stale; when Shopify cannot be read, a stored active plan is trusted
// still, and without one the caller is told to retry.
func (s *Service) currentPlan(ctx context.Context, sh *app.Shop) (*PlanState, error) {
	p, err := s.store.ShopPlan(ctx, sh.ID)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	fresh := inactiveFresh
	if p.Active() {
		fresh = activeFresh
	}
	// Uninstalling cancels the app's subscriptions: a plan read before
	// the shop's latest install says nothing of it.
	if p != nil && s.now().Sub(p.CheckedAt) < fresh && !p.CheckedAt.Before(sh.InstalledAt) {
		return p, nil
	}
	np, err := s.Refresh(ctx, sh)
	if err == nil {
		return np, nil
	}
	if p.Active() {
		s.logger.WarnContext(ctx, "billing: reading the plan failed; the stored active plan is trusted", "shop", sh.Domain, "err", err)
		return p, nil
	}
	return nil, &app.Error{Code: app.CodeUnavailable, RetryAfter: 30 * time.Second,
		Message: "the store's plan could not be checked with Shopify; try again shortly"}
}

// Refresh reads the shop's active subscription from Shopify's
// currentAppInstallation and stores it (the return URL's confirmation, and
// the gate's check of a stale plan).
func (s *Service) Refresh(ctx context.Context, sh *app.Shop) (*PlanState, error) {
	subs, err := shopify.ActiveSubscriptions(ctx, s.q, sh.Domain)
	if err != nil {
		return nil, fmt.Errorf("refresh plan of %s: %w", sh.Domain, err)
	}
	p := &PlanState{ShopID: sh.ID, CheckedAt: s.now().UTC()}
	for _, sub := range subs {
		if sub.Status != "ACTIVE" || p.SubscriptionID != "" && sub.UsageLineItemID == "" {
			continue // the first active one, preferring one with a usage line item
		}
		p.SubscriptionID, p.Name, p.Status, p.Test, p.PeriodEnd = sub.ID, sub.Name, sub.Status, sub.Test, sub.CurrentPeriodEnd
		p.Recurring, p.UsageCap, p.UsageUsed, p.Currency = "", "", "", ""
		if sub.Recurring != nil {
			p.Recurring, p.Currency = cents(sub.Recurring.Amount), sub.Recurring.Currency
		}
		p.UsageLineItemID = sub.UsageLineItemID
		if sub.UsageCap != nil {
			p.UsageCap, p.Currency = cents(sub.UsageCap.Amount), sub.UsageCap.Currency
		}
		if sub.UsageUsed != nil {
			p.UsageUsed = cents(sub.UsageUsed.Amount)
		}
	}
	if err := s.store.SaveShopPlan(ctx, p); err != nil {
		return nil, fmt.Errorf("save plan: %w", err)
	}
	return p, nil
}

// Upgrade asks Shopify for the paid plan and returns the confirmationUrl
// where the merchant approves it; Shopify then sends the merchant to
// returnURL.
func (s *Service) Upgrade(ctx context.Context, sh *app.Shop, returnURL string) (string, error) {
	if !s.plan.Enabled() {
		return "", &app.Error{Code: app.CodeConflict, Message: "billing is off on this server: there is no plan to choose"}
	}
	_, confirm, err := shopify.CreateSubscription(ctx, s.q, sh.Domain, shopify.SubscriptionPlan{
		Name: s.plan.Name, ReturnURL: returnURL, Test: s.plan.Test,
		Recurring:  shopify.Money{Amount: s.plan.Recurring, Currency: s.plan.Currency},
		UsageCap:   &shopify.Money{Amount: s.plan.UsageCap, Currency: s.plan.Currency},
		UsageTerms: s.plan.Terms(),
	})
	var ue *shopify.UserErrorsError
	if errors.As(err, &ue) {
		return "", &app.Error{Code: app.CodeUnprocessable, Message: "Shopify refused the plan: " + ue.Error()}
	}
	if err != nil {
		return "", fmt.Errorf("upgrade %s: %w", sh.Domain, err)
	}
	return confirm, nil
}

// Usage is a shop's billing month as the admin shows it.
type Usage struct {
	Month      time.Time // its first instant (UTC)
	Orders     int       // agent orders this month
	FreeOrders int
	Plan       Plan
	Current    *PlanState // nil: never read
	Enabled    bool
}

// OverFreeTier reports whether the month's orders used the free tier up.
func (u *Usage) OverFreeTier() bool { return u.Enabled && u.Orders >= u.FreeOrders }

// Usage reads the shop's month: its orders and its plan as stored.
func (s *Service) Usage(ctx context.Context, sh *app.Shop) (*Usage, error) {
	from, to := monthOf(s.now())
	u := &Usage{Month: from, FreeOrders: s.plan.FreeOrders, Plan: s.plan, Enabled: s.plan.Enabled()}
	var err error
	if u.Orders, err = s.store.CountBillingOrders(ctx, sh.ID, from, to, false, 0); err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	if u.Current, err = s.store.ShopPlan(ctx, sh.ID); err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	return u, nil
}

// cents writes a Decimal as Shopify sends it ("19.0") with two decimals
// ("19.00"), as merchants read money; anything else is kept as it is.
func cents(amount string) string {
	whole, frac, _ := strings.Cut(amount, ".")
	if whole == "" || len(frac) > 2 || strings.Trim(whole+frac, "0123456789") != "" {
		return amount
	}
	return whole + "." + frac + strings.Repeat("0", 2-len(frac))
}
