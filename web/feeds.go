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
	OpenFeed(ctx context.Context, shop, token, file string) (*feeds.ServedFeed, error)
	CopyFeed(ctx context.Context, sf *feeds.ServedFeed, w io.Writer) error
}

// handleFeed serves a shop's published feed file to agents and the
// merchant: products.jsonl.gz, .csv.gz, .tsv.gz, and the Parquet shard set
// (products-manifest.json and the shards it lists, such as
// products-00001-of-00002.parquet). Bearer token, strong ETag (the file's
// SHA-256) and Last-Modified, so an unchanged file costs a 304.
func (s *Server) handleFeed(c echo.Context) error {
	token, _ := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
	sf, err := s.feeds.OpenFeed(c.Request().Context(), c.Param("shop"), token, c.Param("file"))
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
	h.Set(echo.HeaderContentType, sf.ContentType)
	h.Set(echo.HeaderContentDisposition, `attachment; filename="`+sf.Name+`"`)
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
