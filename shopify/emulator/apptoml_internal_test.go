package emulator

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestAppTOMLTopicsInAdminSchema checks what `shopify app deploy` checks on
// Shopify's side and the CLI cannot check locally (scripts/check-app-toml runs
// the CLI's local checks): every webhook topic shopify.app.toml subscribes to
// exists in the Admin API version it names, as a WebhookSubscriptionTopic
// value ("orders/paid" is ORDERS_PAID), and is not deprecated there.
// Compliance topics are not in that enum; they are checked by name.
func TestAppTOMLTopicsInAdminSchema(t *testing.T) {
	b, err := os.ReadFile("../../shopify.app.toml")
	if err != nil {
		t.Fatal(err)
	}
	schema, err := adminSchema()
	if err != nil {
		t.Fatal(err)
	}
	enum := schema.Types["WebhookSubscriptionTopic"]
	if enum == nil || len(enum.EnumValues) < 100 {
		t.Fatalf("WebhookSubscriptionTopic missing from the schema (%v)", enum)
	}
	toml := string(b)
	blocks := regexp.MustCompile(`(?s)\n\s*topics = \[(.*?)\]`).FindAllStringSubmatch(toml, -1)
	if blocks == nil {
		t.Fatal("no topics = [...] in shopify.app.toml")
	}
	var topics [][]string
	for _, b := range blocks {
		topics = append(topics, regexp.MustCompile(`"([a-z_]+/[a-z_]+)"`).FindAllStringSubmatch(b[1], -1)...)
	}
	if len(topics) < 10 {
		t.Fatalf("found %d topics, want the app's ≥ 10", len(topics))
	}
	for _, m := range topics {
		name := strings.ToUpper(strings.ReplaceAll(m[1], "/", "_"))
		v := enum.EnumValues.ForName(name)
		switch {
		case v == nil:
			t.Errorf("topic %q: %s is not a WebhookSubscriptionTopic in this API version", m[1], name)
		case v.Directives.ForName("deprecated") != nil:
			t.Errorf("topic %q is deprecated in this API version", m[1])
		}
	}
	// Every filter is one the emulator reads (filter.go), as Shopify
	// would apply it.
	for _, f := range regexp.MustCompile(`(?m)^\s*filter = "([^"]*)"`).FindAllStringSubmatch(toml, -1) {
		if _, err := parseWebhookFilter(f[1]); err != nil {
			t.Errorf("filter %q: %v", f[1], err)
		}
	}
	compliance := regexp.MustCompile(`compliance_topics = \[([^\]]*)\]`).FindStringSubmatch(toml)
	if compliance == nil {
		t.Fatal("no compliance_topics in shopify.app.toml")
	}
	got := regexp.MustCompile(`"([a-z_/]+)"`).FindAllStringSubmatch(compliance[1], -1)
	want := map[string]bool{"customers/data_request": true, "customers/redact": true, "shop/redact": true}
	if len(got) != len(want) {
		t.Errorf("compliance_topics %q, want the three mandatory ones", compliance[1])
	}
	for _, m := range got {
		if !want[m[1]] {
			t.Errorf("compliance topic %q is not one of Shopify's three", m[1])
		}
	}
}
