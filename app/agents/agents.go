package agents

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/secret"
)

// AgentStore is what agent access needs of the database.
type AgentStore interface {
	ShopByDomain(ctx context.Context, domain string) (*app.Shop, error)
	CreateAPIKey(ctx context.Context, k app.APIKey) (*app.APIKey, error)
	RevokeAPIKey(ctx context.Context, shopID, keyID int64) error
	APIKeys(ctx context.Context, shopID int64) ([]*app.APIKey, error)
	// APIKeyByHash returns a live key, its shop whatever its status (the
	// caller decides) and the shop's settings (nil when none), or
	// ErrNotFound.
	APIKeyByHash(ctx context.Context, hash string) (*app.APIKey, *app.Shop, *app.ACPSettings, *app.PolicyURLs, error)
	ACPSettings(ctx context.Context, shopID int64) (*app.ACPSettings, error)
	SaveACPSettings(ctx context.Context, s app.ACPSettings) error
	// SetCompletionMethod saves the shop's completion method (creating its
	// settings when none are saved), and nothing else.
	SetCompletionMethod(ctx context.Context, shopID int64, m app.CompletionMethod, at time.Time) error
	PaymentCredentialStore
}

// APIKeyPrefix starts every agent API key, so a leaked one is recognisable.
const APIKeyPrefix = "acpb_live"

// SignatureWindow is how far a signed request's Timestamp may be from now.
const SignatureWindow = 5 * time.Minute

// Access manages how agents authenticate to a shop's ACP API: API keys
// (stored hashed, several live at once during a rotation) and optional
// request signatures (HMAC-SHA256 with a per-shop secret):
//
//	Timestamp: <RFC 3339 date-time, or Unix seconds>
//	Signature: base64url(HMAC-SHA256(secret, Timestamp + "." + body))
//
// valid within ±SignatureWindow of the server's clock. Agents' libraries
// differ, so VerifySignature accepts each of their choices: the Signature
// in standard or URL-safe base64, padded or not, or as 64 hex digits; the
// body as sent (raw bytes) or in its RFC 8785 canonical form (the ACP RFC's
// "canonical JSON"; "null" for an empty body, see CanonicalBody); the
// Timestamp as sent or as the same instant in UTC RFC 3339 with
// fractional seconds only as needed (time.RFC3339Nano).
type Access struct {
	Store AgentStore
	Keys  *secret.Keyring
	Now   func() time.Time
	// Payments check a merchant's credentials for a payment provider, by
	// the provider's name (e.g. "stripe"), when they are connected.
	Payments map[string]PaymentConnector
	// Outbound is the outbound-network policy a webhook URL must pass
	// when saved (nil: the strictest, public addresses only).
	Outbound *netguard.Policy
	// Distribution decides the completion methods a shop may use; every
	// settings this type hands out carry the effective method under it
	// (the zero value reads as app.DistributionAppStore).
	Distribution app.Distribution
}

// PaymentConnector is a payment provider's side of connecting a shop
// (app/payment's Provider for Stripe).
type PaymentConnector interface {
	// VerifyCredentials checks the credentials by a real call to the
	// provider and returns the account they belong to. Credentials the
	// provider refuses are an *app.Error worded for the merchant.
	VerifyCredentials(ctx context.Context, credentials string) (accountID string, err error)
}

// PaymentCredentialStore keeps shops' sealed payment credentials.
type PaymentCredentialStore interface {
	// SavePaymentCredentials stores the shop's credentials for c.Provider
	// and makes that provider the one its delegated payment charges.
	SavePaymentCredentials(ctx context.Context, c app.PaymentCredentials) error
}

func (a *Access) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// CreateAPIKey makes a new key for the shop and returns it in plaintext:
// the only time it is ever visible. Older keys stay valid until revoked.
func (a *Access) CreateAPIKey(ctx context.Context, shopID int64, label string) (string, *app.APIKey, error) {
	if len(label) > 100 {
		return "", nil, &app.Error{Code: app.CodeInvalid, Field: "label", Message: "label must be at most 100 characters"}
	}
	key, err := secret.NewAPIKey(APIKeyPrefix)
	if err != nil {
		return "", nil, err
	}
	k, err := a.Store.CreateAPIKey(ctx, app.APIKey{
		ShopID: shopID, Hash: secret.HashAPIKey(key), Fingerprint: secret.Fingerprint(key), Label: label, CreatedAt: a.now(),
	})
	if err != nil {
		return "", nil, fmt.Errorf("create api key: %w", err)
	}
	return key, k, nil
}

