package agents_test

import (
	"bytes"
	"crypto/hmac"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

var fuzzNow = time.Unix(1_800_000_000, 0)

// FuzzVerifySignature: the agent request signature (Signature and
// Timestamp headers over the raw body or its canonical form, see
// agents.Access). With arbitrary headers and body, VerifySignature answers
// nil or an unauthorized *app.Error, and:
//
//   - accept ⇒ valid: a Signature it accepts decodes (hex, or base64 in
//     any of its four alphabets) to the HMAC-SHA256, computed here
//     independently, of T + "." + B under the shop's secret, T the
//     Timestamp as sent or in UTC RFC 3339, B the body or its canonical
//     form, and Timestamp is within 5 minutes; the same headers with
//     another JSON value (or bytes) as body or under another shop's
//     secret are refused;
//   - valid ⇒ accept: when the harness signs (the selector's low bits pick
//     the encoding, form picks raw or canonical body and the Timestamp as
//     sent or in UTC, the fuzzer picks the clock skew), the request passes
//     exactly when the skew is within the window;
//   - no Signature passes only when the shop does not require one.
func FuzzVerifySignature(f *testing.F) {
	f.Add("1800000000", "", []byte(`{"a":1}`), uint8(1), int64(0), uint8(0))
	f.Add("2027-01-15T08:00:00Z", "", []byte(`{}`), uint8(3), int64(-300), uint8(0))
	f.Add("1800000301", "", []byte(``), uint8(5), int64(301), uint8(0))
	f.Add("", "", []byte(`{}`), uint8(0), int64(0), uint8(0))
	f.Add("1800000000", "AAAA", []byte(`{}`), uint8(0), int64(0), uint8(0))
	f.Add("+1800000000", strings.Repeat("0", 64), []byte(`{}`), uint8(0), int64(0), uint8(0))
	f.Add("2027-01-15T08:00:00.123456789+02:00", " "+base64.StdEncoding.EncodeToString(make([]byte, 32))+" ", []byte("x"), uint8(8), int64(0), uint8(0))
	f.Add("99999999999999999999", "", []byte(`{}`), uint8(1), int64(1<<62), uint8(0))
	f.Add("", "", []byte(` { "b" : [1, 2.50], "a" : "\u00e9" } `), uint8(0x25), int64(-12), uint8(3))
	f.Add("", "", []byte(``), uint8(0x1d), int64(7), uint8(1))

	kr := fuzzKeyring(f)
	key := []byte("acpb_sig_fuzz-signing-secret")
	sealed, err := kr.Seal(key, []byte("acp_signing_secret:1"))
	if err != nil {
		f.Fatal(err)
	}
	otherSealed, err := kr.Seal([]byte("acpb_sig_another-shop"), []byte("acp_signing_secret:2"))
	if err != nil {
		f.Fatal(err)
	}
	a := &agents.Access{Keys: kr, Now: func() time.Time { return fuzzNow }}
	agentOf := func(id int64, sealed string, require bool) *app.Agent {
		return &app.Agent{Shop: &app.Shop{ID: id}, Settings: &app.ACPSettings{ShopID: id, SigningSecretSealed: sealed, RequireSignature: require}}
	}

	f.Fuzz(func(t *testing.T, timestamp, signature string, body []byte, mode uint8, skew int64, form uint8) {
		require := mode&0x80 != 0
		signs := mode&0x03 != 0
		if signs {
			ts := fuzzNow.Add(time.Duration(skew%(1<<33)) * time.Second)
			if mode&0x04 != 0 {
				timestamp = ts.In(time.FixedZone("", 2*3600)).Format(time.RFC3339Nano)
			} else {
				timestamp = strconv.FormatInt(ts.Unix(), 10)
			}
			signed, signedTS := body, timestamp
			if c, ok := agents.CanonicalBody(body); ok && form&1 != 0 {
				signed = c
			}
			if form&2 != 0 {
				signedTS = ts.UTC().Format(time.RFC3339Nano)
			}
			signature = encodeMAC(mode>>3, testkit.ReferenceMAC(key, signedTS, signed))
		}
		ag := agentOf(1, sealed, require)
		err := a.VerifySignature(ag, timestamp, signature, body)
		if err != nil {
			var ae *app.Error
			if !errors.As(err, &ae) || ae.Code != app.CodeUnauthorized || ae.Message == "" {
				t.Fatalf("error %T %v, want an unauthorized *app.Error", err, err)
			}
		}
		if signature == "" {
			if (err == nil) == require {
				t.Fatalf("no signature, require %v: %v", require, err)
			}
			return
		}
		inWindow := func() bool {
			ts, ok := referenceTime(timestamp)
			d := fuzzNow.Sub(ts)
			return ok && d <= agents.SignatureWindow && d >= -agents.SignatureWindow
		}
		if signs {
			s := skew % (1 << 33)
			if want := s >= -300 && s <= 300; (err == nil) != want {
				t.Fatalf("signed with skew %ds (%q, %q): %v", s, timestamp, signature, err)
			}
			return
		}
		if err != nil {
			return
		}
		if !signsAnyForm(timestamp, signature, key, body) || !inWindow() {
			t.Fatalf("accepted Signature %q, Timestamp %q, which do not sign %q", signature, timestamp, body)
		}
		// Another value: body + "x" is not JSON (checked raw only), or
		// another document (the body was not JSON, or was empty).
		if a.VerifySignature(ag, timestamp, signature, append(bytes.Clone(body), 'x')) == nil {
			t.Fatal("the signature of one body verifies another")
		}
		if a.VerifySignature(agentOf(2, otherSealed, false), timestamp, signature, body) == nil {
			t.Fatal("one shop's signature verifies for another shop")
		}
		if a.VerifySignature(agentOf(1, "", false), timestamp, signature, body) == nil {
			t.Fatal("a signature verified for a shop without a secret")
		}
	})
}

// signsAnyForm reports whether sig carries the MAC of one of the signing inputs
// the documentation lists: the Timestamp as sent or as UTC RFC 3339, the
// body raw or canonical.
func signsAnyForm(timestamp, sig string, key, body []byte) bool {
	stamps := []string{timestamp}
	if ts, ok := referenceTime(timestamp); ok {
		stamps = append(stamps, ts.UTC().Format(time.RFC3339Nano))
	}
	bodies := [][]byte{body}
	if c, ok := agents.CanonicalBody(body); ok {
		bodies = append(bodies, c)
	}
	for _, s := range stamps {
		for _, b := range bodies {
			if macMatches(sig, testkit.ReferenceMAC(key, s, b)) {
				return true
			}
		}
	}
	return false
}

func fuzzKeyring(tb testing.TB) *secret.Keyring {
	tb.Helper()
	k, err := secret.ParseKeyring("fuzz:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32)))
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// referenceTime reads a Timestamp as the documentation describes it: Unix
// seconds or an RFC 3339 date-time.
func referenceTime(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

var macEncodings = []func([]byte) string{
	hex.EncodeToString, base64.StdEncoding.EncodeToString, base64.RawStdEncoding.EncodeToString,
	base64.URLEncoding.EncodeToString, base64.RawURLEncoding.EncodeToString,
}

func encodeMAC(which uint8, mac []byte) string {
	return macEncodings[int(which)%len(macEncodings)](mac)
}

// macMatches reports whether sig, in any documented encoding (white space
// around it allowed), decodes to mac.
func macMatches(sig string, mac []byte) bool {
	sig = strings.TrimSpace(sig)
	if b, err := hex.DecodeString(sig); err == nil && hmac.Equal(b, mac) {
		return true
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(sig); err == nil && hmac.Equal(b, mac) {
			return true
		}
	}
	return false
}
