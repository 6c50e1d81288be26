package shops

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/acpbridge/acpbridge/app"
)

// The shop's granted scopes. The required ones are granted at install; the
// optional ones (app.OptionalFeatures) are granted and taken back by the
// merchant at any time. Shopify tells of each change with app/scopes_update,
// and the admin, after a grant through App Bridge, asks at once (SyncScopes)
// rather than wait for it. The stored list (app.Shop.Scopes) is what turns
// the optional features on and off.

// scopesUpdatePayload is the part of app/scopes_update's body the app reads.
type scopesUpdatePayload struct {
	Previous []string `json:"previous"`
	Current  []string `json:"current"`
}

// accessScopesQuery reads the scopes the app holds on the shop now; it
// needs no scope of its own.
const accessScopesQuery = `query AccessScopes { currentAppInstallation { accessScopes { handle } } }`

// GrantedScopes asks Shopify which scopes the shop grants the app now.
func (s *Shopify) GrantedScopes(ctx context.Context, shop string) ([]string, error) {
	var out struct {
		CurrentAppInstallation *struct {
			AccessScopes []struct {
				Handle string `json:"handle"`
			} `json:"accessScopes"`
		} `json:"currentAppInstallation"`
	}
	if err := s.Query(ctx, shop, accessScopesQuery, nil, &out); err != nil {
		return nil, fmt.Errorf("granted scopes of %s: %w", shop, err)
	}
	if out.CurrentAppInstallation == nil {
		return nil, fmt.Errorf("granted scopes of %s: no app installation", shop)
	}
	scopes := make([]string, 0, len(out.CurrentAppInstallation.AccessScopes))
	for _, a := range out.CurrentAppInstallation.AccessScopes {
		if !validScopeName(a.Handle) {
			return nil, fmt.Errorf("granted scopes of %s: %q is not a scope", shop, a.Handle)
		}
		scopes = append(scopes, a.Handle)
	}
	return scopes, nil
}

// SyncScopes reads the shop's granted scopes from Shopify and stores them,
// returning the shop as stored: the admin calls it once the merchant has
// granted (or declined) an optional scope through App Bridge, so the feature
// is on at once, before app/scopes_update arrives.
func (s *Shopify) SyncScopes(ctx context.Context, shop string) (*app.Shop, error) {
	scopes, err := s.GrantedScopes(ctx, shop)
	if err != nil {
		return nil, err
	}
	var out *app.Shop
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		sh, err := s.storeScopes(ctx, shop, scopes, "admin")
		out = sh
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sync scopes of %s: %w", shop, err)
	}
	return out, nil
}

// processScopesUpdate acts on app/scopes_update: it stores the scopes the
// shop grants now, which turns off exactly the features whose scope was
// taken back (and on those granted). Deliveries may come late, twice or out
// of order, so Shopify's answer now wins over the payload's current list,
// which is used only when Shopify cannot be asked (the shop's token gone).
func (s *Shopify) processScopesUpdate(ctx context.Context, ev *app.WebhookEvent) error {
	var p scopesUpdatePayload
	if err := json.Unmarshal(ev.Payload, &p); err != nil || p.Current == nil || !allScopeNames(p.Current) {
		return s.Store.FinishWebhookEvent(ctx, ev.ID, "ignored: the payload has no list of current scopes")
	}
	scopes, source := p.Current, "payload"
	if now, err := s.GrantedScopes(ctx, ev.Shop); err == nil {
		scopes, source = now, "Shopify"
	} else if !errors.Is(err, app.ErrShopInactive) && !errors.Is(err, app.ErrReauthRequired) {
		s.Logger.WarnContext(ctx, "app/scopes_update: Shopify could not be asked, the payload's scopes are stored",
			"shop", ev.Shop, "webhook_id", ev.WebhookID, "err", err)
	}
	err := s.Store.InTx(ctx, func(ctx context.Context) error {
		sh, err := s.storeScopes(ctx, ev.Shop, scopes, "app/scopes_update")
		if err != nil {
			return err
		}
		outcome := "scopes from " + source + ": " + sh.Scopes
		if off := featureKeys(sh.FeaturesOff()); off != "" {
			outcome += "; features off: " + off
		}
		return s.Store.FinishWebhookEvent(ctx, ev.ID, app.Truncate(outcome, 1000))
	})
	if err != nil {
		return fmt.Errorf("process webhook %d (%s): %w", ev.ID, ev.Topic, err)
	}
	return nil
}

// storeScopes stores the shop's granted scopes, inside the caller's
// transaction, and logs the features that changed with them.
func (s *Shopify) storeScopes(ctx context.Context, shop string, scopes []string, why string) (*app.Shop, error) {
	sh, err := s.Store.ShopByDomain(ctx, shop)
	if err != nil {
		return nil, err
	}
	before := featureKeys(sh.FeaturesOff())
	sh.Scopes = app.JoinScopes(scopes)
	if err := s.Store.UpdateShopScopes(ctx, sh.ID, sh.Scopes); err != nil {
		return nil, err
	}
	if after := featureKeys(sh.FeaturesOff()); after != before {
		s.Logger.InfoContext(ctx, "shop scopes changed", "shop", shop, "scopes", sh.Scopes,
			"features_off", after, "features_off_before", before, "by", why)
	}
	return sh, nil
}

// featureKeys names features, comma-separated.
func featureKeys(fs []app.Feature) string {
	keys := make([]string, len(fs))
	for i, f := range fs {
		keys[i] = f.Key
	}
	return strings.Join(keys, ",")
}

// allScopeNames reports whether every entry is a scope name.
func allScopeNames(scopes []string) bool {
	for _, sc := range scopes {
		if !validScopeName(sc) {
			return false
		}
	}
	return true
}

// validScopeName accepts Shopify scope names: lower-case letters and "_",
// e.g. read_products or unauthenticated_read_product_listings.
func validScopeName(s string) bool {
	if s == "" || len(s) > 100 || strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") {
		return false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return false
		}
	}
	return true
}