// RevokeAPIKey stops one of the shop's keys from working.
func (a *Access) RevokeAPIKey(ctx context.Context, shopID, keyID int64) error {
	return a.Store.RevokeAPIKey(ctx, shopID, keyID)
}

// APIKeys lists the shop's keys (hashes and fingerprints only).
func (a *Access) APIKeys(ctx context.Context, shopID int64) ([]*app.APIKey, error) {
	return a.Store.APIKeys(ctx, shopID)
}

// errBadKey is the one answer to every failed key check, so that a caller
// cannot tell a wrong key from another shop's or a revoked one.
var errBadKey = &app.Error{Code: app.CodeUnauthorized, Reason: "invalid_api_key", Message: "the API key is missing, malformed, revoked or not valid for this shop"}

// Authenticate checks "Authorization: Bearer <key>" for the shop named in
// the request path, then the request's signature (see VerifySignature). A
// key of another shop, a revoked key and any key of an uninstalled shop all
// fail alike.
func (a *Access) Authenticate(ctx context.Context, shopDomain, authorization string) (*app.Agent, error) {
	scheme, key, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, errBadKey
	}
	key = strings.TrimSpace(key)
	if !strings.HasPrefix(key, APIKeyPrefix+"_") || len(key) > 200 {
		return nil, errBadKey
	}
	k, sh, set, pol, err := a.Store.APIKeyByHash(ctx, secret.HashAPIKey(key))
	if errors.Is(err, app.ErrNotFound) {
		return nil, errBadKey
	}
	if err != nil {
		return nil, err
	}
	if sh.Domain != shopDomain || sh.Status == app.ShopUninstalled {
		return nil, errBadKey
	}
	if set == nil {
		set = &app.ACPSettings{ShopID: sh.ID}
	}
	return &app.Agent{Shop: sh, Key: k, Settings: a.distribution().Resolve(set), Policies: pol}, nil
}

// distribution is a.Distribution, app.DistributionAppStore when unset: the
// configuration's default, and the one that never lets a shop charge
// outside Shopify's checkout by mistake.
func (a *Access) distribution() app.Distribution {
	if a.Distribution == "" {
		return app.DistributionAppStore
	}
	return a.Distribution
}

// Settings returns the shop's ACP settings (zero values when none saved)
// with the completion method it sells with: its choice when the
// distribution allows it, Shopify's checkout otherwise.
func (a *Access) Settings(ctx context.Context, shopID int64) (*app.ACPSettings, error) {
	s, err := a.StoredSettings(ctx, shopID)
	if err != nil {
		return nil, err
	}
	return a.distribution().Resolve(s), nil
}

// StoredSettings returns the shop's ACP settings as saved, the completion method
// being the shop's choice: what a read-modify-write of the settings must
// start from, so that saving them never overwrites that choice with the
// effective method.
func (a *Access) StoredSettings(ctx context.Context, shopID int64) (*app.ACPSettings, error) {
	s, err := a.Store.ACPSettings(ctx, shopID)
	if errors.Is(err, app.ErrNotFound) {
		return &app.ACPSettings{ShopID: shopID}, nil
	}
	return s, err
}

// CompletionChoice is a shop's completion method as the admin shows it.
type CompletionChoice struct {
	// Method is the one its agent checkouts complete with (effective).
	Method app.CompletionMethod
	// Chosen is the shop's stored choice (differs from Method only when
	// the distribution forbids the choice).
	Chosen app.CompletionMethod
	// Switchable: the distribution lets the merchant choose; when not,
	// Reason says why in one sentence.
	Switchable bool
	Reason     string
}

// CompletionMethod returns the shop's completion method and whether the
// merchant may switch it.
func (a *Access) CompletionMethod(ctx context.Context, shopID int64) (CompletionChoice, error) {
	s, err := a.StoredSettings(ctx, shopID)
	if err != nil {
		return CompletionChoice{}, err
	}
	return a.choice(s.CompletionMethod), nil
}

func (a *Access) choice(chosen app.CompletionMethod) CompletionChoice {
	d := a.distribution()
	c := CompletionChoice{Method: d.Effective(chosen), Chosen: chosen.OrDefault(), Switchable: d.Allows(app.CompletionDelegatedPayment)}
	if !c.Switchable {
		c.Reason = app.CompletionMethodReason
	}
	return c
}

