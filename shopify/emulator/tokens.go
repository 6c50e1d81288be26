package emulator

import (
	"crypto/rand"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/acpbridge/acpbridge/shopify"
)

// accessToken is an Admin API token the emulator issued.
type accessToken struct {
	token   string
	shop    string
	scopes  []string
	expires time.Time // zero: never
	revoked bool
	staff   bool // a staff member's token: every scope, survives uninstall
}

// refreshToken is the refresh half of an expiring offline token.
type refreshToken struct {
	token   string
	shop    string
	scopes  []string
	expires time.Time
}

// authCode is an OAuth authorization code: single use, 60 s.
type authCode struct {
	shop    string
	scopes  []string
	perUser bool
	expires time.Time
}

// authCodeTTL is how long Shopify's authorization codes live.
const authCodeTTL = 60 * time.Second

// onlineTokenTTL is the lifetime given to online (per-user) tokens; Shopify
// states it in expires_in and the app must not assume it.
const onlineTokenTTL = 24 * time.Hour

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b)
}

// issueAccessToken creates and stores a token; ttl 0 means non-expiring. The
// caller holds e.mu.
func (e *Emulator) issueAccessToken(s *shopState, scopes []string, ttl time.Duration, staff bool) *accessToken {
	t := &accessToken{token: "shpat_" + randomHex(16), shop: s.domain, scopes: slices.Clone(scopes), staff: staff}
	if ttl > 0 {
		t.expires = e.now().Add(ttl)
	}
	e.tokens[t.token] = t
	return t
}

// issueRefreshToken creates and stores a refresh token. The caller holds e.mu.
func (e *Emulator) issueRefreshToken(s *shopState, scopes []string) *refreshToken {
	t := &refreshToken{token: "shprt_" + randomHex(16), shop: s.domain, scopes: slices.Clone(scopes), expires: e.now().Add(e.cfg.RefreshTokenTTL)}
	e.refreshes[t.token] = t
	return t
}

// validToken returns the token if it is known, unrevoked and unexpired. The
// caller holds e.mu.
func (e *Emulator) validToken(tok string) *accessToken {
	t := e.tokens[tok]
	if t == nil || t.revoked || (!t.expires.IsZero() && !e.now().Before(t.expires)) {
		return nil
	}
	return t
}

// hasScope reports whether a token may use an API needing scope. A write_X
// scope implies read_X, as on Shopify.
func (t *accessToken) hasScope(scope string) bool {
	if t.staff || scope == "" {
		return true
	}
	write := strings.Replace(scope, "read_", "write_", 1)
	return slices.Contains(t.scopes, scope) || slices.Contains(t.scopes, write)
}

// ExpireAccessTokens makes every app access token of the shop expire now, so
// the app's next call gets 401 and must refresh. Refresh tokens stay valid.
func (e *Emulator) ExpireAccessTokens(shop string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	past := e.now().Add(-time.Second)
	for _, t := range e.tokens {
		if t.shop == shop && !t.staff {
			t.expires = past
		}
	}
}

// RevokeTokens revokes every app access and refresh token of the shop, as an
// uninstall does, without sending app/uninstalled.
func (e *Emulator) RevokeTokens(shop string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.revokeLocked(shop)
}

// revokeLocked is RevokeTokens for a caller holding e.mu.
func (e *Emulator) revokeLocked(shop string) {
	for _, t := range e.tokens {
		if t.shop == shop && !t.staff {
			t.revoked = true
		}
	}
	for k, t := range e.refreshes {
		if t.shop == shop {
			delete(e.refreshes, k)
		}
	}
}

// IDToken returns a fresh App Bridge ID token (session token) for a staff
// user of the shop: HS256 with the app's secret, valid for one minute.
func (e *Emulator) IDToken(shop, userID string) string {
	now := e.now()
	return shopify.SignIDToken(shopify.IDTokenClaims{
		Issuer:    "https://" + shop + "/admin",
		Dest:      "https://" + shop,
		Audience:  e.cfg.APIKey,
		Subject:   userID,
		SessionID: randomHex(16),
		JTI:       uuid.NewString(),
		Exp:       now.Add(time.Minute).Unix(),
		Nbf:       now.Unix(),
		Iat:       now.Unix(),
	}, e.cfg.APISecret)
}
