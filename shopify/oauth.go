package shopify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// OAuth token endpoint errors. Like every error in this package they never
// carry a code, token or secret.
var (
	// ErrInvalidGrant means the code, ID token or refresh token was refused:
	// the grant is dead and the merchant must authorise the app again.
	ErrInvalidGrant = errors.New("grant is invalid, used or expired: the shop must re-authorise")
	// ErrInvalidClient means Shopify refused the app's client id or secret.
	ErrInvalidClient = errors.New("client id or client secret was refused")
)

// oauthTimeout bounds a token call whose context has no deadline: an
// install or admin page load is waiting on it.
const oauthTimeout = 15 * time.Second

// maxOAuthBody bounds what is read of a token response; a real one is a
// few hundred bytes.
const maxOAuthBody = 1 << 20

// Token-exchange grant parameters, from shopify-app-js token-exchange.ts.
const (
	grantTokenExchange   = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeIDToken     = "urn:ietf:params:oauth:token-type:id_token"
	tokenTypeOfflineAcct = "urn:shopify:params:oauth:token-type:offline-access-token"
)

// OAuth talks to https://{shop}/admin/oauth/*. It uses plain net/http
// because go-shopify's GetAccessToken cannot ask for expiring tokens and
// returns only the access token.
type OAuth struct {
	// ClientID and ClientSecret are the app's credentials; the secret is
	// only ever sent in a request body.
	ClientID, ClientSecret string
	// HTTPClient is injected; tests and the demo route *.myshopify.com to
	// an emulator through its Transport. Nil means a plain client.
	HTTPClient *http.Client
	// Now computes ExpiresAt from expires_in; nil means time.Now.
	Now func() time.Time
}

// Token is what Shopify grants: an expiring offline token (expires_in
// 3600) and its single-use refresh token. Its String, GoString and
// LogValue redact both tokens so a stray %v or slog attribute cannot leak
// them.
type Token struct {
	AccessToken string
	// Scope is comma-separated, as granted: the merchant may have granted
	// less than was asked.
	Scope string
	// ExpiresAt is nil for a non-expiring token.
	ExpiresAt *time.Time
	// RefreshToken rotates on every use: persist the new one atomically.
	RefreshToken string
	// RefreshExpiresAt is nil when Shopify sent no refresh token lifetime.
	RefreshExpiresAt *time.Time
}