// SetCompletionMethod saves how the shop's agent checkouts complete. An
// unknown method is refused (CodeInvalid, field completion_method), and so
// is delegated payment when the distribution forbids it (CodeConflict,
// reason completion_method_not_allowed, with the one-sentence why).
// Delegated payment is accepted before a payment provider is connected:
// the checklist keeps its payment step open and checkouts offer no payment
// handler until one is, as for a shop that never had the choice.
func (a *Access) SetCompletionMethod(ctx context.Context, shopID int64, method app.CompletionMethod) (CompletionChoice, error) {
	if !method.Valid() {
		return CompletionChoice{}, &app.Error{Code: app.CodeInvalid, Field: "completion_method",
			Message: fmt.Sprintf("completion_method must be %s or %s", app.CompletionShopifyCheckout, app.CompletionDelegatedPayment)}
	}
	if !a.distribution().Allows(method) {
		return CompletionChoice{}, &app.Error{Code: app.CodeConflict, Field: "completion_method", Reason: "completion_method_not_allowed",
			Message: app.CompletionMethodReason}
	}
	if err := a.Store.SetCompletionMethod(ctx, shopID, method, a.now()); err != nil {
		return CompletionChoice{}, err
	}
	return a.choice(method), nil
}

// RotateSigningSecret makes a new request-signing secret and returns it in
// plaintext (shown once); the old one stops verifying at once. require
// makes signatures mandatory for the shop's requests.
func (a *Access) RotateSigningSecret(ctx context.Context, shopID int64, require bool) (string, error) {
	s, err := a.StoredSettings(ctx, shopID)
	if err != nil {
		return "", err
	}
	plain, err := secret.NewAPIKey("acpb_sig")
	if err != nil {
		return "", err
	}
	if s.SigningSecretSealed, err = a.Keys.Seal([]byte(plain), app.SigningSecretAAD(shopID)); err != nil {
		return "", err
	}
	s.RequireSignature = require
	s.UpdatedAt = a.now()
	return plain, a.Store.SaveACPSettings(ctx, *s)
}

// RotateWebhookSecret makes a new secret for signing the order events sent
// to the agent, returned in plaintext once; url ("" keeps the current one)
// must be an https URL (http only for loopback, for tests and the demo)
// whose host the outbound policy allows (Outbound: public addresses, and
// loopback when OUTBOUND_ALLOW_LOOPBACK is set).
func (a *Access) RotateWebhookSecret(ctx context.Context, shopID int64, url string) (string, error) {
	s, err := a.StoredSettings(ctx, shopID)
	if err != nil {
		return "", err
	}
	if url != "" {
		if err := checkHTTPSURL(url, true); err != nil {
			return "", &app.Error{Code: app.CodeInvalid, Field: "webhook_url", Message: err.Error()}
		}
		if err := a.Outbound.CheckURL(ctx, url); err != nil {
			return "", app.OutboundRefusal("webhook_url", err)
		}
		s.WebhookURL = url
	}
	plain, err := secret.NewAPIKey("acpb_whsec")
	if err != nil {
		return "", err
	}
	if s.WebhookSecretSealed, err = a.Keys.Seal([]byte(plain), app.WebhookSecretAAD(shopID)); err != nil {
		return "", err
	}
	s.UpdatedAt = a.now()
	return plain, a.Store.SaveACPSettings(ctx, *s)
}

// ConnectPayment verifies the merchant's credentials for a payment
// provider (for Stripe, a secret or restricted key) by a real call to it,
// then stores them sealed with the account they belong to, which delegated
// payment then charges; it returns that account. The credentials never
// leave the server again.
func (a *Access) ConnectPayment(ctx context.Context, shopID int64, provider, credentials string) (string, error) {
	p, ok := a.Payments[provider]
	if !ok {
		return "", fmt.Errorf("agents: no payment provider %q configured", provider)
	}
	credentials = strings.TrimSpace(credentials)
	account, err := p.VerifyCredentials(ctx, credentials)
	if err != nil {
		return "", err
	}
	sealed, err := a.Keys.Seal([]byte(credentials), app.PaymentCredentialsAAD(shopID, provider))
	if err != nil {
		return "", err
	}
	now := a.now()
	err = a.Store.SavePaymentCredentials(ctx, app.PaymentCredentials{
		ShopID: shopID, Provider: provider, AccountID: account, Sealed: sealed, VerifiedAt: &now, UpdatedAt: now,
	})
	// The store forgets the shop's cached authentication as it saves, so
	// the next request sees the account at once.
	return account, err
}

var errBadSignature = &app.Error{Code: app.CodeUnauthorized, Reason: "invalid_signature"}

