package web

import (
	"context"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/merchant"
)

// The customers' data requests in the embedded admin: Shopify relays a
// customer's request for their data (customers/data_request), the app
// exports what it holds on them, and the merchant downloads the export
// here to hand it over. Both routes sit behind the App Bridge ID token,
// like the admin's other API routes, and see the token's shop only.

// PrivacyAdmin is what the data-request routes call; the admin service
// (merchant.Admin) implements it, and a service without it serves no
// such routes.
type PrivacyAdmin interface {
	DataRequests(ctx context.Context, sh *app.Shop) ([]merchant.DataRequest, error)
	DataRequestExport(ctx context.Context, sh *app.Shop, id int64) ([]byte, error)
}

// The admin service serves the routes in production.
var _ PrivacyAdmin = (*merchant.Admin)(nil)

// privacyRoutes adds the data-request routes (from adminRoutes).
func (s *Server) privacyRoutes() {
	if _, ok := s.admin.(PrivacyAdmin); !ok {
		return
	}
	s.echo.GET("/api/privacy/data-requests", s.handleDataRequests)
	s.echo.GET("/api/privacy/data-requests/:id/export", s.handleDataRequestExport)
}

func (s *Server) handleDataRequests(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	list, err := s.admin.(PrivacyAdmin).DataRequests(c.Request().Context(), sh)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"data_requests": list})
}

// handleDataRequestExport sends the export as a JSON file download. It is
// the customer's personal data: never cached.
func (s *Server) handleDataRequestExport(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return &app.Error{Code: app.CodeNotFound, Field: "id", Message: "no such data request"}
	}
	b, err := s.admin.(PrivacyAdmin).DataRequestExport(c.Request().Context(), sh, id)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Disposition", `attachment; filename="data-request-`+strconv.FormatInt(id, 10)+`.json"`)
	h.Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSONCharsetUTF8, b)
}
