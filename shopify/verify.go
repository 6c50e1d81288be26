package shopify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Verification errors. They say what failed without echoing what was sent.
var (
	ErrBadSignature  = errors.New("signature is missing or does not match")
	ErrStale         = errors.New("timestamp is outside the allowed window")
	ErrBadShop       = errors.New("shop is not a valid myshopify.com domain")
	ErrBadToken      = errors.New("ID token is malformed")
	ErrTokenExpired  = errors.New("ID token has expired or is not valid yet")
	ErrTokenLifetime = errors.New("ID token claims a longer lifetime than Shopify issues")
	ErrWrongAudience = errors.New("ID token was issued for another app")
)

// QueryMaxSkew is how far an OAuth query's timestamp may be from now, as in
// Shopify's own libraries.
const QueryMaxSkew = 90 * time.Second

// IDTokenLeeway is the clock tolerance for ID token exp/nbf, as in
// Shopify's own libraries.
const IDTokenLeeway = 10 * time.Second

// IDTokenMaxLifetime is the longest exp − iat an ID token may claim.
// Shopify issues them for 1 minute; the bound leaves room for Shopify to
// lengthen that a little without breaking the admin, and keeps a leaked
// token (or one minted with a leaked secret) from living for years. Both
// times come from Shopify's clock, so clock skew does not enter into it.
const IDTokenMaxLifetime = 5 * time.Minute

var shopRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*\.myshopify\.com$`)

// NormalizeShop lower-cases a shop domain and checks it is a
// NAME.myshopify.com host and nothing else: it is the gate before the
// domain is put into any URL, header or query.
func NormalizeShop(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if len(s) > 255 || !shopRe.MatchString(s) {
		return "", ErrBadShop
	}
	return s, nil
}

// SignQuery returns the hex HMAC-SHA256 Shopify puts in the hmac parameter
// of launch and OAuth callback URLs: the other parameters, sorted, joined
// as k=v with &, repeated values comma-joined, keys and values URL-encoded
// the way Shopify's libraries encode them.
func SignQuery(q url.Values, secret string) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		if k != "hmac" && k != "signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := strings.Join(q[k], ",")
		parts = append(parts, strings.ReplaceAll(url.QueryEscape(k)+"="+url.QueryEscape(v), "+", "%20"))
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strings.Join(parts, "&")))
	return hex.EncodeToString(mac.Sum(nil))
}

// VerifyQuery checks a launch or OAuth callback query: the hmac parameter
// (in constant time) and a timestamp within QueryMaxSkew of now.
func VerifyQuery(q url.Values, secret string, now time.Time) error {
	got := q.Get("hmac")
	if got == "" || secret == "" {
		return ErrBadSignature
	}
	if !hmac.Equal([]byte(SignQuery(q, secret)), []byte(strings.ToLower(got))) {
		return ErrBadSignature
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	if err != nil {
		return ErrStale
	}
	if d := now.Sub(time.Unix(ts, 0)); d > QueryMaxSkew || d < -QueryMaxSkew {
		return ErrStale
	}
	return nil
}

// SignWebhook returns the X-Shopify-Hmac-Sha256 value for a body.
func SignWebhook(body []byte, secret string) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks X-Shopify-Hmac-Sha256 over the raw body, in constant
// time, against each secret given: after a secret rotation Shopify signs
// with the old one for up to an hour.
func VerifyWebhook(body []byte, header string, secrets ...string) bool {
	got, ok := ParseWebhookHMAC(header)
	if !ok {
		return false
	}
	mac := NewWebhookMAC(secrets...)
	_, _ = mac.Write(body)
	return mac.Verify(got)
}

// ParseWebhookHMAC decodes an X-Shopify-Hmac-Sha256 header: standard base64
// of the 32 bytes of an HMAC-SHA256. A header that is not one cannot
// verify any body, so a receiver can refuse it before reading the body.
func ParseWebhookHMAC(header string) ([]byte, bool) {
	header = strings.TrimSpace(header)
	if len(header) != base64.StdEncoding.EncodedLen(sha256.Size) {
		return nil, false
	}
	got, err := base64.StdEncoding.DecodeString(header)
	if err != nil || len(got) != sha256.Size {
		return nil, false
	}
	return got, true
}

// WebhookMAC computes a webhook body's HMAC-SHA256 under each secret as
// the body is written to it, so a receiver can hash while it reads (an
// io.TeeReader) and know at the end of the body whether it is Shopify's.
type WebhookMAC struct {
	macs []hash.Hash
}

// NewWebhookMAC hashes under each non-empty secret.
func NewWebhookMAC(secrets ...string) *WebhookMAC {
	w := &WebhookMAC{}
	for _, s := range secrets {
		if s != "" {
			w.macs = append(w.macs, hmac.New(sha256.New, []byte(s)))
		}
	}
	return w
}

// Write implements io.Writer; it never fails.
func (w *WebhookMAC) Write(p []byte) (int, error) {
	for _, m := range w.macs {
		m.Write(p)
	}
	return len(p), nil
}

// Verify reports, in constant time, whether got is the HMAC of what was
// written under any of the secrets. Every secret is compared whatever
// matched, so the time does not tell which one did.
func (w *WebhookMAC) Verify(got []byte) bool {
	ok := false
	for _, m := range w.macs {
		if hmac.Equal(got, m.Sum(nil)) {
			ok = true
		}
	}
	return ok
}

// IDTokenClaims are the claims of an App Bridge ID token (session token)
// the app relies on.
type IDTokenClaims struct {
	Shop      string `json:"-"` // from dest, after checks
	Issuer    string `json:"iss"`
	Dest      string `json:"dest"`
	Audience  string `json:"aud"`
	Subject   string `json:"sub"` // the staff user id
	SessionID string `json:"sid"`
	JTI       string `json:"jti"`
	Exp       int64  `json:"exp"`
	Nbf       int64  `json:"nbf"`
	Iat       int64  `json:"iat"`
}

var jwtHeaderHS256 = base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))

// SignIDToken makes an HS256 ID token, as Shopify does; the emulator and the
// tests use it.
func SignIDToken(c IDTokenClaims, secret string) string {
	payload, _ := json.Marshal(c)
	signing := jwtHeaderHS256 + "." + base64.RawURLEncoding.EncodeToString(payload)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// VerifyIDToken checks an App Bridge ID token: HS256 signed with the app's
// client secret, for this app (aud = client id), within its lifetime (with
// IDTokenLeeway) and no longer than IDTokenMaxLifetime, issued by the
// shop it is for (iss host = dest host, a myshopify.com domain). It returns
// the claims with Shop set.
func VerifyIDToken(token, clientID, secret string, now time.Time) (*IDTokenClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 || len(token) > 8192 {
		return nil, ErrBadToken
	}
	hdrJSON, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, ErrBadToken
	}
	var hdr struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(hdrJSON, &hdr) != nil || hdr.Alg != "HS256" {
		// Never accept "none" or an algorithm the attacker picks.
		return nil, ErrBadToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || secret == "" {
		return nil, ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, ErrBadSignature
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, ErrBadToken
	}
	var c IDTokenClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, ErrBadToken
	}
	if c.Exp == 0 || now.After(time.Unix(c.Exp, 0).Add(IDTokenLeeway)) || now.Before(time.Unix(c.Nbf, 0).Add(-IDTokenLeeway)) {
		return nil, ErrTokenExpired
	}
	if err := checkLifetime(&c, now); err != nil {
		return nil, err
	}
	if c.Audience != clientID {
		return nil, ErrWrongAudience
	}
	dest, err := url.Parse(c.Dest)
	if err != nil || dest.Scheme != "https" {
		return nil, ErrBadShop
	}
	shop, err := NormalizeShop(dest.Host)
	if err != nil {
		return nil, err
	}
	iss, err := url.Parse(c.Issuer)
	if err != nil || !strings.EqualFold(iss.Host, dest.Host) {
		return nil, fmt.Errorf("%w: issuer and destination differ", ErrBadToken)
	}
	c.Shop = shop
	return &c, nil
}

// checkLifetime refuses a token whose exp is more than IDTokenMaxLifetime
// after its issue time, and one issued in the future. Shopify sets iat and
// nbf to the same instant; a token without iat is measured from nbf, and
// one with neither (issued at the epoch) is refused.
func checkLifetime(c *IDTokenClaims, now time.Time) error {
	issued := c.Iat
	if issued == 0 {
		issued = c.Nbf
	}
	if now.Before(time.Unix(issued, 0).Add(-IDTokenLeeway)) {
		return ErrTokenExpired
	}
	// issued is at most now here, so the sum cannot overflow (a difference
	// could, for a huge exp and a negative iat).
	if c.Exp > issued+int64(IDTokenMaxLifetime/time.Second) {
		return ErrTokenLifetime
	}
	return nil
}
