package shops_test

import (
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/config"

	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// TestShopifyAppTOMLMatchesCode keeps shopify.app.toml, which Shopify acts
// on, equal to what the code expects: scopes, webhook topics, API version.
func TestShopifyAppTOMLMatchesCode(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../shopify.app.toml")
	if err != nil {
		t.Fatal(err)
	}
	toml := string(b)

	scopes := regexp.MustCompile(`(?m)^scopes = "([^"]*)"`).FindStringSubmatch(toml)
	if scopes == nil || scopes[1] != config.DefaultScopes {
		t.Errorf("toml scopes %q != DefaultScopes %q", scopes, config.DefaultScopes)
	}
	// optional_scopes is an array of strings (the Shopify CLI's schema),
	// equal to OptionalScopes, and shares no scope with the required ones.
	opt := regexp.MustCompile(`(?m)^optional_scopes = \[([^\]]*)\]`).FindStringSubmatch(toml)
	var optional []string
	if opt != nil {
		for _, m := range regexp.MustCompile(`"([a-z_]+)"`).FindAllStringSubmatch(opt[1], -1) {
			optional = append(optional, m[1])
		}
	}
	if strings.Join(optional, ",") != config.OptionalScopes {
		t.Errorf("toml optional_scopes %v != OptionalScopes %q", optional, config.OptionalScopes)
	}
	for _, o := range optional {
		if slices.Contains(strings.Split(config.DefaultScopes, ","), o) {
			t.Errorf("%s is both required and optional", o)
		}
	}
	// Every optional feature's scope is an optional scope, and every
	// optional scope serves a feature.
	var featureScopes []string
	for _, f := range app.OptionalFeatures {
		featureScopes = append(featureScopes, f.Scope)
	}
	slices.Sort(featureScopes)
	if strings.Join(slices.Compact(featureScopes), ",") != strings.Join(slices.Sorted(slices.Values(optional)), ",") {
		t.Errorf("app.OptionalFeatures need %v, optional_scopes are %v", featureScopes, optional)
	}
	ver := regexp.MustCompile(`(?m)^api_version = "([^"]*)"`).FindStringSubmatch(toml)
	if ver == nil || ver[1] != shopify.APIVersion {
		t.Errorf("toml api_version %v != shopify.APIVersion %s", ver, shopify.APIVersion)
	}
	var topics []string
	for _, m := range regexp.MustCompile(`"([a-z_]+/[a-z_]+)"`).FindAllStringSubmatch(toml, -1) {
		topics = append(topics, m[1])
	}
	want := slices.Clone(shops.WebhookTopics)
	slices.Sort(topics)
	slices.Sort(want)
	if strings.Join(topics, ",") != strings.Join(want, ",") {
		t.Errorf("toml topics %v\n  != shops.WebhookTopics %v", topics, want)
	}
	if n := strings.Count(toml, `uri = "/webhooks/shopify"`); n != 3 {
		t.Errorf("%d subscriptions point at /webhooks/shopify, want 3", n)
	}
	// The subscriptions' filters, by topic, are WebhookFilters.
	filters := map[string]string{}
	for _, block := range strings.Split(toml, "[[webhooks.subscriptions]]")[1:] {
		f := regexp.MustCompile(`(?m)^\s*filter = "([^"]*)"`).FindStringSubmatch(block)
		if f == nil {
			continue
		}
		for _, m := range regexp.MustCompile(`"([a-z_]+/[a-z_]+)"`).FindAllStringSubmatch(block, -1) {
			filters[m[1]] = f[1]
		}
	}
	if !maps.Equal(filters, shops.WebhookFilters) {
		t.Errorf("toml filters %v\n  != shops.WebhookFilters %v", filters, shops.WebhookFilters)
	}
	if want := "note_attributes.name:" + checkout.HandoffAttribute; shops.HandoffOrderFilter != want {
		t.Errorf("HandoffOrderFilter %q, want %q (the handoff's note attribute)", shops.HandoffOrderFilter, want)
	}
}
