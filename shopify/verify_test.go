package shopify_test

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

const secret = "hush"

func TestNormalizeShop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"demo-shop.myshopify.com", "demo-shop.myshopify.com", true},
		{" Demo-Shop.MyShopify.com ", "demo-shop.myshopify.com", true},
		{"demo-shop", "", false},
		{"evil.com", "", false},
		{"demo.myshopify.com.evil.com", "", false},
		{"demo.myshopify.com/admin", "", false},
		{"-demo.myshopify.com", "", false},
		{"de_mo.myshopify.com", "", false},
		{"demo.myshopify.com\r\nX-Injected: 1", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := shopify.NormalizeShop(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeShop(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func signedQuery(now time.Time, extra map[string]string) url.Values {
	q := url.Values{"shop": {"demo.myshopify.com"}, "code": {"abc"}, "state": {"n1"}, "timestamp": {strconv.FormatInt(now.Unix(), 10)}}
	for k, v := range extra {
		q.Set(k, v)
	}
	q.Set("hmac", shopify.SignQuery(q, secret))
	return q
}

func TestVerifyQuery(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		name   string
		q      func() url.Values
		secret string
		want   error
	}{
		{"valid", func() url.Values { return signedQuery(now, nil) }, secret, nil},
		{"valid with host and spaces", func() url.Values {
			return signedQuery(now, map[string]string{"host": "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvZGVtbw", "x": "a b"})
		}, secret, nil},
		{"upper-case hex accepted", func() url.Values {
			q := signedQuery(now, nil)
			q.Set("hmac", strings.ToUpper(q.Get("hmac")))
			return q
		}, secret, nil},
		{"wrong secret", func() url.Values { return signedQuery(now, nil) }, "other", shopify.ErrBadSignature},
		{"missing hmac", func() url.Values { q := signedQuery(now, nil); q.Del("hmac"); return q }, secret, shopify.ErrBadSignature},
		{"tampered shop", func() url.Values { q := signedQuery(now, nil); q.Set("shop", "evil.myshopify.com"); return q }, secret, shopify.ErrBadSignature},
		{"added param", func() url.Values { q := signedQuery(now, nil); q.Set("extra", "1"); return q }, secret, shopify.ErrBadSignature},
		{"stale", func() url.Values { return signedQuery(now.Add(-91*time.Second), nil) }, secret, shopify.ErrStale},
		{"future", func() url.Values { return signedQuery(now.Add(91*time.Second), nil) }, secret, shopify.ErrStale},
		{"just fresh", func() url.Values { return signedQuery(now.Add(-89*time.Second), nil) }, secret, nil},
		{"empty secret", func() url.Values { return signedQuery(now, nil) }, "", shopify.ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := shopify.VerifyQuery(tt.q(), tt.secret, now); !errors.Is(err, tt.want) {
				t.Fatalf("VerifyQuery = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestVerifyWebhook(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":1}`)
	good := shopify.SignWebhook(body, secret)
	tests := []struct {
		name    string
		body    []byte
		header  string
		secrets []string
		want    bool
	}{
		{"valid", body, good, []string{secret}, true},
		{"old secret during rotation", body, good, []string{"new", secret}, true},
		{"wrong secret", body, good, []string{"new"}, false},
		{"body changed", []byte(`{"id":2}`), good, []string{secret}, false},
		{"missing header", body, "", []string{secret}, false},
		{"not base64", body, "%%%", []string{secret}, false},
		{"short mac", body, "AAAA", []string{secret}, false},
		{"no secret", body, good, nil, false},
	}
	for _, tt := range tests {
		if got := shopify.VerifyWebhook(tt.body, tt.header, tt.secrets...); got != tt.want {
			t.Errorf("%s: VerifyWebhook = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestVerifyIDToken(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	base := shopify.IDTokenClaims{
		Issuer: "https://demo.myshopify.com/admin", Dest: "https://demo.myshopify.com", Audience: "client-1",
		Subject: "42", SessionID: "s", JTI: "j", Iat: now.Unix(), Nbf: now.Unix(), Exp: now.Add(time.Minute).Unix(),
	}
	with := func(f func(*shopify.IDTokenClaims)) string {
		c := base
		f(&c)
		return shopify.SignIDToken(c, secret)
	}
	good := shopify.SignIDToken(base, secret)
	parts := strings.Split(good, ".")
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{"valid", good, nil},
		{"expired", with(func(c *shopify.IDTokenClaims) { c.Exp = now.Add(-11 * time.Second).Unix() }), shopify.ErrTokenExpired},
		{"expired within leeway", with(func(c *shopify.IDTokenClaims) { c.Exp = now.Add(-5 * time.Second).Unix() }), nil},
		{"not yet valid", with(func(c *shopify.IDTokenClaims) { c.Nbf = now.Add(time.Minute).Unix() }), shopify.ErrTokenExpired},
		// The review's token: exp 10 years out, correctly signed.
		{"ten-year lifetime", with(func(c *shopify.IDTokenClaims) { c.Exp = now.Add(10 * 365 * 24 * time.Hour).Unix() }), shopify.ErrTokenLifetime},
		{"lifetime just over the bound", with(func(c *shopify.IDTokenClaims) { c.Exp = now.Add(shopify.IDTokenMaxLifetime + time.Second).Unix() }), shopify.ErrTokenLifetime},
		{"lifetime at the bound", with(func(c *shopify.IDTokenClaims) { c.Exp = now.Add(shopify.IDTokenMaxLifetime).Unix() }), nil},
		{"long lifetime issued earlier", with(func(c *shopify.IDTokenClaims) {
			c.Iat, c.Nbf, c.Exp = now.Add(-time.Hour).Unix(), now.Add(-time.Hour).Unix(), now.Add(time.Minute).Unix()
		}), shopify.ErrTokenLifetime},
		{"no iat: measured from nbf", with(func(c *shopify.IDTokenClaims) { c.Iat = 0 }), nil},
		{"no iat, long from nbf", with(func(c *shopify.IDTokenClaims) { c.Iat, c.Nbf = 0, now.Add(-time.Hour).Unix() }), shopify.ErrTokenLifetime},
		{"huge exp, negative iat", with(func(c *shopify.IDTokenClaims) { c.Iat, c.Exp = -1<<62, 1<<62 }), shopify.ErrTokenLifetime},
		{"no iat nor nbf", with(func(c *shopify.IDTokenClaims) { c.Iat, c.Nbf = 0, 0 }), shopify.ErrTokenLifetime},
		{"issued in the future", with(func(c *shopify.IDTokenClaims) {
			c.Iat, c.Exp = now.Add(time.Hour).Unix(), now.Add(time.Hour+time.Minute).Unix()
		}), shopify.ErrTokenExpired},
		{"other app", with(func(c *shopify.IDTokenClaims) { c.Audience = "client-2" }), shopify.ErrWrongAudience},
		{"dest not myshopify", with(func(c *shopify.IDTokenClaims) { c.Dest = "https://evil.com"; c.Issuer = "https://evil.com/admin" }), shopify.ErrBadShop},
		{"issuer other shop", with(func(c *shopify.IDTokenClaims) { c.Issuer = "https://other.myshopify.com/admin" }), shopify.ErrBadToken},
		{"forged signature", shopify.SignIDToken(base, "not-the-secret"), shopify.ErrBadSignature},
		{"alg none", base64URL(`{"alg":"none"}`) + "." + parts[1] + ".", shopify.ErrBadToken},
		{"payload swapped", parts[0] + "." + base64URL(`{"aud":"client-1"}`) + "." + parts[2], shopify.ErrBadSignature},
		{"garbage", "a.b", shopify.ErrBadToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := shopify.VerifyIDToken(tt.token, "client-1", secret, now)
			if !errors.Is(err, tt.want) {
				t.Fatalf("VerifyIDToken = %v, want %v", err, tt.want)
			}
			if err == nil && c.Shop != "demo.myshopify.com" {
				t.Fatalf("Shop = %q", c.Shop)
			}
		})
	}
}

func base64URL(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
