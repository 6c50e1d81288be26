package service

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/acpbridge/acpbridge/shopify"
)

// ShopifyDeprecations lists what Shopify flagged as deprecated in this
// process's Admin API calls (X-Shopify-API-Deprecated-Reason), by
// operation and reason, with counts.
func (s *Service) ShopifyDeprecations() []shopify.Deprecation { return s.deprecations.Snapshot() }

// deprecationCollector exports the deprecation counts on /metrics. The
// label values are bounded by shopify.Deprecations (64 pairs at most).
type deprecationCollector struct{ d *shopify.Deprecations }

var deprecatedCallsDesc = prometheus.NewDesc("acpbridge_shopify_deprecated_calls_total",
	"Admin API calls whose answer carried X-Shopify-API-Deprecated-Reason, by GraphQL operation and reason (this "+
		"replica). They keep working until the pinned API version ("+shopify.APIVersion+") is retired: see the README's "+
		"upgrade section.", []string{"operation", "reason"}, nil)

// Describe implements prometheus.Collector.
func (c deprecationCollector) Describe(ch chan<- *prometheus.Desc) { ch <- deprecatedCallsDesc }

// Collect implements prometheus.Collector.
func (c deprecationCollector) Collect(ch chan<- prometheus.Metric) {
	for _, d := range c.d.Snapshot() {
		ch <- prometheus.MustNewConstMetric(deprecatedCallsDesc, prometheus.CounterValue, float64(d.Calls), d.Operation, d.Reason)
	}
}
