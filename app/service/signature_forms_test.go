package service_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
)

// rfcSigner signs as the ACP RFC describes and sumup/acp's signature
// package does, written here without the code under test:
// Signature = base64url(HMAC-SHA256(key, UTC RFC3339Nano + "." +
// canonical JSON of the body)), an empty body's canonical JSON being
// "null". The canonical JSON is encoding/json's output for the decoded
// value (keys sorted, no white space, no HTML escaping), which for ACP
// bodies (ASCII names, strings without control characters, integers) is
// their RFC 8785 form.
type rfcSigner struct {
	t   *testing.T
	key []byte
}

func (s rfcSigner) canonical(body []byte) []byte {
	s.t.Helper()
	if len(body) == 0 {
		return []byte("null")
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		s.t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		s.t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

func (s rfcSigner) sign(ts time.Time, body []byte) (timestamp, signature string) {
	timestamp = ts.UTC().Format(time.RFC3339Nano)
	m := hmac.New(sha256.New, s.key)
	m.Write([]byte(timestamp + "."))
	m.Write(s.canonical(body))
	return timestamp, base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// respell writes a JSON value as an agent with other habits might: object
// members in reverse order, spaces after every ':' and ',', a newline
// between members.
func respell(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var generic any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	var write func(v any)
	write = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			slices.Reverse(keys)
			b.WriteString("{ ")
			for i, k := range keys {
				if i > 0 {
					b.WriteString(",\n  ")
				}
				kb, _ := json.Marshal(k)
				b.Write(kb)
				b.WriteString(": ")
				write(v[k])
			}
			b.WriteString(" }")
		case []any:
			b.WriteString("[ ")
			for i, x := range v {
				if i > 0 {
					b.WriteString(", ")
				}
				write(x)
			}
			b.WriteString(" ]")
		default:
			sb, _ := json.Marshal(v)
			b.Write(sb)
		}
	}
	write(generic)
	return b.Bytes()
}

// TestRFCSignaturesREST: through the real REST API, a shop requiring
// signatures accepts the RFC's signature (base64url over canonical JSON)
// on a body sent in another key order and spacing, as well as the raw-body
// signature of before; a wrong key, a tampered body or a wrong Timestamp
// is 401 invalid_signature; the canonical-form signature replayed on
// another request is 401 signature_replayed, and its retry gets the
// stored answer.
func TestRFCSignaturesREST(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	ctx := context.Background()
	signing, err := e.svc.Agents().RotateSigningSecret(ctx, e.sh.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	a := e.agent(t, acp.V20260417)
	rfc := rfcSigner{t: t, key: []byte(signing)}
	body := respell(t, a.createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil))
	if bytes.Equal(body, rfc.canonical(body)) {
		t.Fatalf("the body sent is already canonical: %s", body)
	}
	send := func(method, path string, body []byte, ts, sig, key string) response {
		t.Helper()
		a.headers = map[string]string{"Timestamp": ts, "Signature": sig, "Idempotency-Key": key}
		defer func() { a.headers = nil }()
		if body == nil {
			return a.do(method, path, nil)
		}
		return a.do(method, path, body)
	}
	refused := func(what string, r response, code string) {
		t.Helper()
		if r.status != http.StatusUnauthorized || r.str("code") != code {
			t.Errorf("%s: %d %.300s, want 401 %s", what, r.status, r.body, code)
		}
	}
	sessions := func() int {
		var n int
		if err := e.db.QueryRow("SELECT COUNT(*) FROM checkout_sessions").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	start := time.Now()
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }

	ts, sig := rfc.sign(at(1), body)
	first := send("POST", "/checkout_sessions", body, ts, sig, "rfc-1")
	if first.status != http.StatusCreated {
		t.Fatalf("RFC-signed create: %d %s", first.status, first.body)
	}
	refused("the same signature on a new Idempotency-Key", send("POST", "/checkout_sessions", body, ts, sig, "rfc-2"), agents.ReasonSignatureReplayed)
	refused("the same signature on the canonical spelling", send("POST", "/checkout_sessions", rfc.canonical(body), ts, sig, "rfc-3"), agents.ReasonSignatureReplayed)
	if n := sessions(); n != 1 {
		t.Errorf("%d sessions after one create and two replays, want 1", n)
	}
	if r := send("POST", "/checkout_sessions", body, ts, sig, "rfc-1"); r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry of the same request: %d (replayed %q) %.300s", r.status, r.header.Get("Idempotent-Replayed"), r.body)
	}

	tampered := bytes.Replace(body, []byte(`"quantity": 1`), []byte(`"quantity": 2`), 1)
	if bytes.Equal(tampered, body) {
		t.Fatalf("no quantity to tamper with in %s", body)
	}
	ts, sig = rfc.sign(at(2), body)
	refused("tampered body", send("POST", "/checkout_sessions", tampered, ts, sig, "rfc-4"), "invalid_signature")
	ts, sig = rfcSigner{t: t, key: []byte("acpb_sig_not-the-shops")}.sign(at(3), body)
	refused("wrong key", send("POST", "/checkout_sessions", body, ts, sig, "rfc-5"), "invalid_signature")
	_, sig = rfc.sign(at(5), body)
	ts, _ = rfc.sign(at(4), body)
	refused("wrong Timestamp", send("POST", "/checkout_sessions", body, ts, sig, "rfc-6"), "invalid_signature")

	// The raw-body signature of before, standard base64 and Unix seconds.
	tsUnix := strconv.FormatInt(time.Now().Unix(), 10)
	raw := base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(signing), tsUnix, body))
	if r := send("POST", "/checkout_sessions", body, tsUnix, raw, "rfc-7"); r.status != http.StatusCreated {
		t.Errorf("raw-body signature: %d %.300s", r.status, r.body)
	}

	// A read: the RFC signer signs "null" for its empty body.
	ts, sig = rfc.sign(at(6), nil)
	if r := send("GET", "/checkout_sessions/"+first.str("id"), nil, ts, sig, ""); r.status != http.StatusOK {
		t.Errorf("RFC-signed GET: %d %.300s", r.status, r.body)
	}
}

