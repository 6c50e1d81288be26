package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"time"
)

// Access scopes after install. A merchant grants an app's optional scopes
// in context, through App Bridge's scopes.request and Shopify's permission
// modal; the app may give scopes back (scopes.revoke); and a new app
// version may ask for fewer. Each change takes effect on the app's tokens
// at once and is told to the app with app/scopes_update, as Shopify does.

// scopeWriteCustomers is the scope orderCreate's customer.toUpsert needs.
const scopeWriteCustomers = "write_customers"

// scopesPath is the stand-in App Bridge's scopes API (query, grant,
// revoke): on Shopify, App Bridge talks to Shopify admin instead.
const scopesPath = "/emulator/app-bridge/scopes"

// accessDenied is Shopify's error for a field the token's scopes do not
// reach.
func accessDenied(field, scope string) *apiError {
	required := "`" + scope + "` access scope."
	return &apiError{
		msg: "Access denied for " + field + " field. Required access: " + required,
		ext: map[string]any{"code": "ACCESS_DENIED", "documentation": "https://shopify.dev/api/usage/access-scopes", "requiredAccess": required},
	}
}

// Scopes returns the scopes the shop grants the app, nil when the app is
// not installed.
func (e *Emulator) Scopes(shop string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	s := e.shop(shop)
	if s == nil || !s.installed {
		return nil
	}
	return slices.Clone(s.scopes)
}

// GrantScopes adds scopes to the app's grant on the shop, as the merchant
// accepting App Bridge's permission modal does, and sends app/scopes_update.
// Nothing changes (and nil is returned) when all were granted already.
func (e *Emulator) GrantScopes(ctx context.Context, shop string, scopes ...string) (*Delivery, error) {
	return e.changeScopes(ctx, shop, func(cur []string) []string {
		for _, sc := range scopes {
			if !slices.Contains(cur, sc) {
				cur = append(cur, sc)
			}
		}
		return cur
	})
}

// RevokeScopes takes scopes out of the app's grant on the shop (the app's
// own revoke, or a narrower grant after an app update) and sends
// app/scopes_update; nil when none of them was granted.
func (e *Emulator) RevokeScopes(ctx context.Context, shop string, scopes ...string) (*Delivery, error) {
	return e.changeScopes(ctx, shop, func(cur []string) []string {
		return slices.DeleteFunc(cur, func(sc string) bool { return slices.Contains(scopes, sc) })
	})
}

// changeScopes applies change to the shop's grant and to every app token
// of the shop (Shopify checks a token against the grant as it is now),
// then tells the app.
func (e *Emulator) changeScopes(ctx context.Context, shop string, change func([]string) []string) (*Delivery, error) {
	e.mu.Lock()
	s := e.shop(shop)
	if s == nil || !s.installed {
		e.mu.Unlock()
		return nil, fmt.Errorf("emulator: the app is not installed on %q", shop)
	}
	prev := slices.Clone(s.scopes)
	next := change(slices.Clone(s.scopes))
	if slices.Equal(slices.Sorted(slices.Values(prev)), slices.Sorted(slices.Values(next))) {
		e.mu.Unlock()
		return nil, nil
	}
	s.scopes = next
	for _, t := range e.tokens {
		if t.shop == s.domain && !t.staff {
			t.scopes = slices.Clone(next)
		}
	}
	for _, t := range e.refreshes {
		if t.shop == s.domain {
			t.scopes = slices.Clone(next)
		}
	}
	now := e.now().UTC().Format(time.RFC3339)
	payload := map[string]any{"id": s.id, "previous": prev, "current": next, "created_at": now, "updated_at": now}
	domain := s.domain
	e.mu.Unlock()
	e.log.InfoContext(ctx, "app scopes changed", "shop", domain, "previous", prev, "current", next)
	return e.SendWebhook(ctx, domain, "app/scopes_update", payload)
}

// scopesDetail is App Bridge's ScopesDetail.
func (e *Emulator) scopesDetail(shop string) map[string]any {
	granted := e.Scopes(shop)
	if granted == nil {
		granted = []string{}
	}
	return map[string]any{"granted": granted, "required": nonNil(e.cfg.Scopes), "optional": nonNil(e.cfg.OptionalScopes)}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// handleScopes is the stand-in App Bridge's scopes API, for {"shop",
// "api_key", "action", "scopes"}: "query" answers the ScopesDetail;
// "grant" (the merchant accepted the permission modal) grants scopes that
// are all optional_scopes, answering {"result": "granted-all", "detail"};
// "revoke" gives back scopes that are not required. CORS lets the app's
// pages call it, as for ID tokens.
func (e *Emulator) handleScopes(w http.ResponseWriter, r *http.Request) {
	if appBridgeCORS(w, r) {
		return
	}
	var in struct {
		Shop   string   `json:"shop"`
		APIKey string   `json:"api_key"`
		Action string   `json:"action"`
		Scopes []string `json:"scopes"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 8192)).Decode(&in); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `expected {"shop", "api_key", "action", "scopes"}`})
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
	var change func(context.Context, string, ...string) (*Delivery, error)
	switch in.Action {
	case "query":
		writeJSON(w, http.StatusOK, e.scopesDetail(in.Shop))
		return
	case "grant":
		for _, sc := range in.Scopes {
			if len(e.cfg.OptionalScopes) > 0 && !slices.Contains(e.cfg.OptionalScopes, sc) {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": sc + " is not one of the app's optional scopes"})
				return
			}
		}
		change = e.GrantScopes
	case "revoke":
		for _, sc := range in.Scopes {
			if slices.Contains(e.cfg.Scopes, sc) {
				writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"error": sc + " is a required scope and cannot be revoked"})
				return
			}
		}
		change = e.RevokeScopes
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": `action must be "query", "grant" or "revoke"`})
		return
	}
	if len(in.Scopes) == 0 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "scopes must name at least one scope"})
		return
	}
	// The webhook goes out before the answer, as its own delivery: a
	// failure is logged (Shopify would retry), the grant stands.
	ctx, cancel := context.WithTimeout(e.ctx, 10*time.Second)
	defer cancel()
	if d, err := change(ctx, in.Shop, in.Scopes...); err != nil {
		e.log.Warn("app/scopes_update not delivered", "shop", in.Shop, "err", err)
	} else if d != nil && d.Status >= 300 {
		e.log.Warn("app/scopes_update refused", "shop", in.Shop, "status", d.Status)
	}
	out := map[string]any{"detail": e.scopesDetail(in.Shop)}
	if in.Action == "grant" {
		out["result"] = "granted-all"
	}
	writeJSON(w, http.StatusOK, out)
}
