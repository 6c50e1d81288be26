package service

import "github.com/prometheus/client_golang/prometheus"

// webhookCounter counts Shopify's deliveries by topic and what became of
// them (shops.ShopifyWebhooks.Counted): the ones with nothing left to do
// leave no row in webhook_events, so this is where they are seen. Topics
// are the subscribed ones only (others are refused before), so the labels
// stay few.
func webhookCounter(reg prometheus.Registerer) func(topic, receipt string) {
	received := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "acpbridge_shopify_webhooks_total",
		Help: "Shopify webhook deliveries this replica took, by topic and receipt: processed (done in the request, not stored), " +
			"ignored (order news that asks nothing of the app, not stored), stored (for the request or a job to process), duplicate (a redelivery of a stored one).",
	}, []string{"topic", "receipt"})
	reg.MustRegister(received)
	return func(topic, receipt string) { received.WithLabelValues(topic, receipt).Inc() }
}
