package emulator

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/acpbridge/acpbridge/shopify"
)

// handleAuthorize is GET /admin/oauth/authorize. The emulated shop owner
// approves at once, so it redirects straight back to the app's callback with
// a signed query (docs/shopify.md §1.2 step 3).
func (e *Emulator) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	s := e.hostShop(r)
	if s == nil {
		notFound(w)
		return
	}
	q := r.URL.Query()
	if q.Get("client_id") != e.cfg.APIKey {
		http.Error(w, "Oauth error invalid_request: The client_id provided is invalid", http.StatusBadRequest)
		return
	}
	redirect := q.Get("redirect_uri")
	target, err := url.Parse(redirect)
	if err != nil || !e.redirectAllowed(redirect) {
		http.Error(w, "Oauth error invalid_request: The redirect_uri is not whitelisted", http.StatusBadRequest)
		return
	}
	code := randomHex(16)
	perUser := slices.Contains(q["grant_options[]"], "per-user")
	e.mu.Lock()
	e.codes[code] = &authCode{
		shop:    s.domain,
		scopes:  splitScopes(q.Get("scope")),
		perUser: perUser,
		expires: e.now().Add(authCodeTTL),
	}
	e.mu.Unlock()

	cb := target.Query()
	cb.Set("code", code)
	cb.Set("host", base64.RawStdEncoding.EncodeToString([]byte("admin.shopify.com/store/"+s.handle)))
	cb.Set("shop", s.domain)
	if state := q.Get("state"); state != "" {
		cb.Set("state", state)
	}
	cb.Set("timestamp", strconv.FormatInt(e.now().Unix(), 10))
	cb.Set("hmac", shopify.SignQuery(cb, e.cfg.APISecret))
	target.RawQuery = cb.Encode()
	e.log.InfoContext(r.Context(), "oauth approved", "shop", s.domain, "per_user", perUser)
	http.Redirect(w, r, target.String(), http.StatusFound)
}

// splitScopes parses a comma-separated scope list.
func splitScopes(s string) []string {
	var out []string
	for _, sc := range strings.Split(s, ",") {
		if sc = strings.TrimSpace(sc); sc != "" && !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}
