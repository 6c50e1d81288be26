package agents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// Replay protection for signed agent requests (issue 13). The Signature
// covers only Timestamp + "." + body (the format agents already use, kept
// as it is; the body raw or in its canonical form, which any respelling of
// the same JSON value shares), so within its ±5 min window a captured
// signature verifies on any request with the same body: a create sent
// again with a new Idempotency-Key, or a GET's signature (empty body) on an empty-body
// POST …/cancel of another session. So each signature is accepted once,
// shop by shop, across replicas (the uses are rows in the shared database),
// with one exception: a retry of the very same request (same method and
// path, same Idempotency-Key, same body as the MAC covers it: the same
// bytes, or the same JSON value for a canonical-form MAC), which HTTP
// clients send with the same headers and which idempotency then answers
// with the stored response. GETs, which change nothing, may share one.

// ReasonSignatureReplayed is the error code of a signature used before.
const ReasonSignatureReplayed = "signature_replayed"

// signatureUseSlack keeps a use a little longer than its Timestamp can
// verify, for replicas whose clocks differ by up to a minute.
const signatureUseSlack = time.Minute

// SignatureUse is one accepted request signature.
type SignatureUse struct {
	ShopID int64
	// Digest is the hex SHA-256 of the signature's MAC bytes, so every
	// spelling of one signature (hex, base64 in either alphabet, with or
	// without padding) is one use, whatever signing input it matched (raw
	// or canonical body, Timestamp as sent or in UTC), and the signature
	// itself is not stored.
	Digest string
	// Binding is the hex SHA-256 of the request the signature was first
	// used on (SignedRequest), or "" when no retry may reuse it.
	Binding   string
	ExpiresAt time.Time
}

// SignatureUseStore remembers the signatures already accepted.
type SignatureUseStore interface {
	// UseSignature records use unless its (shop, digest) is recorded and
	// not expired at now; it returns the recorded use and whether it is
	// the one just made.
	UseSignature(ctx context.Context, use SignatureUse, now time.Time) (first *SignatureUse, fresh bool, err error)
}

// SignedRequest is what a signature's use is bound to.
type SignedRequest struct {
	Method, Path string
	// IdempotencyKey is the request's Idempotency-Key header ("" if none).
	IdempotencyKey string
}

// binding is the hex SHA-256 identifying the request for retries: POSTs by
// method, path and Idempotency-Key; GETs by the method alone. Every GET has
// an empty body, so GETs signed in the same second carry the same
// signature: an agent reading two sessions at once must not be refused, and
// a read changes nothing, so one signature serves any GET of the shop, but
// never a POST (the attack: a GET's signature on an empty-body cancel). A
// POST without a key has no binding ("") and may never carry a used
// signature: with nothing to tell its retry from a replay, it would run again.
func (r SignedRequest) binding() string {
	if r.Method != http.MethodGet && r.IdempotencyKey == "" {
		return ""
	}
	parts := []string{r.Method, r.Path, r.IdempotencyKey}
	if r.Method == http.MethodGet {
		parts = []string{r.Method}
	}
	h := sha256.New()
	for _, part := range parts {
		h.Write([]byte(part))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// ConsumeSignature records the use of a request's signature, after
// VerifySignature has accepted it, and refuses one used before on another
// request (401, signature_replayed). A request without a Signature passes
// (VerifySignature has decided whether one is required). It needs a store
// that implements SignatureUseStore (the app's store does).
func (a *Access) ConsumeSignature(ctx context.Context, ag *app.Agent, timestamp, signature string, req SignedRequest) error {
	if signature == "" {
		return nil
	}
	mac, okMAC := decodeSignature(signature)
	ts, okTS := parseSignatureTime(timestamp)
	if !okMAC || !okTS { // VerifySignature refuses these first
		e := *errBadSignature
		e.Message = "the Signature or Timestamp is malformed"
		return &e
	}
	st, ok := a.Store.(SignatureUseStore)
	if !ok {
		return errors.New("agents: the store keeps no signature uses")
	}
	digest := sha256.Sum256(mac)
	use := SignatureUse{ShopID: ag.Shop.ID, Digest: hex.EncodeToString(digest[:]), Binding: req.binding(),
		ExpiresAt: ts.Add(SignatureWindow + signatureUseSlack)}
	first, fresh, err := st.UseSignature(ctx, use, a.now())
	if err != nil {
		return fmt.Errorf("signature replay check: %w", err)
	}
	if fresh || use.Binding != "" && first.Binding == use.Binding {
		return nil
	}
	return &app.Error{Code: app.CodeUnauthorized, Reason: ReasonSignatureReplayed,
		Message: "this Signature was already used on another request; sign each request anew, with a new Timestamp (a retry of the same request may keep it)"}
}