// String describes the token without its secrets.
func (t Token) String() string {
	exp := "never"
	if t.ExpiresAt != nil {
		exp = t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("shopify.Token{scope=%q expires=%s refresh=%t}", t.Scope, exp, t.RefreshToken != "")
}

// GoString keeps %#v from printing the token fields.
func (t Token) GoString() string { return t.String() }

// LogValue keeps slog from printing the token fields.
func (t Token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// AuthorizeURL is where the authorization code grant sends the merchant:
// https://SHOP/admin/oauth/authorize with client_id, scope, redirect_uri and
// state. No grant_options, so Shopify grants an offline token. It returns ""
// when shop is not a myshopify.com domain, so a forged shop can never
// become a redirect target; callers have checked it already.
func (o *OAuth) AuthorizeURL(shop, state, redirectURI string, scopes []string) string {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return ""
	}
	q := url.Values{
		"client_id":    {o.ClientID},
		"scope":        {strings.Join(scopes, ",")},
		"redirect_uri": {redirectURI},
		"state":        {state},
	}
	u := url.URL{Scheme: "https", Host: shop, Path: "/admin/oauth/authorize", RawQuery: q.Encode()}
	return u.String()
}

// ExchangeCode trades an authorization code from the OAuth callback for an
// expiring offline token.
func (o *OAuth) ExchangeCode(ctx context.Context, shop, code string) (*Token, error) {
	return o.token(ctx, shop, "authorization code", code, map[string]string{
		"code":     code,
		"expiring": "1",
	})
}

// ExchangeIDToken trades an App Bridge ID token (already checked with
// VerifyIDToken) for an expiring offline token: the token-exchange grant
// embedded apps use.
func (o *OAuth) ExchangeIDToken(ctx context.Context, shop, idToken string) (*Token, error) {
	return o.token(ctx, shop, "token exchange", idToken, map[string]string{
		"grant_type":           grantTokenExchange,
		"subject_token":        idToken,
		"subject_token_type":   tokenTypeIDToken,
		"requested_token_type": tokenTypeOfflineAcct,
		"expiring":             "1",
	})
}

// Refresh trades a refresh token for a new access token and a new refresh
// token; the old refresh token is spent.
func (o *OAuth) Refresh(ctx context.Context, shop, refreshToken string) (*Token, error) {
	return o.token(ctx, shop, "refresh", refreshToken, map[string]string{
		"grant_type":    "refresh_token",
		"refresh_token": refreshToken,
	})
}

// tokenResponse is the access_token endpoint's answer, success or error.
type tokenResponse struct {
	AccessToken           string `json:"access_token"`
	Scope                 string `json:"scope"`
	ExpiresIn             int64  `json:"expires_in"`
	RefreshToken          string `json:"refresh_token"`
	RefreshTokenExpiresIn int64  `json:"refresh_token_expires_in"`
	Error                 string `json:"error"`
	ErrorDescription      string `json:"error_description"`
}

// token POSTs one grant to the access_token endpoint. grant names it in
// errors; credential is the code or token being traded, checked for
// presence only.
func (o *OAuth) token(ctx context.Context, shop, grant, credential string, body map[string]string) (*Token, error) {
	shop, err := NormalizeShop(shop)
	if err != nil {
		return nil, fmt.Errorf("shopify oauth %s: %w", grant, err)
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		return nil, fmt.Errorf("shopify oauth %s for %s: client credentials are not configured: %w", grant, shop, ErrInvalidClient)
	}
	if credential == "" {
		return nil, fmt.Errorf("shopify oauth %s for %s: nothing to exchange: %w", grant, shop, ErrInvalidGrant)
	}
	body["client_id"] = o.ClientID
	body["client_secret"] = o.ClientSecret
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("shopify oauth %s for %s: encoding request: %w", grant, shop, err)
	}

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, oauthTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+shop+"/admin/oauth/access_token", bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("shopify oauth %s for %s: %w", grant, shop, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")

	resp, err := o.client().Do(req)
	if err != nil {
		// *url.Error names only the endpoint URL, which holds no secret.
		return nil, fmt.Errorf("shopify oauth %s for %s: %w: %w", grant, shop, ErrUnavailable, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxOAuthBody+1))
	if err != nil {
		return nil, fmt.Errorf("shopify oauth %s for %s: reading response: %w: %w", grant, shop, ErrUnavailable, err)
	}
	if len(raw) > maxOAuthBody {
		return nil, fmt.Errorf("shopify oauth %s for %s: response is larger than %d bytes", grant, shop, maxOAuthBody)
	}
	var tr tokenResponse
	jsonErr := json.Unmarshal(raw, &tr)

	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("shopify oauth %s for %s: %w", grant, shop, oauthStatusError(resp.StatusCode, tr))
	}
	if jsonErr != nil {
		return nil, fmt.Errorf("shopify oauth %s for %s: decoding response: %w", grant, shop, jsonErr)
	}
	if tr.AccessToken == "" {
		return nil, fmt.Errorf("shopify oauth %s for %s: response has no access_token", grant, shop)
	}
	now := o.now()
	t := &Token{AccessToken: tr.AccessToken, Scope: tr.Scope, RefreshToken: tr.RefreshToken}
	if tr.ExpiresIn > 0 {
		at := now.Add(time.Duration(tr.ExpiresIn) * time.Second)
		t.ExpiresAt = &at
	}
	if tr.RefreshTokenExpiresIn > 0 {
		at := now.Add(time.Duration(tr.RefreshTokenExpiresIn) * time.Second)
		t.RefreshExpiresAt = &at
	}
	return t, nil
}

// oauthErrorCode is what an OAuth "error" field looks like; anything else
// is left out of our errors, as error_description is, in case it echoes
// what was sent.
var oauthErrorCode = regexp.MustCompile(`^[a-z_]{1,64}$`)

// oauthStatusError classifies a non-200 token response.
func oauthStatusError(status int, tr tokenResponse) error {
	code := tr.Error
	if !oauthErrorCode.MatchString(code) {
		code = ""
	}
	se := &StatusError{Status: status, Code: code}
	switch {
	case status == http.StatusBadRequest && deadGrant(tr):
		se.Err = ErrInvalidGrant
	case status == http.StatusUnauthorized:
		se.Err = ErrInvalidClient
	case status == http.StatusTooManyRequests || status >= 500:
		se.Err = ErrUnavailable
	}
	return se
}

// deadGrant reports whether a 400 says the code or token itself is no
// good. Shopify answers a used or unknown authorization code with
// invalid_request ("The authorization code was not found or was already
// used"), so invalid_request counts when it is about a code or token.
func deadGrant(tr tokenResponse) bool {
	switch tr.Error {
	case "invalid_grant", "invalid_subject_token":
		return true
	case "invalid_request":
		d := strings.ToLower(tr.ErrorDescription)
		return strings.Contains(d, "code") || strings.Contains(d, "token")
	}
	return false
}

func (o *OAuth) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// client returns a copy of the injected client that does not follow
// redirects: a 307/308 would re-send the body, client secret included, to
// wherever it points.
func (o *OAuth) client() *http.Client {
	c := &http.Client{}
	if o.HTTPClient != nil {
		cp := *o.HTTPClient
		c = &cp
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}
