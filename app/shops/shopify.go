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
	UninstallShop(ctx context.Context, domain string) error
	UpdateShopTokens(ctx context.Context, shopID int64, t app.SealedTokens) error
	MarkShopReauth(ctx context.Context, shopID int64, reason string) error
	UpdateShopDetails(ctx context.Context, shopID int64, d app.ShopDetails) error
	// CreateOAuthState stores a state and keeps at most keep pending
	// states for the shop, deleting the oldest.
	CreateOAuthState(ctx context.Context, stateHash, shop string, expiresAt time.Time, keep int) error
	ConsumeOAuthState(ctx context.Context, stateHash, shop string) error
	InsertWebhookEvent(ctx context.Context, ev app.WebhookEvent) (id int64, duplicate bool, err error)
	WebhookEvent(ctx context.Context, id int64) (*app.WebhookEvent, error)
	FinishWebhookEvent(ctx context.Context, id int64, outcome string) error
	SaveComplianceRequest(ctx context.Context, r app.ComplianceRequest) error
	CustomerData(ctx context.Context, shop string, c app.CustomerRef) (map[string]int64, error)
	RedactCustomer(ctx context.Context, shop string, c app.CustomerRef) (map[string]int64, error)
	DeleteShopData(ctx context.Context, shop string, uninstalledBefore time.Time, keepWebhookID string) (map[string]int64, error)
	NoteWebhookEvent(ctx context.Context, id int64, outcome string) error
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

func (s *Shopify) seal(shop string, tok *shopify.Token) (app.SealedTokens, error) {
	access, err := s.Keys.Seal([]byte(tok.AccessToken), app.AccessTokenAAD(shop))
	if err != nil {
		return app.SealedTokens{}, fmt.Errorf("seal access token: %w", err)
	}
	out := app.SealedTokens{Access: access, AccessExpiresAt: tok.ExpiresAt, RefreshExpiresAt: tok.RefreshExpiresAt}
	if tok.RefreshToken != "" {
		if out.Refresh, err = s.Keys.Seal([]byte(tok.RefreshToken), app.RefreshTokenAAD(shop)); err != nil {
			return app.SealedTokens{}, fmt.Errorf("seal refresh token: %w", err)
		}
	}
	return out, nil
}

// tokenError turns a token endpoint failure into what the caller should see.
func (s *Shopify) tokenError(op string, err error) error {
	switch {
	case errors.Is(err, shopify.ErrInvalidGrant):
		return &app.Error{Code: app.CodeUnauthorized, Message: "Shopify refused the grant (" + op + "); start again from the Shopify admin"}
	case errors.Is(err, shopify.ErrInvalidClient):
		// Our client id or secret is wrong: an operator problem, not the merchant's.
		return fmt.Errorf("%s: Shopify rejected the app's client credentials: %w", op, err)
	default:
		return fmt.Errorf("%s: %w", op, err)
	}
}

// exchangeError turns a failed token exchange into a 401 (App Bridge
// then fetches a fresh ID token and retries) or, when Shopify did not
// answer, a 503: never a 500. Shopify refuses an exchange for a shop it
// does not know (404), a token it does not accept (400) or our client
// credentials (401); the caller can do nothing about the last, so it is
// logged as an error for the operator.
func (s *Shopify) exchangeError(ctx context.Context, shop string, err error) error {
	switch {
	case errors.Is(err, shopify.ErrUnavailable):
		s.Logger.WarnContext(ctx, "token exchange: Shopify unavailable", "shop", shop, "err", err)
		return &app.Error{Code: app.CodeUnavailable, RetryAfter: time.Second, Message: "Shopify did not answer the token exchange; retry"}
	case errors.Is(err, shopify.ErrInvalidClient):
		s.Logger.ErrorContext(ctx, "token exchange: Shopify refused the app's client credentials (check SHOPIFY_API_KEY and SHOPIFY_API_SECRET)", "shop", shop, "err", err)
	default:
		s.Logger.WarnContext(ctx, "token exchange refused", "shop", shop, "err", err)
	}
	return &app.Error{Code: app.CodeUnauthorized, Message: "Shopify refused the token exchange; open the app from the Shopify admin again"}
}

// expiring reports whether a token expiring at t is within window of it.
func (s *Shopify) expiring(t *time.Time, window time.Duration) bool {
	return t != nil && !s.Now().Add(window).Before(*t)
}

// AccessToken returns a usable access token for the shop, refreshing it
// first when it is within RefreshWindow of expiry.
func (s *Shopify) AccessToken(ctx context.Context, shop string) (string, error) {
	token, _, err := s.accessToken(ctx, shop)
	return token, err
}

