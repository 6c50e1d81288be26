package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/shops"
	"github.com/acpbridge/acpbridge/shopify"
)

// ShopifyService is the part of shops.Shopify the Shopify routes call.
type ShopifyService interface {
	BeginInstall(ctx context.Context, shop string) (redirect, nonce string, err error)
	CompleteInstall(ctx context.Context, q url.Values, cookieNonce string) (*app.Shop, error)
	Authenticate(ctx context.Context, idToken string) (*app.Shop, *shopify.IDTokenClaims, error)
	ReceiveWebhook(ctx context.Context, d shops.WebhookDelivery) (duplicate bool, err error)
}

// HeaderRetryInvalidSession tells App Bridge to fetch a fresh ID token and
// retry, as Shopify's own libraries answer an invalid session.
const HeaderRetryInvalidSession = "X-Shopify-Retry-Invalid-Session-Request"

// handleAuthBegin starts the authorization-code grant (the fallback for
// installs that do not come through Shopify-managed installation).
func (s *Server) handleAuthBegin(c echo.Context) error {
	redirect, nonce, err := s.shopify.BeginInstall(c.Request().Context(), c.QueryParam("shop"))
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name: shops.OAuthStateCookie, Value: nonce, Path: "/auth/callback",
		MaxAge: int(shops.OAuthStateTTL.Seconds()), HttpOnly: true, Secure: s.secureCookies,
		// Lax: the cookie must ride along on Shopify's top-level redirect back.
		SameSite: http.SameSiteLaxMode,
	})
	return c.Redirect(http.StatusFound, redirect)
}

// handleAuthCallback completes the grant and sends the merchant into the app.
func (s *Server) handleAuthCallback(c echo.Context) error {
	var nonce string
	if ck, err := c.Cookie(shops.OAuthStateCookie); err == nil {
		nonce = ck.Value
	}
	sh, err := s.shopify.CompleteInstall(c.Request().Context(), c.QueryParams(), nonce)
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: shops.OAuthStateCookie, Value: "", Path: "/auth/callback", MaxAge: -1,
		HttpOnly: true, Secure: s.secureCookies, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusFound, s.afterInstallURL(sh.Domain))
}

// AdminAppURL is where Shopify admin shows the embedded app for a shop.
func AdminAppURL(clientID string) func(shop string) string {
	return func(shop string) string {
		name := strings.TrimSuffix(shop, ".myshopify.com")
		return "https://admin.shopify.com/store/" + url.PathEscape(name) + "/apps/" + url.PathEscape(clientID)
	}
}

// sessionResponse is what GET /api/session answers.
type sessionResponse struct {
	Shop   string `json:"shop"`
	Name   string `json:"name"`
	Status string `json:"status"`
	Scopes string `json:"scopes"`
}

// handleSession authenticates an embedded-admin request by its App Bridge
// ID token, installing the shop by token exchange when needed.
func (s *Server) handleSession(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sessionResponse{Shop: sh.Domain, Name: sh.Name, Status: string(sh.Status), Scopes: sh.Scopes})
}

// adminShop authenticates an embedded-admin request by its App Bridge ID
// token (Authorization: Bearer), installing the shop by token exchange when
// needed. A refused token also asks App Bridge to retry with a fresh one.
func (s *Server) adminShop(c echo.Context) (*app.Shop, error) {
	token, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	if !ok || token == "" {
		c.Response().Header().Set(HeaderRetryInvalidSession, "1")
		return nil, &app.Error{Code: app.CodeUnauthorized, Field: "Authorization", Message: "an App Bridge ID token is required as Bearer"}
	}
	sh, _, err := s.shopify.Authenticate(c.Request().Context(), token)
	if app.ErrorCode(err) == app.CodeUnauthorized {
		c.Response().Header().Set(HeaderRetryInvalidSession, "1")
	}
	return sh, err
}

// handleWebhook is the one receiver of every Shopify webhook topic. It
// hands the unread body to the app, which refuses a malformed signature
// header or an oversized Content-Length before reading a byte, and reads
// at most app.MaxWebhookBody, computing the HMAC as it reads (the HMAC is
// over these exact bytes). It answers 200 once the delivery is stored.
func (s *Server) handleWebhook(c echo.Context) error {
	r := c.Request()
	h := r.Header
	dup, err := s.shopify.ReceiveWebhook(r.Context(), shops.WebhookDelivery{
		Topic: h.Get("X-Shopify-Topic"), Shop: h.Get("X-Shopify-Shop-Domain"),
		WebhookID: h.Get("X-Shopify-Webhook-Id"), EventID: h.Get("X-Shopify-Event-Id"),
		APIVersion: h.Get("X-Shopify-API-Version"), TriggeredAt: h.Get("X-Shopify-Triggered-At"),
		HMAC: h.Get("X-Shopify-Hmac-Sha256"), Body: r.Body, ContentLength: r.ContentLength,
	})
	if errors.Is(err, shops.ErrWebhookTooLarge) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "webhook body is too large")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]bool{"received": true, "duplicate": dup})
}
