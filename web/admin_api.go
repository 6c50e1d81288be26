package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/merchant"
)

// The admin pages' writes: JSON in, JSON out, each behind the App Bridge
// ID token (adminShop). Errors name the field at fault, so the page shows
// them beside it.

// feedSettingsForm is the settings page's feed and policies form.
type feedSettingsForm struct {
	SellerName       string   `json:"seller_name"`
	SellerURL        string   `json:"seller_url"`
	StoreCountry     string   `json:"store_country"`
	TargetCountries  []string `json:"target_countries"`
	ReturnPolicyURL  string   `json:"return_policy_url"`
	ReturnWindowDays int      `json:"return_window_days"`
	PrivacyPolicyURL string   `json:"privacy_policy_url"`
	TermsURL         string   `json:"terms_url"`
	BrandFallback    string   `json:"brand_fallback"`
	EligibleSearch   bool     `json:"eligible_search"`
	EligibleCheckout bool     `json:"eligible_checkout"`
	FieldNames       string   `json:"field_names"`
}

func (s *Server) handleSaveFeedSettings(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in feedSettingsForm
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	err = s.admin.SaveFeedSettings(c.Request().Context(), app.FeedSettings{
		ShopID: sh.ID, SellerName: in.SellerName, SellerURL: in.SellerURL, StoreCountry: in.StoreCountry,
		TargetCountries: in.TargetCountries, ReturnPolicyURL: in.ReturnPolicyURL, ReturnWindowDays: in.ReturnWindowDays,
		PrivacyPolicyURL: in.PrivacyPolicyURL, TermsURL: in.TermsURL, BrandFallback: in.BrandFallback,
		EligibleSearch: in.EligibleSearch, EligibleCheckout: in.EligibleCheckout, FieldNames: in.FieldNames,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"saved": true, "message": "Settings saved. The feed is rebuilt with them shortly."})
}

// rulesForm is a bulk include/exclude or checkout decision.
type rulesForm struct {
	Scope    string  `json:"scope"` // product (default) or collection
	IDs      []int64 `json:"ids"`
	Exclude  *bool   `json:"exclude"`
	Checkout *bool   `json:"checkout"`
}

func (s *Server) handleChangeRules(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in rulesForm
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	if in.Scope == "" {
		in.Scope = app.RuleProduct
	}
	err = s.admin.ChangeRules(c.Request().Context(), sh.ID, merchant.ProductRuleChange{Scope: in.Scope, IDs: in.IDs, Exclude: in.Exclude, Checkout: in.Checkout})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"saved": len(in.IDs), "message": "Saved. The next feed build includes the change."})
}

// overridesForm is a product's field overrides ("" removes one).
type overridesForm struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	Category    string `json:"category"`
	GTIN        string `json:"gtin"`
	MPN         string `json:"mpn"`
}

func (s *Server) handleSaveOverrides(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return &app.Error{Code: app.CodeNotFound, Message: "no such product"}
	}
	var in overridesForm
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	err = s.admin.SaveOverrides(c.Request().Context(), sh.ID, id, merchant.ProductOverrides{
		Title: in.Title, Description: in.Description, Category: in.Category, GTIN: in.GTIN, MPN: in.MPN,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"saved": true, "message": "Overrides saved. The next feed build uses them."})
}

func (s *Server) handleRotateFeedToken(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	tok, err := s.admin.RotateFeedToken(c.Request().Context(), sh.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"secret": tok, "authorization": "Bearer " + tok,
		"message": "New feed token. The old one no longer works. It is shown only now."})
}

// targetForm adds or changes a push target.
type targetForm struct {
	ID      int64  `json:"id"`
	Kind    string `json:"kind"`
	Enabled *bool  `json:"enabled"`
	// ACP Feed API.
	BaseURL       string `json:"base_url"`
	FeedID        string `json:"feed_id"`
	TargetCountry string `json:"target_country"`
	Token         string `json:"token"`
	// SFTP.
	Addr       string `json:"addr"`
	User       string `json:"user"`
	HostKey    string `json:"host_key"`
	Dir        string `json:"dir"`
	Format     string `json:"format"`
	Password   string `json:"password"`
	PrivateKey string `json:"private_key"`
}

func (s *Server) handleSaveTarget(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in targetForm
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	enabled := in.Enabled == nil || *in.Enabled
	ctx := c.Request().Context()
	var t *app.FeedTarget
	switch in.Kind {
	case app.TargetACP:
		t, err = s.admin.SaveACPTarget(ctx, sh.ID, in.ID, app.ACPTargetConfig{BaseURL: in.BaseURL, FeedID: in.FeedID, TargetCountry: in.TargetCountry}, in.Token, enabled)
	case app.TargetSFTP:
		t, err = s.admin.SaveSFTPTarget(ctx, sh.ID, in.ID, app.SFTPTargetConfig{Addr: in.Addr, User: in.User, HostKey: in.HostKey, Dir: in.Dir, Format: in.Format}, in.Password, in.PrivateKey, enabled)
	default:
		return &app.Error{Code: app.CodeInvalid, Field: "kind", Message: `kind must be "acp" or "sftp"`}
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": t.ID, "message": "Target saved. The feed is pushed to it after the next build."})
}

func (s *Server) handleBuildNow(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	if err := s.admin.RequestBuild(c.Request().Context(), sh.ID); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"message": "A feed build is on its way."})
}

func (s *Server) handleTestEvent(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	status, err := s.admin.SendTestEvent(c.Request().Context(), sh.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"status": status, "message": "The agent accepted the test event (HTTP " + strconv.Itoa(status) + ")."})
}

func (s *Server) handleTestCheckout(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	res, err := s.admin.TestCheckout(c.Request().Context(), sh)
	if err != nil {
		return err
	}
	totals := []map[string]any{}
	for _, t := range res.Totals {
		totals = append(totals, map[string]any{"type": t.Type, "label": t.DisplayText, "amount": formatMoney(t.Amount, res.Session.Currency)})
	}
	options := []string{}
	for _, o := range res.Session.FulfillmentOptions {
		options = append(options, o.Title)
	}
	messages := []string{}
	for _, m := range res.Session.Messages {
		messages = append(messages, m.Content)
	}
	return c.JSON(http.StatusOK, map[string]any{
		"item": res.Item.Title, "status": res.Session.Status, "totals": totals, "shipping_options": options, "messages": messages,
		"message": "Test checkout priced by Shopify and canceled: nothing was charged and no order was made.",
	})
}
