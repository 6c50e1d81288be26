package agents_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

// sentBody is an ACP create as an agent may send it: its own key order
// and spacing. canonicalBody is its RFC 8785 form, written out by hand
// (members sorted, no white space), so that the signatures below are
// computed without the code under test.
const (
	sentBody = `{
  "line_items": [ { "quantity": 2, "id": "gid://shopify/ProductVariant/1" } ],
  "currency": "usd",
  "buyer": {"last_name": "Bauer", "first_name": "Zo\u00eb", "email": "zoe@example.com"}
}`
	canonicalBody = `{"buyer":{"email":"zoe@example.com","first_name":"Zoë","last_name":"Bauer"},"currency":"usd",` +
		`"line_items":[{"id":"gid://shopify/ProductVariant/1","quantity":2}]}`
)

// TestVerifySignatureForms: the signing inputs agents compute are accepted
// — the RFC's base64url over canonical JSON (as sumup/acp's signer makes
// it: base64url(HMAC(key, UTC RFC3339Nano + "." + canonical body)), empty
// body "null") with the body sent in another order and spacing, and the
// raw-body signatures of before — and wrong ones are 401
// invalid_signature.
func TestVerifySignatureForms(t *testing.T) {
	t.Parallel()
	now := time.Date(2030, 1, 2, 3, 4, 5, 123_000_000, time.UTC)
	kr := fuzzKeyring(t)
	key := []byte("acpb_sig_canonical-test")
	sealed, err := kr.Seal(key, app.SigningSecretAAD(1))
	if err != nil {
		t.Fatal(err)
	}
	a := &agents.Access{Keys: kr, Now: func() time.Time { return now }}
	ag := &app.Agent{Shop: &app.Shop{ID: 1}, Settings: &app.ACPSettings{ShopID: 1, SigningSecretSealed: sealed, RequireSignature: true}}

	utc := now.Format(time.RFC3339Nano) // 2030-01-02T03:04:05.123Z
	offset := now.In(time.FixedZone("", -5*3600)).Format(time.RFC3339Nano)
	unix := strconv.FormatInt(now.Unix(), 10)
	b64 := base64.StdEncoding.EncodeToString
	b64url := base64.RawURLEncoding.EncodeToString
	tests := []struct {
		name      string
		timestamp string // the Timestamp header
		body      string // the body sent
		key       []byte
		signedTS  string // what the signer put before "."
		signed    string // what the signer put after "."
		encode    func([]byte) string
		ok        bool
	}{
		{"RFC: base64url over canonical JSON, reordered and spaced body", utc, sentBody, key, utc, canonicalBody, b64url, true},
		{"canonical JSON, padded base64url", utc, sentBody, key, utc, canonicalBody, base64.URLEncoding.EncodeToString, true},
		{"canonical JSON, standard base64", utc, sentBody, key, utc, canonicalBody, b64, true},
		{"canonical JSON, hex", utc, sentBody, key, utc, canonicalBody, hex.EncodeToString, true},
		{"canonical JSON, Timestamp with an offset as sent", offset, sentBody, key, offset, canonicalBody, b64url, true},
		{"canonical JSON, Timestamp with an offset, signed in UTC (sumup)", offset, sentBody, key, utc, canonicalBody, b64url, true},
		{"canonical JSON, Unix seconds signed as sent", unix, sentBody, key, unix, canonicalBody, b64url, true},
		{"already canonical body", utc, canonicalBody, key, utc, canonicalBody, b64url, true},
		{"raw body, standard base64 (as before)", unix, sentBody, key, unix, sentBody, b64, true},
		{"raw body, base64url", utc, sentBody, key, utc, sentBody, b64url, true},
		{"raw body, hex", utc, sentBody, key, utc, sentBody, hex.EncodeToString, true},
		{"raw body, Timestamp signed in UTC", offset, sentBody, key, utc, sentBody, b64url, true},
		{"empty body signed as null (sumup)", utc, "", key, utc, "null", b64url, true},
		{"empty body signed as no bytes", utc, "", key, utc, "", b64url, true},
		{"not JSON, raw", utc, "quantity=2", key, utc, "quantity=2", b64url, true},

		{"wrong key", utc, sentBody, []byte("acpb_sig_another"), utc, canonicalBody, b64url, false},
		{"tampered body (quantity 3)", utc, `{"currency":"usd","line_items":[{"id":"gid://shopify/ProductVariant/1","quantity":3}],` +
			`"buyer":{"email":"zoe@example.com","first_name":"Zoë","last_name":"Bauer"}}`, key, utc, canonicalBody, b64url, false},
		{"array order is part of the value", utc, `[2,1]`, key, utc, `[1,2]`, b64url, false},
		{"wrong timestamp (a second later)", utc, sentBody, key, now.Add(time.Second).Format(time.RFC3339Nano), canonicalBody, b64url, false},
		{"timestamp in another spelling than sent or UTC", utc, sentBody, key, offset, canonicalBody, b64url, false},
		{"not JSON: no canonical form", utc, "quantity=2", key, utc, "null", b64url, false},
		{"canonical form of another signer's choice (not RFC 8785)", utc, `{"b":1.5E0,"a":1}`, key, utc, `{"a":1,"b":1.5E0}`, b64url, false},
		{"truncated MAC", utc, sentBody, key, utc, canonicalBody, func(m []byte) string { return b64url(m[:31]) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sig := tt.encode(testkit.ReferenceMAC(tt.key, tt.signedTS, []byte(tt.signed)))
			err := a.VerifySignature(ag, tt.timestamp, sig, []byte(tt.body))
			if tt.ok {
				if err != nil {
					t.Fatalf("VerifySignature: %v", err)
				}
				return
			}
			wantAppError(t, err, app.CodeUnauthorized, "invalid_signature")
		})
	}

	// Outside the window, the canonical form does not help.
	late := &agents.Access{Keys: kr, Now: func() time.Time { return now.Add(agents.SignatureWindow + time.Second) }}
	sig := b64url(testkit.ReferenceMAC(key, utc, []byte(canonicalBody)))
	wantAppError(t, late.VerifySignature(ag, utc, sig, []byte(sentBody)), app.CodeUnauthorized, "invalid_signature")
}

