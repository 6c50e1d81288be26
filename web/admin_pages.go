package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/billing"
	"github.com/acpbridge/acpbridge/app/merchant"
)

// The admin's pages: each reads one thing from the app and renders it.

// overviewContent is the main page.
type overviewContent struct {
	*merchant.Overview
	BaseURL      string
	DiscoveryURL string
	FeedURL      string
	// MCPURL is the shop's MCP server (the same checkout as ACP tools).
	MCPURL string
	// Billing is the month's agent orders and the plan (nil: no billing).
	Billing *billing.Usage
}

func (s *Server) handleOverviewPage(c echo.Context) error {
	sh := pageShop(c)
	ov, err := s.admin.Overview(c.Request().Context(), sh)
	if err != nil {
		return err
	}
	base := ACPBaseURL(s.appURL(), sh.Domain)
	usage, err := s.billingUsage(c.Request().Context(), sh)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "overview.html", &pageData{Title: "Overview", Active: "overview", Content: &overviewContent{
		Overview: ov, BaseURL: base, DiscoveryURL: base + "/.well-known/acp.json", MCPURL: MCPURL(s.appURL(), sh.Domain),
		FeedURL: s.appURL() + "/feeds/" + sh.Domain + "/products.jsonl.gz", Billing: usage,
	}})
}

// queryInt reads a positive integer query parameter; absent is 0.
func queryInt(c echo.Context, name string) (int64, error) {
	v := c.QueryParam(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, &app.Error{Code: app.CodeInvalid, Field: name, Message: name + " must be a positive whole number"}
	}
	return n, nil
}

func (s *Server) handleProductsPage(c echo.Context) error {
	page, err := queryInt(c, "page")
	if err != nil {
		return err
	}
	col, err := queryInt(c, "collection")
	if err != nil {
		return err
	}
	q := merchant.ProductQuery{Search: c.QueryParam("q"), Status: c.QueryParam("status"), CollectionID: col, Page: int(min(page, 1<<30))}
	p, err := s.admin.Products(c.Request().Context(), pageShop(c).ID, q)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "products.html", &pageData{Title: "Products", Active: "products", Content: p})
}

func (s *Server) handleProductPage(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return &app.Error{Code: app.CodeNotFound, Message: "no such product"}
	}
	row, err := s.admin.Product(c.Request().Context(), pageShop(c).ID, id)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "product.html", &pageData{Title: row.Product.Title, Active: "products", Content: row})
}

// feedContent is the feed health page.
type feedContent struct {
	*merchant.FeedHealth
	FeedURL string
}

func (s *Server) handleFeedPage(c echo.Context) error {
	sh := pageShop(c)
	h, err := s.admin.FeedHealth(c.Request().Context(), sh.ID)
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "feed.html", &pageData{Title: "Feed health", Active: "feed", Content: &feedContent{
		FeedHealth: h, FeedURL: s.appURL() + "/feeds/" + sh.Domain + "/products.jsonl.gz",
	}})
}

// ordersContent is the orders page with its chart drawn as bars.
type ordersContent struct {
	*merchant.OrdersPage
	Bars     []chartBar
	MaxCount int
	Pages    int
}

// chartBar is one day of the chart, its height in percent of the tallest.
type chartBar struct {
	merchant.DayStat
	Height   int64
	RevPct   int64
	Revenue0 bool
	Label    string
	Revenue  string
	Position int
}

func (s *Server) handleOrdersPage(c echo.Context) error {
	sh := pageShop(c)
	page, err := queryInt(c, "page")
	if err != nil {
		return err
	}
	op, err := s.admin.Orders(c.Request().Context(), sh, int(min(page, 1<<30)))
	if err != nil {
		return err
	}
	oc := &ordersContent{OrdersPage: op, Pages: max(1, int((op.Total+int64(op.PageSize)-1)/int64(op.PageSize)))}
	var maxRev int64
	for _, d := range op.Days {
		oc.MaxCount = max(oc.MaxCount, d.Orders)
		maxRev = max(maxRev, d.Revenue)
	}
	for i, d := range op.Days {
		oc.Bars = append(oc.Bars, chartBar{DayStat: d, Height: pct(int64(d.Orders), int64(oc.MaxCount)),
			RevPct: pct(d.Revenue, maxRev), Revenue0: d.Revenue == 0, Label: d.Day.Format("Jan 2"), Revenue: formatMoney(d.Revenue, op.Currency), Position: i})
	}
	return s.render(c, http.StatusOK, "orders.html", &pageData{Title: "Orders from agents", Active: "orders", Content: oc})
}

func (s *Server) handleOrderPage(c echo.Context) error {
	d, err := s.admin.Order(c.Request().Context(), pageShop(c).ID, c.Param("id"))
	if err != nil {
		return err
	}
	return s.render(c, http.StatusOK, "order.html", &pageData{Title: "Order " + d.Order.OrderName, Active: "orders", Content: d})
}

// settingsContent is the settings page.
type settingsContent struct {
	Feed         *app.FeedSettings
	ACP          *app.ACPSettings
	Completion   agents.CompletionChoice
	Keys         []*app.APIKey
	BaseURL      string
	DiscoveryURL string
	MCPURL       string
}

func (s *Server) handleSettingsPage(c echo.Context) error {
	sh := pageShop(c)
	ctx := c.Request().Context()
	fs, err := s.admin.FeedSettings(ctx, sh.ID)
	if err != nil {
		return err
	}
	set, err := s.agentAdmin.Settings(ctx, sh.ID)
	if err != nil {
		return err
	}
	cm, err := s.agentAdmin.CompletionMethod(ctx, sh.ID)
	if err != nil {
		return err
	}
	keys, err := s.agentAdmin.APIKeys(ctx, sh.ID)
	if err != nil {
		return err
	}
	base := ACPBaseURL(s.appURL(), sh.Domain)
	return s.render(c, http.StatusOK, "settings.html", &pageData{Title: "Settings", Active: "settings", Content: &settingsContent{
		Feed: fs, ACP: set, Completion: cm, Keys: keys, BaseURL: base, DiscoveryURL: base + "/.well-known/acp.json",
		MCPURL: MCPURL(s.appURL(), sh.Domain),
	}})
}
