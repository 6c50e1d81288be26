package orderevents

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// SignatureWindow is how far a Merchant-Signature's timestamp may
// be from the receiver's clock.
const SignatureWindow = 300 * time.Second

// Sign is the Merchant-Signature header of an order event body:
// "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>", the
// secret being the webhook secret as shown to the merchant, as bytes.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a Merchant-Signature header against the body, as
// an agent receiving order events does: the format, a timestamp within
// SignatureWindow of now, and the HMAC (compared in constant
// time).
func Verify(secret []byte, header string, body []byte, now time.Time) error {
	tPart, vPart, ok := strings.Cut(header, ",")
	ts, tok := strings.CutPrefix(tPart, "t=")
	sig, vok := strings.CutPrefix(vPart, "v1=")
	if !ok || !tok || !vok || ts == "" || len(sig) != 64 || strings.Trim(ts, "0123456789") != "" {
		return errors.New("Merchant-Signature must be t=<unix seconds>,v1=<64 hex digits>")
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("Merchant-Signature timestamp is not a number")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > SignatureWindow || d < -SignatureWindow {
		return errors.New("Merchant-Signature timestamp is outside the allowed window")
	}
	got, err := hex.DecodeString(sig)
	if err != nil {
		return errors.New("Merchant-Signature v1 is not hex")
	}
	want, _ := hex.DecodeString(mac(secret, ts, body))
	if !hmac.Equal(got, want) {
		return errors.New("Merchant-Signature does not verify")
	}
	return nil
}
