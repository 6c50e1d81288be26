package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/merchant"
	"github.com/acpbridge/acpbridge/shopify"
)

// The merchant's embedded admin: server-rendered pages (html/template with
// Polaris web components, fields included, and one small script) inside
// Shopify admin's iframe. App Bridge draws the app's nav (s-app-nav), the
// toasts and the settings forms' contextual save bar (data-save-bar);
// s-page's heading is the page's only heading. Without Polaris' script the
// script stands native controls in for the s-* fields and buttons.
//
// Authentication follows Shopify's flow for server-rendered embedded apps:
// a page request carries the App Bridge ID token as ?id_token=; without a
// valid one the request is sent to the bounce page (/auth/session-token),
// where App Bridge reloads the page with a fresh token. Writes go to the
// JSON API under /api with the token as Bearer (App Bridge adds it to
// fetch), so a cross-site form post carries no credential at all.

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// AdminService is what the admin pages read and do (merchant.Admin).
type AdminService interface {
	Overview(ctx context.Context, sh *app.Shop) (*merchant.Overview, error)
	Products(ctx context.Context, shopID int64, q merchant.ProductQuery) (*merchant.ProductsPage, error)
	Product(ctx context.Context, shopID, productID int64) (*merchant.ProductRow, error)
	ChangeRules(ctx context.Context, shopID int64, ch merchant.ProductRuleChange) error
	SaveOverrides(ctx context.Context, shopID, productID int64, o merchant.ProductOverrides) error
	Orders(ctx context.Context, sh *app.Shop, page int) (*merchant.OrdersPage, error)
	Order(ctx context.Context, shopID int64, sessionID string) (*merchant.OrderDetail, error)
	SendTestEvent(ctx context.Context, shopID int64) (int, error)
	TestCheckout(ctx context.Context, sh *app.Shop) (*merchant.TestCheckoutResult, error)

	FeedHealth(ctx context.Context, shopID int64) (*merchant.FeedHealth, error)
	FeedSettings(ctx context.Context, shopID int64) (*app.FeedSettings, error)
	SaveFeedSettings(ctx context.Context, fs app.FeedSettings) error
	RotateFeedToken(ctx context.Context, shopID int64) (string, error)
	SaveACPTarget(ctx context.Context, shopID, id int64, cfg app.ACPTargetConfig, token string, enabled bool) (*app.FeedTarget, error)
	SaveSFTPTarget(ctx context.Context, shopID, id int64, cfg app.SFTPTargetConfig, password, key string, enabled bool) (*app.FeedTarget, error)
	RequestBuild(ctx context.Context, shopID int64) error
}

// AdminUI configures how the pages load Shopify's front-end libraries.
type AdminUI struct {
	// ClientID is the app's client id (the shopify-api-key meta tag).
	ClientID string
	// AppBridgeURL is App Bridge's script (Shopify's CDN; the demo serves
	// a stand-in from the dev-store emulator).
	AppBridgeURL string
	// PolarisURL is the Polaris web components' script; "" leaves it out
	// (the pages stay legible and usable: admin.js stands native controls
	// in for the s-* fields, admin.css styles what remains).
	PolarisURL string
}

// BouncePath is the page where App Bridge fetches an ID token and reloads
// the page the merchant asked for.
const BouncePath = "/auth/session-token"

// adminShopKey holds the authenticated shop of an admin page request.
const adminShopKey = "acpbridge.admin.shop"

// adminPageKey marks a request as an admin page, so errors render as HTML.
const adminPageKey = "acpbridge.admin.page"

// adminRoutes adds the pages, the bounce page, the static files and the
// admin JSON API.
func (s *Server) adminRoutes() {
	e := s.echo
	static, _ := fs.Sub(staticFS, "static")
	e.GET("/static/*", s.handleStatic(http.FS(static)))
	e.GET(BouncePath, s.handleBounce, s.limitIP(s.ipLimits))

	page := func(path string, h echo.HandlerFunc) { e.GET(path, h, s.adminPage) }
	page("/", s.handleOverviewPage)
	page("/admin", s.handleOverviewPage)
	page("/admin/products", s.handleProductsPage)
	page("/admin/products/:id", s.handleProductPage)
	page("/admin/feed", s.handleFeedPage)
	page("/admin/orders", s.handleOrdersPage)
	page("/admin/orders/:id", s.handleOrderPage)
	page("/admin/settings", s.handleSettingsPage)

	e.POST("/api/settings/feed", s.handleSaveFeedSettings)
	e.POST("/api/products/rules", s.handleChangeRules)
	e.POST("/api/products/:id/overrides", s.handleSaveOverrides)
	e.POST("/api/feed/token", s.handleRotateFeedToken)
	e.POST("/api/feed/targets", s.handleSaveTarget)
	e.POST("/api/feed/build", s.handleBuildNow)
	e.POST("/api/agents/webhook/test", s.handleTestEvent)
	e.POST("/api/test-checkout", s.handleTestCheckout)
	e.POST("/api/scopes/sync", s.handleSyncScopes)
	s.billingRoutes(page) // admin_billing.go
	s.privacyRoutes()     // admin_privacy.go
}

