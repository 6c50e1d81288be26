package web

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feeds"
)

// FeedService is the part of feeds.Service the feed routes call.
type FeedService interface {
	OpenFeed(ctx context.Context, shop, token, format string) (*feeds.ServedFeed, error)
	CopyFeed(ctx context.Context, sf *feeds.ServedFeed, w io.Writer) error
}

// feedFiles maps URL file names to formats.
var feedFiles = map[string]string{
	"products.jsonl.gz": "jsonl.gz",
	"products.csv.gz":   "csv.gz",
	"products.tsv.gz":   "tsv.gz",
}

// handleFeed serves a shop's published feed file to agents and the
// merchant: bearer token, strong ETag (the file's SHA-256) and
// Last-Modified, so an unchanged feed costs a 304.
func (s *Server) handleFeed(c echo.Context) error {
	format, ok := feedFiles[c.Param("file")]
	if !ok {
		return &app.Error{Code: app.CodeNotFound, Message: "no such feed file; use products.jsonl.gz, products.csv.gz or products.tsv.gz"}
	}
	token, _ := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	sf, err := s.feeds.OpenFeed(c.Request().Context(), c.Param("shop"), token, format)
	if err != nil {
		if app.ErrorCode(err) == app.CodeUnauthorized {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="acpbridge feed"`)
		}
		return err
	}
	h := c.Response().Header()
	etag := `"` + sf.File.SHA256 + `"`
	modified := sf.Modified.UTC().Truncate(time.Second)
	h.Set("ETag", etag)
	h.Set(echo.HeaderLastModified, modified.Format(http.TimeFormat))
	h.Set("Cache-Control", "private, no-cache")
	req := c.Request()
	if inm := req.Header.Get("If-None-Match"); inm != "" {
		if inm == etag || inm == "*" {
			return c.NoContent(http.StatusNotModified)
		}
	} else if ims, err := http.ParseTime(req.Header.Get("If-Modified-Since")); err == nil && !modified.After(ims) {
		return c.NoContent(http.StatusNotModified)
	}
	h.Set(echo.HeaderContentType, "application/gzip")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+c.Param("file")+`"`)
	h.Set(echo.HeaderContentLength, itoa(sf.File.Bytes))
	c.Response().WriteHeader(http.StatusOK)
	if req.Method == http.MethodHead {
		return nil
	}
	// Headers are sent: a failure now can only cut the body short, which
	// the client sees against Content-Length.
	if err := s.feeds.CopyFeed(req.Context(), sf, c.Response()); err != nil {
		s.logger.WarnContext(req.Context(), "feed download interrupted", "err", err)
	}
	return nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
