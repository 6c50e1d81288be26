package service_test

import (
	"context"
	"html"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/merchant"
)

// TestAdminCompletionMethod: under custom distribution the merchant
// switches between Shopify's checkout and delegated payment from the
// settings page's API, and the page, the agents API and the checklist
// follow (Shopify's checkout: no Stripe step, the payment step done);
// under App Store distribution (a replica on the same database) the
// method is Shopify's checkout whatever is stored, delegated payment is
// refused with the reason, and the page says why instead of a form.
func TestAdminCompletionMethod(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite) // custom distribution, Stripe connected
	ctx := context.Background()
	steps := func(adm *merchant.Admin) map[string]merchant.ChecklistStep {
		t.Helper()
		ov, err := adm.Overview(ctx, e.sh)
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]merchant.ChecklistStep{}
		for _, s := range ov.Steps {
			m[s.Key] = s
		}
		return m
	}
	method := func(out map[string]any) map[string]any {
		m, _ := out["completion_method"].(map[string]any)
		return m
	}
	c := newAdminClient(t, e)

	_, _, body := c.page("/admin/settings", nil)
	if !strings.Contains(body, `data-method="delegated_payment"`) || !strings.Contains(body, `data-api="/api/agents/completion-method"`) ||
		!strings.Contains(body, "Replace and verify") {
		t.Fatalf("settings page, delegated payment:\n%s", grep(body, "method"))
	}
	if s := steps(e.svc.Admin()); !s["stripe"].Done || s["payment"].Key != "" {
		t.Fatalf("checklist, delegated payment: %+v", s)
	}

	for _, body := range []string{`{"completion_method":"paypal"}`, `{}`, `{"completion_method":"shopify_checkout","x":1}`} {
		if status, out := c.api("POST", "/api/agents/completion-method", body, testShop); status != 400 ||
			(body != `{"completion_method":"shopify_checkout","x":1}` && out["param"] != "completion_method") {
			t.Errorf("POST %s: %d %v", body, status, out)
		}
	}
	if status, _ := c.api("POST", "/api/agents/completion-method", `{"completion_method":"shopify_checkout"}`, ""); status != 401 {
		t.Errorf("without an ID token: %d", status)
	}
	status, out := c.api("POST", "/api/agents/completion-method", `{"completion_method":"shopify_checkout"}`, testShop)
	if m := method(out); status != 200 || m["method"] != "shopify_checkout" || m["switchable"] != true {
		t.Fatalf("switch to Shopify checkout: %d %v", status, out)
	}
	if status, out := c.api("GET", "/api/agents", "", testShop); status != 200 || method(out)["method"] != "shopify_checkout" {
		t.Errorf("GET /api/agents after switching: %d %v", status, out)
	}
	_, _, body = c.page("/admin/settings", nil)
	if !strings.Contains(body, `data-method="shopify_checkout"`) || !strings.Contains(body, `<s-choice value="shopify_checkout" selected>`) ||
		strings.Contains(body, "/api/agents/stripe") {
		t.Errorf("settings page, Shopify checkout (no Stripe key step):\n%s", grep(body, "method"))
	}
	s := steps(e.svc.Admin())
	if p := s["payment"]; !p.Done || p.Title != "Buyers pay in Shopify's checkout" || s["stripe"].Key != "" {
		t.Errorf("checklist, Shopify checkout: %+v", s)
	}
	if set, err := e.svc.Agents().Settings(ctx, e.sh.ID); err != nil || set.CompletionMethod != app.CompletionShopifyCheckout || set.Payment == nil {
		t.Errorf("settings after switching (the Stripe account stays connected): %+v, %v", set, err)
	}
	status, out = c.api("POST", "/api/agents/completion-method", `{"completion_method":"delegated_payment"}`, testShop)
	if status != 200 || method(out)["method"] != "delegated_payment" {
		t.Fatalf("switch back to delegated payment: %d %v", status, out)
	}

	// App Store distribution, on the same database: the stored
	// delegated_payment is not the method in use.
	like := *e.shopifyEnv
	like.cfg.Distribution = app.DistributionAppStore
	store := &checkoutEnv{shopifyEnv: newShopifyEnvOn(t, e.cfg.Database, &like), sh: e.sh, key: e.key}
	sc := newAdminClient(t, store)
	status, out = sc.api("POST", "/api/agents/completion-method", `{"completion_method":"delegated_payment"}`, testShop)
	if status != 409 || out["code"] != "completion_method_not_allowed" || out["param"] != "completion_method" || out["message"] != app.CompletionMethodReason {
		t.Errorf("delegated payment under App Store distribution: %d %v", status, out)
	}
	status, out = sc.api("GET", "/api/agents", "", testShop)
	if m := method(out); status != 200 || m["method"] != "shopify_checkout" || m["switchable"] != false || m["reason"] != app.CompletionMethodReason {
		t.Errorf("GET /api/agents under App Store distribution: %d %v", status, out)
	}
	_, _, body = sc.page("/admin/settings", nil)
	if !strings.Contains(body, `data-method="shopify_checkout"`) || !strings.Contains(html.UnescapeString(body), app.CompletionMethodReason) ||
		strings.Contains(body, "/api/agents/completion-method") || strings.Contains(body, "/api/agents/stripe") {
		t.Errorf("settings page under App Store distribution:\n%s", grep(body, "method"))
	}
	s = steps(store.svc.Admin())
	if p := s["payment"]; !p.Done || !strings.Contains(p.Detail, app.CompletionMethodReason) || s["stripe"].Key != "" {
		t.Errorf("checklist under App Store distribution: %+v", s)
	}
	if cm, err := e.svc.Agents().CompletionMethod(ctx, e.sh.ID); err != nil || cm.Method != app.CompletionDelegatedPayment {
		t.Errorf("the stored choice under custom distribution: %+v, %v", cm, err)
	}
}
