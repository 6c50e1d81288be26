package orderevents_test

import (
	"bytes"
	"crypto/hmac"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/app/orderevents"
	"github.com/acpbridge/acpbridge/internal/testkit"
)

var eventsFuzzNow = time.Unix(1_800_000_000, 0)

// FuzzMerchantSignature: the Merchant-Signature of order events
// ("t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t.body)>"). Sign
// round-trips through Verify within the window, and a header
// Verify accepts (arbitrary headers and bodies) carries the HMAC,
// computed independently, of its own t and the body, with t within the
// window; another body or secret is refused.
func FuzzMerchantSignature(f *testing.F) {
	secret := []byte("acpb_whsec_fuzz-secret")
	good := orderevents.Sign(secret, eventsFuzzNow, []byte(`{"type":"order"}`))
	f.Add(good, []byte(`{"type":"order"}`), int64(0))
	f.Add(strings.ToUpper(good), []byte(`{"type":"order"}`), int64(299))
	f.Add("t=1800000000,v1="+strings.Repeat("g", 64), []byte(`{}`), int64(-301))
	f.Add("t=,v1=", []byte(``), int64(0))
	f.Add("v1=00,t=1800000000", []byte(`x`), int64(0))
	f.Add("t=1800000000,v1="+strings.Repeat("0", 64)+",v0=1", []byte(`x`), int64(0))
	f.Add("t=018000000000000000000000000,v1="+strings.Repeat("0", 64), []byte(`x`), int64(0))
	f.Fuzz(func(t *testing.T, header string, body []byte, skew int64) {
		skew %= 1 << 33
		at := eventsFuzzNow.Add(time.Duration(skew) * time.Second)
		err := orderevents.Verify(secret, orderevents.Sign(secret, at, body), body, eventsFuzzNow)
		if want := skew >= -300 && skew <= 300; (err == nil) != want {
			t.Fatalf("signed %ds away: %v", skew, err)
		}
		if orderevents.Verify(secret, header, body, eventsFuzzNow) != nil {
			return
		}
		ts, v1, _ := strings.Cut(strings.TrimPrefix(header, "t="), ",v1=")
		sec, perr := strconv.ParseInt(ts, 10, 64)
		d := eventsFuzzNow.Sub(time.Unix(sec, 0))
		got, herr := hex.DecodeString(v1)
		if !strings.HasPrefix(header, "t=") || perr != nil || herr != nil || d > orderevents.SignatureWindow || d < -orderevents.SignatureWindow ||
			!hmac.Equal(got, testkit.ReferenceMAC(secret, ts, body)) {
			t.Fatalf("accepted %q for %q", header, body)
		}
		if orderevents.Verify(secret, header, append(bytes.Clone(body), '\n'), eventsFuzzNow) == nil ||
			orderevents.Verify([]byte("acpb_whsec_other"), header, body, eventsFuzzNow) == nil {
			t.Fatalf("%q verifies another body or secret", header)
		}
	})
}
