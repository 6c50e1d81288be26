package config

import (
	"regexp"
	"strconv"

	"github.com/acpbridge/acpbridge/app/billing"
)

// The pricing's defaults (README, Billing): 50 free agent orders a
// calendar month, then a plan of USD 19.00 every 30 days plus USD 0.25 per
// agent order past the free tier, usage capped at USD 100.00 per 30 days.
const (
	DefaultBillingFreeOrders = 50
	DefaultBillingPlanName   = "acpbridge Growth"
	DefaultBillingRecurring  = "19.00"
	DefaultBillingPerOrder   = "0.25"
	DefaultBillingUsageCap   = "100.00"
	DefaultBillingCurrency   = "USD"
)

// billingAmount is a positive decimal amount with at most two decimals.
var billingAmount = regexp.MustCompile(`^[0-9]{1,6}(\.[0-9]{1,2})?$`)

// currencyCode is an ISO 4217 code.
var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// readBilling reads the pricing: BILLING_FREE_ORDERS (agent orders a shop
// gets each month without a plan; -1 turns billing off), BILLING_PLAN_NAME,
// BILLING_RECURRING_PRICE, BILLING_ORDER_PRICE, BILLING_USAGE_CAP,
// BILLING_CURRENCY and BILLING_TEST (Shopify test charges, for
// development stores).
func readBilling(cfg *Config, env configEnv, bad configComplaint) {
	p := billing.Plan{FreeOrders: DefaultBillingFreeOrders, Name: DefaultBillingPlanName, Currency: DefaultBillingCurrency,
		Recurring: DefaultBillingRecurring, PerOrder: DefaultBillingPerOrder, UsageCap: DefaultBillingUsageCap}
	if raw := env("BILLING_FREE_ORDERS"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < -1 || n > 1_000_000 {
			bad("BILLING_FREE_ORDERS", "expected the agent orders a shop gets free each month, from 0 to 1000000, or -1 to turn billing off; got %q", raw)
		} else {
			p.FreeOrders = n
		}
	}
	if raw := env("BILLING_PLAN_NAME"); raw != "" {
		if len(raw) > 255 {
			bad("BILLING_PLAN_NAME", "expected at most 255 characters")
		} else {
			p.Name = raw
		}
	}
	for _, a := range []struct {
		name string
		dst  *string
	}{{"BILLING_RECURRING_PRICE", &p.Recurring}, {"BILLING_ORDER_PRICE", &p.PerOrder}, {"BILLING_USAGE_CAP", &p.UsageCap}} {
		raw := env(a.name)
		if raw == "" {
			continue
		}
		if !billingAmount.MatchString(raw) {
			bad(a.name, "expected an amount such as 19.00 (at most two decimals); got %q", raw)
			continue
		}
		*a.dst = raw
	}
	if amt, err := strconv.ParseFloat(p.PerOrder, 64); err == nil && amt <= 0 {
		bad("BILLING_ORDER_PRICE", "expected an amount above 0; got %q", p.PerOrder)
	}
	if amt, err := strconv.ParseFloat(p.UsageCap, 64); err == nil && amt <= 0 {
		bad("BILLING_USAGE_CAP", "expected an amount above 0; got %q", p.UsageCap)
	}
	if raw := env("BILLING_CURRENCY"); raw != "" {
		if !currencyCode.MatchString(raw) {
			bad("BILLING_CURRENCY", "expected a three-letter currency code such as USD; got %q", raw)
		} else {
			p.Currency = raw
		}
	}
	if raw := env("BILLING_TEST"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			bad("BILLING_TEST", "expected true or false; got %q", raw)
		}
		p.Test = b
	}
	cfg.Billing = p
}
