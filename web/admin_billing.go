package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/billing"
)

// The admin's billing: the overview's banner (this month's agent orders
// against the free tier), the upgrade button, and the plan page, which is
// also where Shopify returns the merchant after they approve or decline
// the plan.
//
// Upgrading follows Shopify's flow for embedded apps: the button posts to
// /api/billing/upgrade, which creates the subscription
// (appSubscriptionCreate) and answers its confirmationUrl; admin.js opens
// it at the top level (window.open with target _top, which App Bridge
// carries out from inside the admin's iframe), since Shopify's approval
// page cannot be framed. Shopify then sends the merchant to the return
// URL, the plan page inside the admin, which reads the subscription back
// from currentAppInstallation and shows it.

// BillingService is the shop's plan (billing.Service).
type BillingService interface {
	Usage(ctx context.Context, sh *app.Shop) (*billing.Usage, error)
	Refresh(ctx context.Context, sh *app.Shop) (*billing.PlanState, error)
	Upgrade(ctx context.Context, sh *app.Shop, returnURL string) (string, error)
}

// BillingPath is the plan page, Shopify's return URL.
const BillingPath = "/admin/billing"

// billingRoutes adds the plan page and the upgrade call (adminRoutes).
func (s *Server) billingRoutes(page func(path string, h echo.HandlerFunc)) {
	if s.billing == nil {
		return
	}
	page(BillingPath, s.handleBillingPage)
	s.echo.POST("/api/billing/upgrade", s.handleBillingUpgrade)
}

// billingUsage is the overview banner's data; nil without billing.
func (s *Server) billingUsage(ctx context.Context, sh *app.Shop) (*billing.Usage, error) {
	if s.billing == nil {
		return nil, nil
	}
	return s.billing.Usage(ctx, sh)
}

// billingContent is the plan page.
type billingContent struct {
	*billing.Usage
	// Returned: Shopify sent the merchant back (charge_id), so the page
	// says whether the plan is now active.
	Returned bool
	// Unconfirmed: Shopify could not be asked; the page shows what was
	// last known.
	Unconfirmed bool
}

// handleBillingPage reads the plan back from Shopify and shows it with the
// month's usage.
func (s *Server) handleBillingPage(c echo.Context) error {
	ctx, sh := c.Request().Context(), pageShop(c)
	content := &billingContent{Returned: c.QueryParam("charge_id") != ""}
	if _, err := s.billing.Refresh(ctx, sh); err != nil {
		s.logger.WarnContext(ctx, "billing page: reading the plan from Shopify failed", "shop", sh.Domain, "err", err)
		content.Unconfirmed = true
	}
	u, err := s.billing.Usage(ctx, sh)
	if err != nil {
		return err
	}
	content.Usage = u
	return s.render(c, http.StatusOK, "billing.html", &pageData{Title: "Plan", Active: "billing", Content: content})
}

// handleBillingUpgrade creates the paid plan's subscription and answers
// where the merchant approves it.
func (s *Server) handleBillingUpgrade(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	confirm, err := s.billing.Upgrade(c.Request().Context(), sh, s.billingReturnURL(c, sh))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"redirect": confirm, "message": "Opening Shopify to approve the plan…"})
}

// billingReturnURL is where Shopify sends the merchant after the approval
// page: the plan page inside the admin (the app's admin URL, e.g.
// https://admin.shopify.com/store/NAME/apps/CLIENT_ID, plus the page's
// path), or, where the admin URL is the app's own (the demo), the page on
// the app opened as embedded.
func (s *Server) billingReturnURL(c echo.Context, sh *app.Shop) string {
	if s.afterInstallURL != nil {
		if u, err := url.Parse(s.afterInstallURL(sh.Domain)); err == nil {
			if u.IsAbs() {
				u.Path = strings.TrimRight(u.Path, "/") + BillingPath
				return u.String()
			}
			u.Path = BillingPath
			return strings.TrimRight(s.appURL(), "/") + u.String()
		}
	}
	q := url.Values{"shop": {sh.Domain}, "embedded": {"1"}}
	if h := c.QueryParam("host"); h != "" && len(h) <= 255 {
		q.Set("host", h)
	}
	return strings.TrimRight(s.appURL(), "/") + BillingPath + "?" + q.Encode()
}
