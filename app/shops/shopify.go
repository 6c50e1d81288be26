package shops

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/shopify"
)

// Timings of the Shopify connection.
const (
	// RefreshWindow: a token this close to expiry is refreshed before use,
	// as Shopify's own libraries do.
	RefreshWindow = 5 * time.Minute
	// OAuthStateTTL bounds how long a merchant may take on Shopify's
	// consent screen.
	OAuthStateTTL = 10 * time.Minute
	// OAuthStateCookie carries the state nonce in the merchant's browser,
	// binding the callback to the browser that started the flow.
	OAuthStateCookie = "acpbridge_oauth_state"
	// MaxPendingOAuthStates caps the unused, unexpired states kept per
	// shop: anyone may start an install of any shop, so without it a loop
	// of /auth requests fills oauth_states. Beyond it the oldest state is
	// dropped (its install must be started again) rather than the new one
	// refused, so a flood cannot lock the real merchant out of installing.
	MaxPendingOAuthStates = 10
)

// ShopifyOAuth is Shopify's token endpoint (shopify.OAuth).
type ShopifyOAuth interface {
	AuthorizeURL(shop, state, redirectURI string, scopes []string) string
	ExchangeCode(ctx context.Context, shop, code string) (*shopify.Token, error)
	ExchangeIDToken(ctx context.Context, shop, idToken string) (*shopify.Token, error)
	Refresh(ctx context.Context, shop, refreshToken string) (*shopify.Token, error)
}

// ShopifyAdmin is the GraphQL Admin API (shopify.Admin).
type ShopifyAdmin interface {
	Query(ctx context.Context, shop, accessToken, query string, vars map[string]any, out any) error
}

// ShopifyStore is what the Shopify connection needs of the database.
type ShopifyStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	WithShopLock(ctx context.Context, shopID int64, fn func(ctx context.Context) error) error
	SaveShopInstall(ctx context.Context, sh app.Shop) (*app.Shop, error)
	ShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	// CachedShopByDomain is ShopByDomain answered from this process's
	// memory for a few seconds (store.AuthCacheTTL), forgotten at once by
	// this process's writes of the shop: for a webhook's receipt and a
	// query's token, never where the row must be as committed.
	CachedShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	UninstallShop(ctx context.Context, domain string) error
	UpdateShopTokens(ctx context.Context, shopID int64, t app.SealedTokens) error
	MarkShopReauth(ctx context.Context, shopID int64, reason string) error
	UpdateShopDetails(ctx context.Context, shopID int64, d app.ShopDetails) error
	// UpdateShopScopes stores the scopes the shop granted (app.JoinScopes).
	UpdateShopScopes(ctx context.Context, shopID int64, scopes string) error
	// CreateOAuthState stores a state and keeps at most keep pending
	// states for the shop, deleting the oldest.
	CreateOAuthState(ctx context.Context, stateHash, shop string, expiresAt time.Time, keep int) error
	ConsumeOAuthState(ctx context.Context, stateHash, shop string) error
	InsertWebhookEvent(ctx context.Context, ev app.WebhookEvent) (id int64, duplicate bool, err error)
	WebhookEvent(ctx context.Context, id int64) (*app.WebhookEvent, error)
	FinishWebhookEvent(ctx context.Context, id int64, outcome string) error
	SaveComplianceRequest(ctx context.Context, r app.ComplianceRequest) error
	CustomerData(ctx context.Context, shop string, c app.CustomerRef) (map[string]int64, error)
	// CustomerExport gathers what is held on the customer, opened, for a
	// data request's export (stored sealed by SaveComplianceRequest).
	CustomerExport(ctx context.Context, shop string, c app.CustomerRef) (*app.CustomerExport, error)
	RedactCustomer(ctx context.Context, shop string, c app.CustomerRef) (map[string]int64, error)
	DeleteShopData(ctx context.Context, shop string, uninstalledBefore time.Time, keepWebhookID string) (map[string]int64, error)
	NoteWebhookEvent(ctx context.Context, id int64, outcome string) error
	// ClaimWebhookEvent, ReleaseWebhookEvent and HandOverWebhookEvents
	// keep one delivery processed by one process at a time (inline.go).
	ClaimWebhookEvent(ctx context.Context, id int64, now, until time.Time) (ev *app.WebhookEvent, claimed bool, err error)
	ReleaseWebhookEvent(ctx context.Context, id int64) error
	HandOverWebhookEvents(ctx context.Context, now time.Time, limit int) ([]int64, error)
}