// TestRFCSignaturesMCP: over MCP the signature covers the tool call's
// payload; the RFC's form over its canonical JSON is accepted there too,
// and replayed on another call it is refused.
func TestRFCSignaturesMCP(t *testing.T) {
	t.Parallel()
	e := newCheckoutEnv(t, app.DatabaseSQLite)
	signing, err := e.svc.Agents().RotateSigningSecret(context.Background(), e.sh.ID, true)
	if err != nil {
		t.Fatal(err)
	}
	a := e.mcpAgent(t)
	rfc := rfcSigner{t: t, key: []byte(signing)}
	// Members in reverse order (the MCP client compacts the spacing).
	payload := respell(t, (&agent{version: acp.V20260417}).createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil))
	ts, sig := rfc.sign(time.Now(), payload)
	meta := func(key string) map[string]any {
		return map[string]any{"api_version": "2026-04-17", "idempotency_key": key, "timestamp": ts, "signature": sig}
	}
	s, je := a.call("create_checkout_session", meta("rfc-mcp-1"), "", json.RawMessage(payload))
	if je != nil || s["id"] == nil {
		t.Fatalf("RFC-signed create over MCP: %v %v", s, je)
	}
	if _, je := a.call("create_checkout_session", meta("rfc-mcp-2"), "", json.RawMessage(payload)); je == nil || acpErr(t, je)["code"] != agents.ReasonSignatureReplayed {
		t.Errorf("replayed over MCP: %v, want %s", je, agents.ReasonSignatureReplayed)
	}
	tampered := bytes.Replace(payload, []byte(`"quantity": 1`), []byte(`"quantity": 2`), 1)
	ts, sig = rfc.sign(time.Now().Add(time.Millisecond), payload)
	if _, je := a.call("create_checkout_session", meta("rfc-mcp-3"), "", json.RawMessage(tampered)); je == nil || acpErr(t, je)["code"] != "invalid_signature" {
		t.Errorf("tampered payload over MCP: %v, want invalid_signature", je)
	}
	ts, sig = rfc.sign(time.Now().Add(2*time.Millisecond), nil)
	if got, je := a.call("get_checkout_session", map[string]any{"api_version": "2026-04-17", "timestamp": ts, "signature": sig}, s["id"].(string), nil); je != nil || got["id"] != s["id"] {
		t.Errorf("RFC-signed get over MCP (null body): %v %v", got, je)
	}
}
