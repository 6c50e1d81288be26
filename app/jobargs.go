package app

// Job arguments. Each is enqueued by a use-case in this package in the same
// transaction as the rows it concerns; its worker in app/jobs calls back
// into the use-case named in the comment.

// ProcessWebhookArgs processes one stored Shopify webhook delivery
// (Shopify.ProcessWebhook).
type ProcessWebhookArgs struct {
	EventID int64 `json:"event_id"`
}

// Kind implements river.JobArgs.
func (ProcessWebhookArgs) Kind() string { return "shopify_webhook" }

// ShopInstalledArgs does the follow-up of an install: fetch the shop's
// details (Shopify.AfterInstall).
type ShopInstalledArgs struct {
	Shop string `json:"shop"`
}

// Kind implements river.JobArgs.
func (ShopInstalledArgs) Kind() string { return "shop_installed" }