// CatalogEvents is what the catalog does about Shopify's news.
type CatalogEvents interface {
	Installed(ctx context.Context, shop string, profile app.ShopProfile) error
	ProductChanged(ctx context.Context, shop string, productID int64) error
	ProductDeleted(ctx context.Context, shop string, productID int64) error
	InventoryChanged(ctx context.Context, shop string, inventoryItemID int64) error
	BulkFinished(ctx context.Context, shop, bulkOperationID string) error
}

// Shopify is the app's connection to Shopify: installs (token exchange and
// the authorization-code grant), tokens and their refresh, Admin API calls
// on a shop's behalf, and webhooks.
type Shopify struct {
	ClientID     string
	ClientSecret string
	// PreviousSecrets still verify webhooks for an hour after a rotation.
	PreviousSecrets []string
	Scopes          []string
	// AppURL is the app's public base URL (the OAuth redirect is under it).
	AppURL *url.URL

	Store  ShopifyStore
	Queue  app.Enqueuer
	OAuth  ShopifyOAuth
	Admin  ShopifyAdmin
	Keys   *secret.Keyring
	Logger *slog.Logger
	Now    func() time.Time
}

// Options are the Shopify connection's settings: the app's identity at
// Shopify, and what defaults when left out.
type Options struct {
	ClientID     string
	ClientSecret string
	// PreviousSecrets still verify webhooks for an hour after a rotation.
	PreviousSecrets []string
	Scopes          []string
	// AppURL is the app's public base URL; nil until the app knows where it
	// is reached (the service then sets the address it listens on).
	AppURL *url.URL
	Logger *slog.Logger     // default slog.Default()
	Now    func() time.Time // default time.Now
}

// New builds the Shopify connection over its store, the keyring that seals
// the shops' tokens, the job queue, Shopify's token endpoint and its Admin
// API.
func New(store ShopifyStore, keys *secret.Keyring, queue app.Enqueuer, oauth ShopifyOAuth, admin ShopifyAdmin, opts Options) *Shopify {
	return &Shopify{
		ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, PreviousSecrets: opts.PreviousSecrets,
		Scopes: opts.Scopes, AppURL: opts.AppURL,
		Store: store, Queue: queue, OAuth: oauth, Admin: admin, Keys: keys,
		Logger: cmp.Or(opts.Logger, slog.Default()), Now: orNow(opts.Now),
	}
}

// orNow is now, or time.Now when nil.
func orNow(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

func (s *Shopify) redirectURI() string { return s.AppURL.String() + "/auth/callback" }

// BeginInstall starts the authorization-code grant for a shop: it returns
// the Shopify consent URL to redirect to and the state nonce to set as the
// OAuthStateCookie (the callback must present both).
func (s *Shopify) BeginInstall(ctx context.Context, shopParam string) (redirect, nonce string, err error) {
	shop, err := shopify.NormalizeShop(shopParam)
	if err != nil {
		return "", "", &app.Error{Code: app.CodeInvalid, Field: "shop", Message: "shop must be a NAME.myshopify.com domain"}
	}
	nonce, err = randomToken(32)
	if err != nil {
		return "", "", err
	}
	if err := s.Store.CreateOAuthState(ctx, hashState(nonce), shop, s.Now().Add(OAuthStateTTL), MaxPendingOAuthStates); err != nil {
		return "", "", fmt.Errorf("begin install: %w", err)
	}
	return s.OAuth.AuthorizeURL(shop, nonce, s.redirectURI(), s.Scopes), nonce, nil
}

// CompleteInstall finishes the authorization-code grant from Shopify's
// callback query and the state cookie: HMAC (constant time) and timestamp,
// shop domain, state equal to the cookie and unused (single use across
// replicas), then the code is exchanged for an expiring offline token.
func (s *Shopify) CompleteInstall(ctx context.Context, q url.Values, cookieNonce string) (*app.Shop, error) {
	if err := shopify.VerifyQuery(q, s.ClientSecret, s.Now()); err != nil {
		return nil, &app.Error{Code: app.CodeUnauthorized, Field: "hmac", Message: "the callback's " + err.Error()}
	}
	shop, err := shopify.NormalizeShop(q.Get("shop"))
	if err != nil {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "shop", Message: "shop must be a NAME.myshopify.com domain"}
	}
	state := q.Get("state")
	if state == "" || cookieNonce == "" || subtle.ConstantTimeCompare([]byte(state), []byte(cookieNonce)) != 1 {
		return nil, &app.Error{Code: app.CodeForbidden, Field: "state", Message: "the state does not match this browser's; start the install again"}
	}
	if err := s.Store.ConsumeOAuthState(ctx, hashState(state), shop); err != nil {
		if errors.Is(err, app.ErrNotFound) {
			return nil, &app.Error{Code: app.CodeForbidden, Field: "state", Message: "the state is unknown, used or expired; start the install again"}
		}
		return nil, fmt.Errorf("complete install: %w", err)
	}
	code := q.Get("code")
	if code == "" {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "code", Message: "code is required"}
	}
	tok, err := s.OAuth.ExchangeCode(ctx, shop, code)
	if err != nil {
		return nil, s.tokenError("exchange code", err)
	}
	return s.install(ctx, shop, tok)
}

