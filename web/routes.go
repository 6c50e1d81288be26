package web

import "github.com/acpbridge/acpbridge/app/checkout"

// routes lists every route of the app. Later capabilities add their groups
// here, so this file is the map of the HTTP surface.
func (s *Server) routes() {
	e := s.echo

	// Operations: liveness, readiness, metrics.
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/metrics", s.handleMetrics)

	// Shopify: install (authorization-code grant), the embedded admin's
	// session (token exchange), and the one webhook receiver.
	// The routes without credentials are limited per client address
	// (iplimit.go), the webhook receiver generously.
	if s.shopify != nil {
		e.GET("/auth", s.handleAuthBegin, s.limitIP(s.ipLimits))
		e.GET("/auth/callback", s.handleAuthCallback, s.limitIP(s.ipLimits))
		e.GET("/api/session", s.handleSession)
		e.POST(WebhookPath, s.handleWebhook, s.limitIP(s.webhookIPLimits))
	}

	// The embedded admin's API (App Bridge ID token on every request).
	if s.shopify != nil && s.catalog != nil {
		e.GET("/api/catalog", s.handleCatalogStatus)
		e.POST("/api/catalog/sync", s.handleSyncNow)
	}

	// The embedded admin's agent settings: keys, signing, webhook, Stripe.
	if s.shopify != nil && s.agentAdmin != nil && s.appURL != nil {
		e.GET("/api/agents", s.handleAgents)
		e.POST("/api/agents/keys", s.handleCreateAPIKey)
		e.DELETE("/api/agents/keys/:id", s.handleRevokeAPIKey)
		e.POST("/api/agents/signing-secret", s.handleSigningSecret)
		e.POST("/api/agents/webhook", s.handleWebhookSettings)
		e.POST("/api/agents/stripe", s.handleConnectStripe)
		e.POST("/api/agents/completion-method", s.handleCompletionMethod)
	}

	// The merchant's embedded admin: pages, the bounce page, static files
	// and the pages' JSON API (admin.go).
	if s.shopify != nil && s.admin != nil && s.agentAdmin != nil && s.appURL != nil {
		s.adminRoutes()
	}

	// The ACP checkout API and discovery document, under each shop's base
	// URL (acp.go).
	if s.checkout != nil && s.acp.Agents != nil {
		s.acpRoutes()
		// The same checkout calls as MCP tools, per shop (mcp.go).
		s.mcpRoutes()
	}

	// The buyer's link to a handoff session's Shopify checkout
	// (continue.go): no credentials but its token.
	if s.cont != nil {
		e.GET(checkout.ContinuePath+":token", s.handleContinue, s.limitIP(s.ipLimits))
		e.POST(checkout.ContinuePath+":token", s.handleContinue, s.limitIP(s.ipLimits))
	}

	// Product feeds: each shop's published files, for agents and the merchant.
	if s.feeds != nil {
		e.GET("/feeds/:shop/:file", s.handleFeed, s.limitIP(s.ipLimits))
		e.HEAD("/feeds/:shop/:file", s.handleFeed, s.limitIP(s.ipLimits))
	}
}

// WebhookPath is where Shopify delivers every webhook topic
// (shopify.app.toml's subscriptions point here).
const WebhookPath = "/webhooks/shopify"
