package emulator

import (
	_ "embed"
	"encoding/json"
	"io"
	"net/http"
)

// Shopify admin's part in an embedded app, for the demo and browser tests:
// a stand-in for App Bridge's script that gets ID tokens from the emulator
// (as App Bridge gets them from Shopify admin), adds them to the app's
// fetches, reloads bounce pages with one, and draws what Shopify admin draws
// around an app: toasts, the app's nav (s-app-nav) and the contextual save
// bar of forms marked data-save-bar. With it the app's pages run their
// production code path outside Shopify admin.
//
// The token endpoint signs in whoever calls it as the shop's staff: it is
// an emulator of a signed-in admin, reachable on loopback only.

//go:embed appbridge/app-bridge.js
var appBridgeJS []byte

// AppBridgePath is where the emulator serves its App Bridge stand-in.
const AppBridgePath = "/shopifycloud/app-bridge.js"

// idTokenPath mints ID tokens for the stand-in.
const idTokenPath = "/emulator/app-bridge/id-token"

// AppBridgeURL is the stand-in's URL, for the app's APP_BRIDGE_URL.
func (e *Emulator) AppBridgeURL() string { return e.URL() + AppBridgePath }

func (e *Emulator) handleAppBridgeJS(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(appBridgeJS)
}

// appBridgeCORS lets the app's pages (another origin) POST to the stand-in's
// endpoints, and answers a preflight itself: true when it did.
func appBridgeCORS(w http.ResponseWriter, r *http.Request) bool {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Content-Type")
	if r.Method == http.MethodOptions {
		w.WriteHeader(http.StatusNoContent)
		return true
	}
	return false
}

// handleIDToken answers {"id_token": ...} for {"shop", "api_key"} when the
// app with that client id is installed on the shop. CORS lets the app's
// pages (another origin) call it.
func (e *Emulator) handleIDToken(w http.ResponseWriter, r *http.Request) {
	if appBridgeCORS(w, r) {
		return
	}
	var in struct {
		Shop   string `json:"shop"`
		APIKey string `json:"api_key"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4096)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "expected {\"shop\", \"api_key\"}"})
		return
	}
	e.mu.Lock()
	s := e.shop(in.Shop)
	ok := s != nil && s.installed && in.APIKey == e.cfg.APIKey
	e.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "the app is not installed on that shop"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"id_token": e.IDToken(in.Shop, "1")})
}