// Authenticate checks an App Bridge ID token (sent by the embedded admin on
// every request) and returns its shop, installing or re-authorising it by
// token exchange when the shop has no usable offline token. This is
// Shopify-managed installation: the first request after install installs.
func (s *Shopify) Authenticate(ctx context.Context, idToken string) (*app.Shop, *shopify.IDTokenClaims, error) {
	claims, err := shopify.VerifyIDToken(idToken, s.ClientID, s.ClientSecret, s.Now())
	if err != nil {
		return nil, nil, &app.Error{Code: app.CodeUnauthorized, Message: "ID token: " + err.Error()}
	}
	sh, err := s.Store.ShopByDomain(ctx, claims.Shop)
	if err == nil && sh.Status == app.ShopActive && sh.AccessTokenSealed != "" && !s.expiring(sh.AccessTokenExpiresAt, 0) {
		return sh, claims, nil
	}
	if err != nil && !errors.Is(err, app.ErrNotFound) {
		return nil, nil, fmt.Errorf("authenticate: %w", err)
	}
	tok, err := s.OAuth.ExchangeIDToken(ctx, claims.Shop, idToken)
	if err != nil {
		return nil, nil, s.exchangeError(ctx, claims.Shop, err)
	}
	sh, err = s.install(ctx, claims.Shop, tok)
	return sh, claims, err
}

