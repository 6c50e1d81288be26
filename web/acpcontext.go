package web

import (
	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/acp"
)

// ctxACPVersion is where an ACP handler leaves the negotiated version, so
// that the error handler answers in that version's error shape.
const ctxACPVersion = "acp.version"

// acpVersion is the request's negotiated ACP version ("" before negotiation).
func acpVersion(c echo.Context) acp.Version {
	v, _ := c.Get(ctxACPVersion).(acp.Version)
	return v
}
