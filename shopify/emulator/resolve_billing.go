package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
)

// This file is the Billing API: appSubscriptionCreate (a PENDING
// subscription and its confirmationUrl, billing_page.go's approval page),
// appUsageRecordCreate (a charge against an ACTIVE subscription's usage
// line item, refused over its cap, idempotent by idempotencyKey) and
// currentAppInstallation's activeSubscriptions. Billing needs no access
// scope, as on Shopify.

// billingBook is one shop's app subscriptions.
type billingBook struct {
	subs   []*AppSubscription
	nextID int64
}

// AppSubscription is an app subscription on the emulated shop.
type AppSubscription struct {
	ID, LineRecurringID, LineUsageID int64
	Name, ReturnURL, Status          string
	Test                             bool
	TrialDays                        int
	CreatedAt                        time.Time
	// RecurringCents (-1: no recurring line item), UsageCapCents (-1: no
	// usage line item), UsageTerms.
	RecurringCents, UsageCapCents int64
	UsageTerms                    string
	Records                       []*UsageRecord
	token                         string // the confirmation page's
}

// UsageRecord is a charge against a usage line item.
type UsageRecord struct {
	ID                          int64
	Description, IdempotencyKey string
	Cents                       int64
	CreatedAt                   time.Time
}

// usedCents is what the usage records charged so far.
func (a *AppSubscription) usedCents() int64 {
	var n int64
	for _, r := range a.Records {
		n += r.Cents
	}
	return n
}

func registerBillingResolvers(r *registry) {
	r.addMutation("appSubscriptionCreate", "", resolveAppSubscriptionCreate)
	r.addMutation("appUsageRecordCreate", "", resolveAppUsageRecordCreate)
}

func (b *billingBook) id() int64 {
	b.nextID++
	return b.nextID
}

func billingUserError(msg string, field ...string) map[string]any {
	f := any(nil)
	if len(field) > 0 {
		list := make([]any, len(field))
		for i, s := range field {
			list[i] = s
		}
		f = list
	}
	return map[string]any{"field": f, "message": msg}
}

func resolveAppSubscriptionCreate(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	fail := func(msg string, field ...string) (any, error) {
		return map[string]any{"appSubscription": nil, "confirmationUrl": nil,
			"userErrors": []any{billingUserError(msg, field...)}}, nil
	}
	b := &x.shop.billing
	a := &AppSubscription{Name: stringArg(args, "name"), ReturnURL: stringArg(args, "returnUrl"), Status: "PENDING",
		Test: boolArg(args, "test"), CreatedAt: x.e.now(), RecurringCents: -1, UsageCapCents: -1}
	a.TrialDays, _ = intArg(args, "trialDays")
	if a.Name == "" {
		return fail("Name can't be blank", "name")
	}
	items, _ := args["lineItems"].([]any)
	if len(items) == 0 {
		return fail("Line items can't be blank", "lineItems")
	}
	for _, it := range items {
		m, _ := it.(map[string]any)
		plan, _ := m["plan"].(map[string]any)
		rec, _ := plan["appRecurringPricingDetails"].(map[string]any)
		use, _ := plan["appUsagePricingDetails"].(map[string]any)
		switch {
		case rec != nil && use == nil && a.RecurringCents < 0:
			price, _ := rec["price"].(map[string]any)
			cents, err := moneyInput(price)
			if err != nil {
				return fail(err.Error(), "lineItems", "plan", "appRecurringPricingDetails", "price")
			}
			a.RecurringCents = cents
		case use != nil && rec == nil && a.UsageCapCents < 0:
			capped, _ := use["cappedAmount"].(map[string]any)
			cents, err := moneyInput(capped)
			if err != nil || cents <= 0 {
				return fail("Capped amount must be greater than 0", "lineItems", "plan", "appUsagePricingDetails", "cappedAmount")
			}
			a.UsageCapCents, a.UsageTerms = cents, stringArg(use, "terms")
		default:
			return fail("Only one pricing plan can be defined for each available type", "lineItems")
		}
	}
	a.ID = b.id()
	if a.RecurringCents >= 0 {
		a.LineRecurringID = b.id()
	}
	if a.UsageCapCents >= 0 {
		a.LineUsageID = b.id()
	}
	var tok [12]byte
	_, _ = rand.Read(tok[:])
	a.token = hex.EncodeToString(tok[:])
	b.subs = append(b.subs, a)
	return map[string]any{"appSubscription": x.appSubscriptionNode(a),
		"confirmationUrl": x.e.billingURL(x.shop.domain, a.token), "userErrors": []any{}}, nil
}