// install stores the shop with its sealed tokens and enqueues the install
// follow-up in the same transaction.
func (s *Shopify) install(ctx context.Context, shop string, tok *shopify.Token) (*app.Shop, error) {
	sealed, err := s.seal(shop, tok)
	if err != nil {
		return nil, err
	}
	if missing := missingScopes(tok.Scope, s.Scopes); len(missing) > 0 {
		// Managed install grants what shopify.app.toml declares; a gap means
		// the toml and SCOPES disagree, and the features needing them fail.
		s.Logger.WarnContext(ctx, "shop granted fewer scopes than configured", "shop", shop, "missing", strings.Join(missing, ","))
	}
	var out *app.Shop
	err = s.Store.InTx(ctx, func(ctx context.Context) error {
		sh, err := s.Store.SaveShopInstall(ctx, app.Shop{
			Domain: shop, Scopes: tok.Scope,
			AccessTokenSealed: sealed.Access, AccessTokenExpiresAt: sealed.AccessExpiresAt,
			RefreshTokenSealed: sealed.Refresh, RefreshTokenExpiresAt: sealed.RefreshExpiresAt,
		})
		if err != nil {
			return err
		}
		out = sh
		return s.Queue.EnqueueTx(ctx, app.ShopInstalledArgs{Shop: shop}, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("install %s: %w", shop, err)
	}
	s.Logger.InfoContext(ctx, "shop installed", "shop", shop, "scopes", tok.Scope, "expiring_token", tok.ExpiresAt != nil)
	return out, nil
}

// Query runs a GraphQL Admin API document for the shop. When Shopify
// answers 401, it refreshes the token once and retries; a second 401 marks
// the shop as needing re-authorisation.
func (s *Shopify) Query(ctx context.Context, shop, query string, vars map[string]any, out any) error {
	token, used, err := s.accessToken(ctx, shop)
	if err != nil {
		return err
	}
	err = s.Admin.Query(ctx, shop, token, query, vars, out)
	if !errors.Is(err, shopify.ErrUnauthorized) {
		return err
	}
	sh, err := s.Store.ShopByDomain(ctx, shop)
	if err != nil {
		return err
	}
	// Refused is the token we sent: if another worker has replaced it
	// since, refresh uses theirs instead of spending the refresh token again.
	if sh, err = s.refresh(ctx, sh, used); err != nil {
		return err
	}
	token, err = s.openAccess(sh)
	if err != nil {
		return err
	}
	err = s.Admin.Query(ctx, shop, token, query, vars, out)
	if errors.Is(err, shopify.ErrUnauthorized) {
		return s.markReauth(ctx, sh, "Shopify refused a freshly refreshed token")
	}
	return err
}

// saveShopDetails fetches what Shopify says of a newly installed shop
// (name, currency, country, storefront and policy URLs) and saves it; nil
// when the shop cannot be asked now (inactive, or awaiting
// re-authorisation: nothing to do until the merchant comes back).
func (s *Shopify) saveShopDetails(ctx context.Context, shop string) (*app.ShopProfile, error) {
	var resp struct {
		Shop struct {
			ID           string `json:"id"`
			Name         string `json:"name"`
			CurrencyCode string `json:"currencyCode"`
			// shopAddress: Shop.billingAddress is deprecated in 2026-10.
			ShopAddress struct {
				CountryCodeV2 string `json:"countryCodeV2"`
			} `json:"shopAddress"`
			PrimaryDomain struct {
				URL string `json:"url"`
			} `json:"primaryDomain"`
			ShopPolicies []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"shopPolicies"`
		} `json:"shop"`
	}
	const q = `query ShopDetails { shop { id name currencyCode shopAddress { countryCodeV2 } primaryDomain { url } shopPolicies { type url } } }`
	if err := s.Query(ctx, shop, q, nil, &resp); err != nil {
		if errors.Is(err, app.ErrShopInactive) || errors.Is(err, app.ErrReauthRequired) {
			return nil, nil // nothing to do until the merchant comes back
		}
		return nil, fmt.Errorf("after install %s: %w", shop, err)
	}
	sh, err := s.Store.ShopByDomain(ctx, shop)
	if err != nil {
		return nil, err
	}
	p := app.ShopProfile{
		ShopDetails: app.ShopDetails{
			Name: resp.Shop.Name, ShopifyGID: resp.Shop.ID,
			CurrencyCode: resp.Shop.CurrencyCode, CountryCode: resp.Shop.ShopAddress.CountryCodeV2,
		},
		StorefrontURL: resp.Shop.PrimaryDomain.URL,
	}
	for _, pol := range resp.Shop.ShopPolicies {
		switch pol.Type {
		case "REFUND_POLICY":
			p.RefundPolicyURL = pol.URL
		case "PRIVACY_POLICY":
			p.PrivacyPolicyURL = pol.URL
		case "TERMS_OF_SERVICE":
			p.TermsURL = pol.URL
		case "SHIPPING_POLICY":
			p.ShippingPolicyURL = pol.URL
		case "CONTACT_INFORMATION":
			p.ContactURL = pol.URL
		}
	}
	if err := s.Store.UpdateShopDetails(ctx, sh.ID, p.ShopDetails); err != nil {
		return nil, err
	}
	return &p, nil
}

// missingScopes lists the wanted scopes the granted list does not cover; a
// write_ scope covers its read_ scope.
func missingScopes(granted string, wanted []string) []string {
	have := map[string]bool{}
	for g := range strings.SplitSeq(granted, ",") {
		g = strings.TrimSpace(g)
		have[g] = true
		if r, ok := strings.CutPrefix(g, "write_"); ok {
			have["read_"+r] = true
		}
	}
	var out []string
	for _, w := range wanted {
		if !have[w] {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return out
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashState(nonce string) string {
	sum := sha256.Sum256([]byte(nonce))
	return hex.EncodeToString(sum[:])
}
