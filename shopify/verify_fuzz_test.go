package shopify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/shopify"
)

// FuzzVerifyIDToken: any string as an ID token is refused or accepted
// without panicking, nothing but a token signed with the secret is ever
// accepted, and an accepted token claims no longer a lifetime than
// IDTokenMaxLifetime (from iat, or nbf without one).
func FuzzVerifyIDToken(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	good := shopify.SignIDToken(shopify.IDTokenClaims{
		Issuer: "https://a.myshopify.com/admin", Dest: "https://a.myshopify.com", Audience: "c",
		Exp: now.Add(time.Minute).Unix(), Nbf: now.Unix(),
	}, secret)
	f.Add(good)
	f.Add("a.b.c")
	f.Add("eyJhbGciOiJub25lIn0.e30.")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := shopify.VerifyIDToken(tok, "c", secret, now)
		if err == nil && !signedWithSecret(tok) {
			t.Fatalf("accepted %q, which the secret did not sign", tok)
		}
		if err == nil && c.Shop != "a.myshopify.com" {
			t.Fatalf("accepted a token for %q", c.Shop)
		}
		if err == nil {
			issued := c.Iat
			if issued == 0 {
				issued = c.Nbf
			}
			if c.Exp > issued+int64(shopify.IDTokenMaxLifetime/time.Second) || issued > now.Unix()+10 {
				t.Fatalf("accepted a token issued at %d, expiring at %d", issued, c.Exp)
			}
		}
	})
}

// FuzzVerifyQuery: arbitrary query strings never panic the HMAC check and
// are never accepted without the right signature.
func FuzzVerifyQuery(f *testing.F) {
	now := time.Unix(1_800_000_000, 0)
	f.Add("shop=a.myshopify.com&timestamp=1800000000&hmac=00")
	f.Add("hmac=&hmac=x&timestamp=-1")
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		if shopify.VerifyQuery(q, secret, now) == nil && q.Get("hmac") != shopify.SignQuery(q, secret) &&
			q.Get("hmac") != upper(shopify.SignQuery(q, secret)) {
			t.Fatalf("accepted %q without a valid signature", raw)
		}
	})
}

// FuzzVerifyWebhook: a body is accepted only with its own signature.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add([]byte(`{"id":1}`), "")
	f.Fuzz(func(t *testing.T, body []byte, header string) {
		if shopify.VerifyWebhook(body, header, secret) && header != shopify.SignWebhook(body, secret) {
			// Base64 may carry whitespace or padding variants of the same MAC.
			if !shopify.VerifyWebhook(body, shopify.SignWebhook(body, secret), secret) {
				t.Fatalf("accepted a body with a foreign signature")
			}
		}
	})
}

// signedWithSecret recomputes the HS256 signature independently.
func signedWithSecret(tok string) bool {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	return err == nil && hmac.Equal(sig, mac.Sum(nil))
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'f' {
			b[i] = c - 32
		}
	}
	return string(b)
}
