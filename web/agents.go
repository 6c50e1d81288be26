package web

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
)

// AgentAdmin is how the merchant lets agents in (agents.Access): the embedded
// admin's API under /api/agents, behind the App Bridge ID token.
type AgentAdmin interface {
	CreateAPIKey(ctx context.Context, shopID int64, label string) (string, *app.APIKey, error)
	RevokeAPIKey(ctx context.Context, shopID, keyID int64) error
	APIKeys(ctx context.Context, shopID int64) ([]*app.APIKey, error)
	Settings(ctx context.Context, shopID int64) (*app.ACPSettings, error)
	RotateSigningSecret(ctx context.Context, shopID int64, require bool) (string, error)
	RotateWebhookSecret(ctx context.Context, shopID int64, url string) (string, error)
	ConnectPayment(ctx context.Context, shopID int64, provider, credentials string) (string, error)
	CompletionMethod(ctx context.Context, shopID int64) (agents.CompletionChoice, error)
	SetCompletionMethod(ctx context.Context, shopID int64, method app.CompletionMethod) (agents.CompletionChoice, error)
}

type apiKeyJSON struct {
	ID          int64  `json:"id"`
	Fingerprint string `json:"fingerprint"`
	Label       string `json:"label"`
	CreatedAt   string `json:"created_at"`
	RevokedAt   string `json:"revoked_at,omitempty"`
}

// handleAgents describes how agents reach the shop: its ACP base URL and
// discovery URL, the keys (never the secrets), signing, webhook, Stripe.
func (s *Server) handleAgents(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	keys, err := s.agentAdmin.APIKeys(ctx, sh.ID)
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
	out := []apiKeyJSON{}
	for _, k := range keys {
		j := apiKeyJSON{ID: k.ID, Fingerprint: k.Fingerprint, Label: k.Label, CreatedAt: k.CreatedAt.Format(timeFormat)}
		if k.RevokedAt != nil {
			j.RevokedAt = k.RevokedAt.Format(timeFormat)
		}
		out = append(out, j)
	}
	base := ACPBaseURL(s.appURL(), sh.Domain)
	return c.JSON(http.StatusOK, map[string]any{
		"base_url": base, "discovery_url": base + "/.well-known/acp.json", "api_keys": out,
		"signing_secret_set": set.SigningSecretSealed != "", "signatures_required": set.RequireSignature,
		"webhook_url": set.WebhookURL, "webhook_secret_set": set.WebhookSecretSealed != "",
		"stripe_account_id": stripeAccount(set),
		"completion_method": completionJSON(cm),
	})
}

// completionJSON is a shop's completion method as the admin API shows it:
// the method in use, whether the merchant may switch it and, when not,
// why.
func completionJSON(cm agents.CompletionChoice) map[string]any {
	out := map[string]any{"method": cm.Method, "switchable": cm.Switchable}
	if cm.Reason != "" {
		out["reason"] = cm.Reason
	}
	return out
}

// handleCompletionMethod switches how the shop's agent checkouts complete:
// {"completion_method": "shopify_checkout" | "delegated_payment"}.
func (s *Server) handleCompletionMethod(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in struct {
		CompletionMethod string `json:"completion_method"`
	}
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	cm, err := s.agentAdmin.SetCompletionMethod(c.Request().Context(), sh.ID, app.CompletionMethod(in.CompletionMethod))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"completion_method": completionJSON(cm)})
}

// decodeForm reads a small JSON object strictly into v.
func decodeForm(c echo.Context, v any) error {
	b, err := io.ReadAll(io.LimitReader(c.Request().Body, 64<<10))
	if err != nil {
		return &app.Error{Code: app.CodeInvalid, Field: "body", Message: "could not read the body"}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return &app.Error{Code: app.CodeInvalid, Field: "body", Message: "expected a JSON object with the documented fields: " + err.Error()}
	}
	return nil
}

// handleCreateAPIKey makes a key and shows it, once.
func (s *Server) handleCreateAPIKey(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in struct {
		Label string `json:"label"`
	}
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	plain, k, err := s.agentAdmin.CreateAPIKey(c.Request().Context(), sh.ID, in.Label)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusCreated, map[string]any{"id": k.ID, "fingerprint": k.Fingerprint, "api_key": plain})
}

// handleRevokeAPIKey revokes one of the shop's keys.
func (s *Server) handleRevokeAPIKey(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return &app.Error{Code: app.CodeNotFound, Message: "no such API key"}
	}
	if err := s.agentAdmin.RevokeAPIKey(c.Request().Context(), sh.ID, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// handleSigningSecret makes a new request-signing secret, shown once.
func (s *Server) handleSigningSecret(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in struct {
		Require bool `json:"require"`
	}
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	plain, err := s.agentAdmin.RotateSigningSecret(c.Request().Context(), sh.ID, in.Require)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"signing_secret": plain, "signatures_required": in.Require})
}

// handleWebhookSettings sets the agent webhook URL and a new secret.
func (s *Server) handleWebhookSettings(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in struct {
		URL string `json:"url"`
	}
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	if in.URL == "" {
		return &app.Error{Code: app.CodeInvalid, Field: "url", Message: "the agent's https URL for order events is required"}
	}
	plain, err := s.agentAdmin.RotateWebhookSecret(c.Request().Context(), sh.ID, in.URL)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{"webhook_url": in.URL, "webhook_secret": plain})
}

// stripeProvider is the provider name Stripe credentials are stored under
// (app/payment's ProviderName), which the Stripe form connects.
const stripeProvider = "stripe"

// stripeAccount is the shop's Stripe account, "" when its payment account
// is not a Stripe one.
func stripeAccount(set *app.ACPSettings) string {
	if set.Payment == nil || set.Payment.Provider != stripeProvider {
		return ""
	}
	return set.Payment.AccountID
}

// handleConnectStripe verifies and stores the merchant's Stripe key.
func (s *Server) handleConnectStripe(c echo.Context) error {
	sh, err := s.adminShop(c)
	if err != nil {
		return err
	}
	var in struct {
		Key string `json:"key"`
	}
	if err := decodeForm(c, &in); err != nil {
		return err
	}
	account, err := s.agentAdmin.ConnectPayment(c.Request().Context(), sh.ID, stripeProvider, in.Key)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"stripe_account_id": account})
}
