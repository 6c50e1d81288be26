package emulator

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
)

// routes lists every endpoint the emulator serves.
func (e *Emulator) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/oauth/authorize", e.handleAuthorize)
	mux.HandleFunc("POST /admin/oauth/access_token", e.handleAccessToken)
	mux.HandleFunc("POST /admin/api/{version}/graphql.json", e.handleGraphQL)
	mux.HandleFunc("GET "+bulkPathPrefix+"{file}", e.handleBulkFile)
	mux.HandleFunc("GET "+AppBridgePath, e.handleAppBridgeJS)
	mux.HandleFunc("POST "+idTokenPath, e.handleIDToken)
	mux.HandleFunc("OPTIONS "+idTokenPath, e.handleIDToken)
	mux.HandleFunc("POST "+scopesPath, e.handleScopes)
	mux.HandleFunc("OPTIONS "+scopesPath, e.handleScopes)
	mux.HandleFunc("GET "+checkoutPathPrefix+"{shop}/{token}", e.handleCheckoutPage)
	mux.HandleFunc("POST "+checkoutPathPrefix+"{shop}/{token}", e.handleCheckoutPay)
	mux.HandleFunc("GET "+billingPathPrefix+"{shop}/{token}", e.handleBillingPage)
	mux.HandleFunc("POST "+billingPathPrefix+"{shop}/{token}", e.handleBillingDecision)
	return mux
}

// hostShop returns the seeded shop the request's Host names, or nil. The
// emulator tells shops apart by Host, as Shopify does.
func (e *Emulator) hostShop(r *http.Request) *shopState {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.shops[hostName(r.Host)]
}

// hostName strips a port and lower-cases a Host header.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(host)
}

// isLoopbackHost reports whether the request was addressed to the emulator
// directly (http://127.0.0.1:PORT) rather than to a shop through Transport.
func isLoopbackHost(host string) bool {
	ip := net.ParseIP(hostName(host))
	return ip != nil && ip.IsLoopback()
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // as Shopify: descriptionHtml stays readable
	_ = enc.Encode(v)
}

// notFound answers like Shopify does for an unknown shop or path.
func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"errors": "Not Found"})
}