// handleStatic serves the admin's stylesheet and script; they change only
// with a release, so browsers may keep them for an hour.
func (s *Server) handleStatic(fsys http.FileSystem) echo.HandlerFunc {
	files := http.StripPrefix("/static/", http.FileServer(fsys))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "public, max-age=3600")
		c.Response().Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}

// adminPage authenticates a page request by its id_token parameter. A
// missing, expired or forged token goes to the bounce page (App Bridge
// brings a fresh one); a token of another shop than the page's shop
// parameter is refused.
func (s *Server) adminPage(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Set(adminPageKey, true)
		q := c.QueryParams()
		shopParam := q.Get("shop")
		s.setFrameAncestors(c, normShop(shopParam))
		tok := q.Get("id_token")
		if tok == "" {
			return s.toBounce(c)
		}
		sh, _, err := s.shopify.Authenticate(c.Request().Context(), tok)
		if app.ErrorCode(err) == app.CodeUnauthorized {
			return s.toBounce(c)
		}
		if err != nil {
			return err
		}
		if shopParam != "" && !strings.EqualFold(shopParam, sh.Domain) {
			return &app.Error{Code: app.CodeForbidden, Message: "this page was opened for another shop than the one you are signed in to"}
		}
		s.setFrameAncestors(c, sh.Domain)
		c.Set(adminShopKey, sh)
		return next(c)
	}
}

// setFrameAncestors lets only the shop's admin frame the page (Shopify's
// iframe protection); with no known shop, only Shopify admin.
func (s *Server) setFrameAncestors(c echo.Context, shop string) {
	fa := "frame-ancestors https://admin.shopify.com"
	if shop != "" {
		fa = "frame-ancestors https://" + shop + " https://admin.shopify.com"
	}
	h := c.Response().Header()
	h.Set("Content-Security-Policy", fa+"; object-src 'none'; base-uri 'self'; form-action 'self'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
}

// appParams are the query parameters a page keeps on its links: those
// Shopify admin gives the app, without the short-lived id_token.
var appParams = []string{"shop", "host", "embedded", "locale"}

// keptQuery is the request's app parameters as a query string.
func keptQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range appParams {
		if v := q.Get(k); v != "" && len(v) <= 255 {
			out.Set(k, v)
		}
	}
	return out
}

// toBounce sends a page request without a usable ID token on its way to
// one. Outside Shopify admin (no embedded=1) the merchant is sent into the
// admin, where the app opens embedded.
func (s *Server) toBounce(c echo.Context) error {
	q := c.QueryParams()
	shop := normShop(q.Get("shop"))
	if q.Get("embedded") != "1" {
		if shop != "" && s.afterInstallURL != nil {
			return c.Redirect(http.StatusFound, s.afterInstallURL(shop))
		}
		return &app.Error{Code: app.CodeUnauthorized, Message: "open acpbridge from your Shopify admin (Apps › acpbridge)"}
	}
	if shop == "" {
		return &app.Error{Code: app.CodeInvalid, Field: "shop", Message: "the shop parameter is not a myshopify.com domain"}
	}
	kept := keptQuery(q)
	// Other parameters of the page (filters, a page number) survive too.
	page := url.Values{}
	for k, v := range q {
		if k != "id_token" && !strings.HasPrefix(k, "shopify-") {
			page[k] = v
		}
	}
	reload := strings.TrimRight(s.appURL(), "/") + c.Request().URL.Path + "?" + page.Encode()
	kept.Set("shopify-reload", reload)
	return c.Redirect(http.StatusFound, BouncePath+"?"+kept.Encode())
}

// handleBounce is the bounce page: App Bridge alone, which fetches an ID
// token and reloads the shopify-reload URL with it.
func (s *Server) handleBounce(c echo.Context) error {
	c.Set(adminPageKey, true)
	shop := normShop(c.QueryParam("shop"))
	if shop == "" {
		s.setFrameAncestors(c, "")
		return &app.Error{Code: app.CodeInvalid, Field: "shop", Message: "the shop parameter is not a myshopify.com domain"}
	}
	s.setFrameAncestors(c, shop)
	reload := c.QueryParam("shopify-reload")
	if u, err := url.Parse(reload); err != nil || !s.sameOrigin(u) {
		return &app.Error{Code: app.CodeInvalid, Field: "shopify-reload", Message: "shopify-reload must be a page of this app"}
	}
	return s.render(c, http.StatusOK, "bounce.html", &pageData{Title: "Loading"})
}