func resolveAppUsageRecordCreate(x *execution, _ *ast.Field, args map[string]any) (any, error) {
	fail := func(msg string, field ...string) (any, error) {
		return map[string]any{"appUsageRecord": nil, "userErrors": []any{billingUserError(msg, field...)}}, nil
	}
	line, ok := parseGID(stringArg(args, "subscriptionLineItemId"), "AppSubscriptionLineItem")
	var a *AppSubscription
	for _, s := range x.shop.billing.subs {
		if ok && s.LineUsageID == line {
			a = s
		}
	}
	if a == nil {
		return fail("Subscription line item not found", "subscriptionLineItemId")
	}
	if a.Status != "ACTIVE" {
		return fail("The app subscription is not active", "subscriptionLineItemId")
	}
	key := stringArg(args, "idempotencyKey")
	if len(key) > 255 {
		return fail("Idempotency key is too long (maximum is 255 characters)", "idempotencyKey")
	}
	if key != "" {
		// Shopify answers a repeated key with the first call's record, for
		// the shop and the app (whatever the line item): no new charge.
		for _, s := range x.shop.billing.subs {
			for _, r := range s.Records {
				if r.IdempotencyKey == key {
					return map[string]any{"appUsageRecord": x.usageRecordNode(s, r), "userErrors": []any{}}, nil
				}
			}
		}
	}
	price, _ := args["price"].(map[string]any)
	cents, err := moneyInput(price)
	if err != nil || cents <= 0 {
		return fail("Price must be greater than 0", "price")
	}
	if a.usedCents()+cents > a.UsageCapCents {
		return fail("Total price exceeds balance remaining", "price")
	}
	r := &UsageRecord{ID: x.shop.billing.id(), Description: stringArg(args, "description"), IdempotencyKey: key,
		Cents: cents, CreatedAt: x.e.now()}
	a.Records = append(a.Records, r)
	return map[string]any{"appUsageRecord": x.usageRecordNode(a, r), "userErrors": []any{}}, nil
}

// activeSubscriptionNodes are currentAppInstallation.activeSubscriptions
// (resolveAppInstallation in resolve_shop.go answers the rest).
func (x *execution) activeSubscriptionNodes() []any {
	active := []any{}
	for _, a := range x.shop.billing.subs {
		if a.Status == "ACTIVE" {
			active = append(active, x.appSubscriptionNode(a))
		}
	}
	return active
}

func (x *execution) appSubscriptionNode(a *AppSubscription) map[string]any {
	var periodEnd any
	if a.Status == "ACTIVE" {
		periodEnd = dateTime(a.CreatedAt.Add(30 * 24 * time.Hour))
	}
	var lines []any
	if a.RecurringCents >= 0 {
		lines = append(lines, map[string]any{"id": gid("AppSubscriptionLineItem", a.LineRecurringID),
			"plan": map[string]any{"pricingDetails": map[string]any{"__typename": "AppRecurringPricing",
				"interval": "EVERY_30_DAYS", "price": moneyV2(a.RecurringCents), "planHandle": nil, "discount": nil}}})
	}
	if a.UsageCapCents >= 0 {
		lines = append(lines, x.usageLineNode(a))
	}
	return map[string]any{"__typename": "AppSubscription", "id": gid("AppSubscription", a.ID), "name": a.Name,
		"status": a.Status, "test": a.Test, "trialDays": a.TrialDays, "returnUrl": a.ReturnURL,
		"createdAt": dateTime(a.CreatedAt), "currentPeriodEnd": periodEnd, "lineItems": nonNilList(lines)}
}

func (x *execution) usageLineNode(a *AppSubscription) map[string]any {
	return map[string]any{"id": gid("AppSubscriptionLineItem", a.LineUsageID),
		"plan": map[string]any{"pricingDetails": map[string]any{"__typename": "AppUsagePricing",
			"interval": "EVERY_30_DAYS", "terms": a.UsageTerms, "cappedAmount": moneyV2(a.UsageCapCents),
			"balanceUsed": moneyV2(a.usedCents())}}}
}

func (x *execution) usageRecordNode(a *AppSubscription, r *UsageRecord) map[string]any {
	return map[string]any{"__typename": "AppUsageRecord", "id": gid("AppUsageRecord", r.ID),
		"description": r.Description, "idempotencyKey": r.IdempotencyKey, "price": moneyV2(r.Cents),
		"createdAt": dateTime(r.CreatedAt), "subscriptionLineItem": x.usageLineNode(a)}
}

// AppSubscriptions returns copies of the shop's app subscriptions, oldest
// first, with their usage records, for test assertions.
func (e *Emulator) AppSubscriptions(shop string) ([]AppSubscription, error) {
	var out []AppSubscription
	err := e.withShop(shop, "app subscriptions", func(s *shopState) {
		for _, a := range s.billing.subs {
			c := *a
			c.Records = nil
			for _, r := range a.Records {
				rc := *r
				c.Records = append(c.Records, &rc)
			}
			out = append(out, c)
		}
	})
	return out, err
}

// decideSubscription approves (ACTIVE, the shop's other active
// subscription cancelled: replacementBehavior STANDARD) or declines a
// PENDING subscription by its confirmation token; it returns the
// subscription's return URL.
func (e *Emulator) decideSubscription(shop, token string, approve bool) (*AppSubscription, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	if s == nil {
		return nil, ErrNotFound
	}
	for _, a := range s.billing.subs {
		if a.token != token || token == "" {
			continue
		}
		if a.Status != "PENDING" {
			return nil, fmt.Errorf("the subscription is %s", a.Status)
		}
		if !approve {
			a.Status = "DECLINED"
			c := *a
			return &c, nil
		}
		for _, o := range s.billing.subs {
			if o.Status == "ACTIVE" {
				o.Status = "CANCELLED"
			}
		}
		a.Status = "ACTIVE"
		c := *a
		return &c, nil
	}
	return nil, ErrNotFound
}