// VerifySignature checks a request's Signature and Timestamp headers over
// its body (raw or canonical, see Access), with the agent's shop settings.
// With no secret set, or a secret set but not required and no Signature
// sent, the request passes; a Signature that is sent is always checked.
func (a *Access) VerifySignature(ag *app.Agent, timestamp, signature string, body []byte) error {
	s, shopID := ag.Settings, ag.Shop.ID
	if signature == "" {
		if s.RequireSignature {
			return &app.Error{Code: app.CodeUnauthorized, Reason: "signature_required", Message: "this shop requires signed requests: send Signature and Timestamp (headers over REST; meta.signature and meta.timestamp over MCP; see the API documentation)"}
		}
		return nil
	}
	if s.SigningSecretSealed == "" {
		return &app.Error{Code: app.CodeUnauthorized, Reason: "invalid_signature", Message: "a Signature was sent but no signing secret is set for this shop"}
	}
	ts, ok := parseSignatureTime(timestamp)
	if !ok {
		return &app.Error{Code: app.CodeUnauthorized, Reason: "invalid_signature", Message: "the Timestamp (header, or meta.timestamp over MCP) must be an RFC 3339 date-time or Unix seconds"}
	}
	if d := a.now().Sub(ts); d > SignatureWindow || d < -SignatureWindow {
		return &app.Error{Code: app.CodeUnauthorized, Reason: "invalid_signature", Message: "the Timestamp is more than 5 minutes away from the server's clock"}
	}
	key, err := a.Keys.Open(s.SigningSecretSealed, app.SigningSecretAAD(shopID))
	if err != nil {
		return fmt.Errorf("open signing secret: %w", err)
	}
	got, ok := decodeSignature(signature)
	if !ok || !signatureMatches(key, got, timestamp, ts, body) {
		e := *errBadSignature
		e.Message = `the Signature does not match the body and Timestamp: it must be the HMAC-SHA256 of Timestamp + "." + the body as sent or its RFC 8785 canonical JSON, under the shop's signing secret`
		return &e
	}
	return nil
}

// signatureMatches reports whether mac is the HMAC of one of the signing
// inputs agents' libraries compute for this request: the Timestamp as sent
// or as UTC RFC 3339 with fractional seconds only as needed (what signers
// that format a time value send, e.g. sumup/acp's), then "." and the raw
// body, or else its RFC 8785 canonical form (the RFC's "canonical JSON";
// an empty body's is "null"). At most four MACs: the raw ones first, and
// the body is canonicalised only when they fail; a body that is not JSON
// has no canonical form and is checked raw only. Each candidate is
// compared with hmac.Equal, and which one matched is not told.
func signatureMatches(key, mac []byte, timestamp string, ts time.Time, body []byte) bool {
	stamps := []string{timestamp}
	if utc := ts.UTC().Format(time.RFC3339Nano); utc != timestamp {
		stamps = append(stamps, utc)
	}
	matches := func(b []byte) bool {
		ok := false
		for _, s := range stamps {
			ok = hmac.Equal(mac, SignRequest(key, s, b)) || ok
		}
		return ok
	}
	if matches(body) {
		return true
	}
	canonical, ok := CanonicalBody(body)
	return ok && !bytes.Equal(canonical, body) && matches(canonical)
}

// CanonicalBody is the canonical form a signature over "canonical JSON"
// covers: the body's RFC 8785 (JCS) form, "null" for an empty body (no
// bytes, or white space only: the JSON value a signer that reads the body
// first decodes it to); ok is false when the body is not one JSON
// document RFC 8785 can canonicalise (see acp.JCS).
func CanonicalBody(body []byte) (canonical []byte, ok bool) {
	if len(bytes.TrimSpace(body)) == 0 {
		return []byte("null"), true
	}
	c, err := acp.JCS(body)
	return c, err == nil
}

// SignRequest is the HMAC-SHA256 of timestamp + "." + body: what a
// Signature header carries (base64-encoded), body being the raw bytes or
// CanonicalBody's form of them.
func SignRequest(key []byte, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

func parseSignatureTime(s string) (time.Time, bool) {
	if s == "" || len(s) > 40 {
		return time.Time{}, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// decodeSignature accepts base64 (standard or URL alphabet, padded or not)
// and hex, as agents' libraries differ.
func decodeSignature(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	if len(s) == 64 {
		if b, err := hex.DecodeString(s); err == nil {
			return b, true
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}

// checkHTTPSURL accepts an absolute https URL, or http on a loopback host
// when allowLoopbackHTTP (local development, tests and the demo).
func checkHTTPSURL(raw string, allowLoopbackHTTP bool) error {
	u, err := url.Parse(raw)
	switch {
	case err != nil || u.Host == "" || len(raw) > 2000:
		return errors.New("must be an absolute https URL, such as https://agent.example/webhooks/acp")
	case u.User != nil:
		return errors.New("must not carry a user name or password")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && allowLoopbackHTTP && netguard.IsLoopbackHost(u.Hostname()):
		return nil
	}
	return errors.New("must use https")
}
