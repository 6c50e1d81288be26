package app_test

import (
	"testing"

	"github.com/acpbridge/acpbridge/app"
)

func TestDistributionAllowsAndEffective(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d         app.Distribution
		m         app.CompletionMethod
		allows    bool
		effective app.CompletionMethod
	}{
		{app.DistributionAppStore, app.CompletionShopifyCheckout, true, app.CompletionShopifyCheckout},
		{app.DistributionAppStore, app.CompletionDelegatedPayment, false, app.CompletionShopifyCheckout},
		{app.DistributionAppStore, "", false, app.CompletionShopifyCheckout},
		{app.DistributionCustom, app.CompletionDelegatedPayment, true, app.CompletionDelegatedPayment},
		{app.DistributionCustom, "", true, app.CompletionDelegatedPayment},
		{app.DistributionCustom, app.CompletionShopifyCheckout, true, app.CompletionShopifyCheckout},
		{app.DistributionCustom, "carrier_pigeon", false, app.CompletionShopifyCheckout},
	} {
		if got := tt.d.Allows(tt.m); got != tt.allows {
			t.Errorf("%s.Allows(%q) = %v, want %v", tt.d, tt.m, got, tt.allows)
		}
		if got := tt.d.Effective(tt.m); got != tt.effective {
			t.Errorf("%s.Effective(%q) = %q, want %q", tt.d, tt.m, got, tt.effective)
		}
	}
}
