package web

import (
	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// The ACP routes run a chain of middleware: version negotiation, then
// authentication (API key, optional signature), then idempotency, then the
// handler. Each step leaves what it learnt on the echo context under these
// keys, read back through the accessors below.
const (
	ctxACPVersion = "acp.version" // acp.Version negotiated from API-Version
	ctxACPShop    = "acp.shop"    // *app.Shop the API key belongs to
	ctxACPKeyID   = "acp.key_id"  // int64 id of the API key used
)

// acpVersion is the request's negotiated ACP version ("" before negotiation).
func acpVersion(c echo.Context) acp.Version {
	v, _ := c.Get(ctxACPVersion).(acp.Version)
	return v
}

// acpShop is the authenticated shop of an ACP request (nil before auth).
func acpShop(c echo.Context) *app.Shop {
	sh, _ := c.Get(ctxACPShop).(*app.Shop)
	return sh
}

// acpKeyID is the id of the API key that authenticated the request.
func acpKeyID(c echo.Context) int64 {
	id, _ := c.Get(ctxACPKeyID).(int64)
	return id
}