func TestCanonicalBody(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"", "null", true},
		{" \r\n", "null", true},
		{sentBody, canonicalBody, true},
		{`null`, `null`, true},
		{`{"a":1,"a":2}`, "", false},
		{`{"a":`, "", false},
		{"quantity=2", "", false},
	} {
		got, ok := agents.CanonicalBody([]byte(tt.in))
		if ok != tt.ok || ok && string(got) != tt.want {
			t.Errorf("CanonicalBody(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestCanonicalSignatureReplay: a canonical-form signature is accepted once,
// as a raw one (TestSignatureReplay), on both databases: respelling the
// body (another key order or spacing, the same JSON value) or the MAC
// (another alphabet) does not make it a new signature; a retry of the same
// request passes, even respelt.
func TestCanonicalSignatureReplay(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		a := &agents.Access{Store: st, Keys: fuzzKeyring(t), Now: func() time.Time { return now }}
		signing, err := a.RotateSigningSecret(ctx, sh.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		set, err := a.Settings(ctx, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		ag := &app.Agent{Shop: sh, Settings: set}
		ts := now.Format(time.RFC3339Nano)
		mac := testkit.ReferenceMAC([]byte(signing), ts, []byte(canonicalBody))
		sig := base64.RawURLEncoding.EncodeToString(mac)
		create := func(key string) agents.SignedRequest {
			return agents.SignedRequest{Method: http.MethodPost, Path: "/acp/a.myshopify.com/checkout_sessions", IdempotencyKey: key}
		}
		send := func(sig, body string, req agents.SignedRequest) error {
			if err := a.VerifySignature(ag, ts, sig, []byte(body)); err != nil {
				t.Fatalf("VerifySignature: %v", err) // every signature here is genuine
			}
			return a.ConsumeSignature(ctx, ag, ts, sig, req)
		}
		if err := send(sig, sentBody, create("k1")); err != nil {
			t.Fatalf("first use: %v", err)
		}
		respelt := " " + canonicalBody + "\n"
		for _, r := range []struct{ sig, body, key string }{
			{sig, sentBody, "k2"},
			{sig, canonicalBody, "k3"},
			{sig, respelt, "k4"},
			{base64.StdEncoding.EncodeToString(mac), sentBody, "k5"},
			{hex.EncodeToString(mac), canonicalBody, "k6"},
		} {
			wantAppError(t, send(r.sig, r.body, create(r.key)), app.CodeUnauthorized, agents.ReasonSignatureReplayed)
		}
		for _, body := range []string{sentBody, respelt} { // retries of the same request
			if err := send(sig, body, create("k1")); err != nil {
				t.Fatalf("retry: %v", err)
			}
		}
	})
}

// BenchmarkVerifySignature: what a signature costs by the form it is in —
// the raw body (two MACs at most), the canonical form (up to four MACs and
// one canonicalisation), and a wrong signature on the largest body the
// pipeline reads (every candidate tried).
func BenchmarkVerifySignature(b *testing.B) {
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	kr := fuzzKeyring(b)
	key := []byte("acpb_sig_bench")
	sealed, err := kr.Seal(key, app.SigningSecretAAD(1))
	if err != nil {
		b.Fatal(err)
	}
	a := &agents.Access{Keys: kr, Now: func() time.Time { return now }}
	ag := &app.Agent{Shop: &app.Shop{ID: 1}, Settings: &app.ACPSettings{ShopID: 1, SigningSecretSealed: sealed}}
	ts := now.Format(time.RFC3339Nano)
	var big []byte
	big = append(big, `{"items":[`...)
	for i := 0; len(big) < 250<<10; i++ {
		if i > 0 {
			big = append(big, ',')
		}
		big = append(big, `{"z":"`+strconv.Itoa(i)+`xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","a":`+strconv.Itoa(i)+`}`...)
	}
	big = append(big, `]}`...)
	for _, c := range []struct {
		name         string
		body, signed string
		ok           bool
	}{
		{"raw", sentBody, sentBody, true},
		{"canonical", sentBody, canonicalBody, true},
		{"wrong-256KB", string(big), "other", false},
	} {
		sig := base64.RawURLEncoding.EncodeToString(testkit.ReferenceMAC(key, ts, []byte(c.signed)))
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := a.VerifySignature(ag, ts, sig, []byte(c.body)); (err == nil) != c.ok {
					b.Fatal(err)
				}
			}
		})
	}
}
