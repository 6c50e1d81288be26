package web

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
)

// ScopesSyncer reads a shop's granted scopes from Shopify and stores them
// (shops.Shopify.SyncScopes).
type ScopesSyncer interface {
	SyncScopes(ctx context.Context, shop string) (*app.Shop, error)
}

// scopeFeature is an optional feature as the admin's API reports it.
type scopeFeature struct {
	Key   string `json:"key"`
	Name  string `json:"name"`
	Scope string `json:"scope"`
	On    bool   `json:"on"`
}

// handleSyncScopes is called by the admin's page once the merchant answered
// App Bridge's permission modal (static/scopes.js): the grant is read from
// Shopify and stored now, so the feature is on before app/scopes_update
// arrives. It answers the granted scopes and each optional feature's state.
func (s *Server) handleSyncScopes(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	syncer, ok := s.shopify.(ScopesSyncer)
	if !ok {
		return &app.Error{Code: app.CodeNotFound, Message: "scopes cannot be read from Shopify here"}
	}
	if sh, err = syncer.SyncScopes(c.Request().Context(), sh.Domain); err != nil {
		if app.ErrorCode(err) == "" {
			return &app.Error{Code: app.CodeUnavailable, Message: "Shopify could not be asked which access the app has; try again"}
		}
		return err
	}
	features := make([]scopeFeature, len(app.OptionalFeatures))
	for i, f := range app.OptionalFeatures {
		features[i] = scopeFeature{Key: f.Key, Name: f.Name, Scope: f.Scope, On: sh.FeatureOn(f)}
	}
	return c.JSON(http.StatusOK, map[string]any{"scopes": sh.Scopes, "features": features})
}
