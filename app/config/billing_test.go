package config

import (
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app/billing"
)

func TestLoadBilling(t *testing.T) {
	t.Parallel()
	def := billing.Plan{FreeOrders: 50, Name: "acpbridge Growth", Currency: "USD", Recurring: "19.00", PerOrder: "0.25", UsageCap: "100.00"}
	for _, tt := range []struct {
		name string
		env  map[string]string
		want billing.Plan
		bad  string // the variable an error must name; "" none
	}{
		{"defaults", nil, def, ""},
		{"set", map[string]string{"BILLING_FREE_ORDERS": "5", "BILLING_PLAN_NAME": "Pro", "BILLING_RECURRING_PRICE": "0",
			"BILLING_ORDER_PRICE": "0.5", "BILLING_USAGE_CAP": "20", "BILLING_CURRENCY": "EUR", "BILLING_TEST": "true"},
			billing.Plan{FreeOrders: 5, Name: "Pro", Currency: "EUR", Recurring: "0", PerOrder: "0.5", UsageCap: "20", Test: true}, ""},
		{"off", map[string]string{"BILLING_FREE_ORDERS": "-1"}, func() billing.Plan { p := def; p.FreeOrders = -1; return p }(), ""},
		{"free orders", map[string]string{"BILLING_FREE_ORDERS": "-2"}, def, "BILLING_FREE_ORDERS"},
		{"three decimals", map[string]string{"BILLING_ORDER_PRICE": "0.255"}, def, "BILLING_ORDER_PRICE"},
		{"zero per order", map[string]string{"BILLING_ORDER_PRICE": "0.00"}, def, "BILLING_ORDER_PRICE"},
		{"zero cap", map[string]string{"BILLING_USAGE_CAP": "0"}, def, "BILLING_USAGE_CAP"},
		{"negative fee", map[string]string{"BILLING_RECURRING_PRICE": "-1"}, def, "BILLING_RECURRING_PRICE"},
		{"currency", map[string]string{"BILLING_CURRENCY": "usd"}, def, "BILLING_CURRENCY"},
		{"test flag", map[string]string{"BILLING_TEST": "yes"}, def, "BILLING_TEST"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Load(env(tt.env))
			if tt.bad != "" {
				if err == nil || !strings.Contains(err.Error(), tt.bad) {
					t.Fatalf("err = %v, want one naming %s", err, tt.bad)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Billing != tt.want {
				t.Errorf("Billing = %+v, want %+v", cfg.Billing, tt.want)
			}
		})
	}
}