// accessToken is AccessToken that also returns the sealed form of the token
// it returns, so a caller whose token Shopify then refuses can say exactly
// which one was refused.
func (s *Shopify) accessToken(ctx context.Context, shop string) (token, sealed string, err error) {
	sh, err := s.Store.ShopByDomain(ctx, shop)
	if err != nil {
		return "", "", err
	}
	if sh.Status != app.ShopActive {
		if sh.Status == app.ShopReauthRequired {
			return "", "", app.ErrReauthRequired
		}
		return "", "", app.ErrShopInactive
	}
	if s.expiring(sh.AccessTokenExpiresAt, RefreshWindow) {
		if sh, err = s.refresh(ctx, sh, ""); err != nil {
			return "", "", err
		}
	}
	token, err = s.openAccess(sh)
	return token, sh.AccessTokenSealed, err
}

func (s *Shopify) openAccess(sh *app.Shop) (string, error) {
	b, err := s.Keys.Open(sh.AccessTokenSealed, app.AccessTokenAAD(sh.Domain))
	if err != nil {
		return "", fmt.Errorf("open access token of %s: %w", sh.Domain, err)
	}
	return string(b), nil
}

// refresh refreshes the shop's token pair under the shop lock, which every
// replica respects: a refresh token is single-use, so two workers must
// never both spend it. Under the lock it re-reads the shop: when another
// worker refreshed meanwhile (the token is no longer expiring, or differs
// from rejectedSealed, the one Shopify just refused), it uses that result.
func (s *Shopify) refresh(ctx context.Context, sh *app.Shop, rejectedSealed string) (*app.Shop, error) {
	var out *app.Shop
	var result error
	err := s.Store.WithShopLock(ctx, sh.ID, func(ctx context.Context) error {
		cur, err := s.Store.ShopByDomain(ctx, sh.Domain)
		if err != nil {
			return err
		}
		if cur.Status != app.ShopActive {
			result = app.ErrShopInactive
			if cur.Status == app.ShopReauthRequired {
				result = app.ErrReauthRequired
			}
			return nil
		}
		forced := rejectedSealed != ""
		if (forced && cur.AccessTokenSealed != rejectedSealed) || (!forced && !s.expiring(cur.AccessTokenExpiresAt, RefreshWindow)) {
			out = cur // refreshed by someone else while we waited
			return nil
		}
		if cur.RefreshTokenSealed == "" || s.expiring(cur.RefreshTokenExpiresAt, 0) {
			result = s.markReauth(ctx, cur, "no usable refresh token")
			return nil
		}
		rt, err := s.Keys.Open(cur.RefreshTokenSealed, app.RefreshTokenAAD(cur.Domain))
		if err != nil {
			return fmt.Errorf("open refresh token of %s: %w", cur.Domain, err)
		}
		tok, err := s.OAuth.Refresh(ctx, cur.Domain, string(rt))
		if errors.Is(err, shopify.ErrInvalidGrant) {
			result = s.markReauth(ctx, cur, "Shopify refused the refresh token")
			return nil
		}
		if err != nil {
			return fmt.Errorf("refresh token: %w", err)
		}
		sealed, err := s.seal(cur.Domain, tok)
		if err != nil {
			return err
		}
		if err := s.Store.UpdateShopTokens(ctx, cur.ID, sealed); err != nil {
			return err
		}
		cur.AccessTokenSealed, cur.AccessTokenExpiresAt = sealed.Access, sealed.AccessExpiresAt
		cur.RefreshTokenSealed, cur.RefreshTokenExpiresAt = sealed.Refresh, sealed.RefreshExpiresAt
		out = cur
		s.Logger.InfoContext(ctx, "shop token refreshed", "shop", cur.Domain)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("refresh %s: %w", sh.Domain, err)
	}
	if result != nil {
		return nil, result
	}
	return out, nil
}

func (s *Shopify) markReauth(ctx context.Context, sh *app.Shop, reason string) error {
	if err := s.Store.MarkShopReauth(ctx, sh.ID, reason); err != nil {
		return err
	}
	s.Logger.WarnContext(ctx, "shop needs re-authorisation", "shop", sh.Domain, "reason", reason)
	return app.ErrReauthRequired
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
			ID             string `json:"id"`
			Name           string `json:"name"`
			CurrencyCode   string `json:"currencyCode"`
			BillingAddress struct {
				CountryCodeV2 string `json:"countryCodeV2"`
			} `json:"billingAddress"`
			PrimaryDomain struct {
				URL string `json:"url"`
			} `json:"primaryDomain"`
			ShopPolicies []struct {
				Type string `json:"type"`
				URL  string `json:"url"`
			} `json:"shopPolicies"`
		} `json:"shop"`
	}
	const q = `query ShopDetails { shop { id name currencyCode billingAddress { countryCodeV2 } primaryDomain { url } shopPolicies { type url } } }`
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
			CurrencyCode: resp.Shop.CurrencyCode, CountryCode: resp.Shop.BillingAddress.CountryCodeV2,
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