// normShop is the shop domain s names, or "" when it is not one.
func normShop(s string) string {
	n, err := shopify.NormalizeShop(s)
	if err != nil {
		return ""
	}
	return n
}

// sameOrigin reports whether u is on the app's own origin.
func (s *Server) sameOrigin(u *url.URL) bool {
	base, err := url.Parse(s.appURL())
	return err == nil && u.Scheme == base.Scheme && u.Host == base.Host
}

// pageData is what every page template gets.
type pageData struct {
	Title   string
	Active  string // the nav entry to mark current
	Shop    *app.Shop
	Query   url.Values // the app parameters links keep
	UI      AdminUI
	AppURL  string
	Content any
	Error   *errorBody
	Status  int
}

// Link is a link to an admin page that keeps the app parameters.
func (p *pageData) Link(path string, kv ...string) string {
	path, frag, _ := strings.Cut(path, "#")
	if frag != "" {
		frag = "#" + frag
	}
	q := url.Values{}
	for k, v := range p.Query {
		q[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
		} else {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path + frag
	}
	return path + "?" + q.Encode() + frag
}

// templates are parsed once: the layout with each page.
var templates = func() map[string]*template.Template {
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimPrefix(p, "templates/")
		if name == "layout.html" {
			continue
		}
		out[name] = template.Must(template.New(name).Funcs(templateFuncs).ParseFS(templateFS, "templates/layout.html", p))
	}
	return out
}()

// render writes a page inside the layout. It renders into a buffer first,
// so a template error becomes a clean error page, not half a page.
func (s *Server) render(c echo.Context, status int, name string, d *pageData) error {
	t, ok := templates[name]
	if !ok {
		return fmt.Errorf("no template %s", name)
	}
	if d.Shop == nil {
		d.Shop, _ = c.Get(adminShopKey).(*app.Shop)
	}
	d.Query = keptQuery(c.QueryParams())
	d.UI = s.adminUI
	d.AppURL = s.appURL()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// isAdminPage reports whether the request is for an admin page (errors
// render as HTML there).
func isAdminPage(c echo.Context) bool {
	v, _ := c.Get(adminPageKey).(bool)
	return v
}

// renderError renders an error as an admin page.
func (s *Server) renderError(c echo.Context, status int, body errorBody) error {
	return s.render(c, status, "error.html", &pageData{Title: "Something is not right", Error: &body, Status: status})
}

// pageShop is the authenticated shop of an admin page request.
func pageShop(c echo.Context) *app.Shop {
	sh, _ := c.Get(adminShopKey).(*app.Shop)
	return sh
}

var templateFuncs = template.FuncMap{
	"money": formatMoney,
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			if v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil || v.IsZero() {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return "—"
	},
	"day": func(t time.Time) string { return t.UTC().Format("Jan 2") },
	"add": func(a, b int) int { return a + b },
	"sub": func(a, b int) int { return a - b },
	"pct": func(a, b int64) int64 { return pct(a, b) },
	"deref": func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	},
	"isTrue":  func(p *bool) bool { return p != nil && *p },
	"isFalse": func(p *bool) bool { return p != nil && !*p },
	"orderURL": func(shop, id string) string {
		return "https://admin.shopify.com/store/" + url.PathEscape(strings.TrimSuffix(shop, ".myshopify.com")) + "/orders/" + url.PathEscape(id)
	},
	"join": strings.Join,
	// stepLink is where a checklist step is done.
	"stepLink": func(key string) string {
		switch key {
		case "feed":
			return "/admin/feed"
		case "keys":
			return "/admin/settings#agents"
		default:
			return "/admin/settings#" + key
		}
	},
}

func pct(a, b int64) int64 {
	if b <= 0 {
		return 0
	}
	return a * 100 / b
}

// formatMoney shows minor units in the currency's major unit.
func formatMoney(minor int64, currency string) string {
	exp := app.CurrencyExponent(currency)
	neg := minor < 0
	if neg {
		minor = -minor
	}
	s := fmt.Sprint(minor)
	if exp > 0 {
		for len(s) <= exp {
			s = "0" + s
		}
		s = s[:len(s)-exp] + "." + s[len(s)-exp:]
	}
	if neg {
		s = "-" + s
	}
	return s + " " + strings.ToUpper(currency)
}
