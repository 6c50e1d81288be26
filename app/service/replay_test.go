package service_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/agents"
	"github.com/acpbridge/acpbridge/web"
)

// TestSignedRequestReplays reproduces the signature replays of issue 13
// through the real routes, on both databases; on PostgreSQL the replays go
// to a second replica. The Signature covers only Timestamp + "." + body:
// a signed create replayed with new Idempotency-Keys made one session per
// replay, and a GET's signature (empty body) cancelled another session.
// Now a signature is accepted once, and a retry of the same request (same
// Idempotency-Key) still gets its stored answer.
func TestSignedRequestReplays(t *testing.T) {
	t.Parallel()
	eachKind(t, func(t *testing.T, kind app.DatabaseKind) {
		e := newCheckoutEnv(t, kind)
		ctx := context.Background()
		second := e.shopifyEnv
		if kind == app.DatabasePostgres {
			second = newReplica(t, e.shopifyEnv)
		}
		signing, err := e.svc.Agents().RotateSigningSecret(ctx, e.sh.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		v := acp.V20260417
		replicas := []*agent{e.agent(t, v), {t: t, base: web.ACPBaseURL(second.svc.URL(), testShop), key: e.key, version: v}}
		start, n := time.Now().UTC(), 0
		sign := func(body []byte) (ts, sig string) { // a fresh Timestamp each time
			n++
			ts = start.Add(time.Duration(n) * time.Millisecond).Format(time.RFC3339Nano)
			return ts, base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(signing), ts, body))
		}
		send := func(replica int, method, path string, body []byte, ts, sig, key string) response {
			t.Helper()
			a := replicas[replica]
			a.headers = map[string]string{"Timestamp": ts, "Signature": sig}
			if key != "" {
				a.headers["Idempotency-Key"] = key
			}
			defer func() { a.headers = nil }()
			if body == nil {
				return a.do(method, path, nil)
			}
			return a.do(method, path, body)
		}
		replayed := func(what string, r response) {
			t.Helper()
			if r.status != http.StatusUnauthorized || r.str("code") != agents.ReasonSignatureReplayed || r.str("type") != "invalid_request" {
				t.Errorf("%s: %d %.200s, want 401 %s", what, r.status, r.body, agents.ReasonSignatureReplayed)
			}
		}
		sessions := func() int {
			var n int
			if err := e.db.QueryRow("SELECT COUNT(*) FROM checkout_sessions").Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		create, err := json.Marshal(replicas[0].createBody([]acp.ItemInput{item(e.items.digital, 1)}, true, nil))
		if err != nil {
			t.Fatal(err)
		}

		// One signed create, replayed three times with new Idempotency-Keys.
		ts, sig := sign(create)
		first := send(0, "POST", "/checkout_sessions", create, ts, sig, "create-1")
		if first.status != http.StatusCreated {
			t.Fatalf("create: %d %s", first.status, first.body)
		}
		for i, key := range []string{"create-2", "create-3", "create-4"} {
			replayed("create replayed with "+key, send((i+1)%2, "POST", "/checkout_sessions", create, ts, sig, key))
		}
		if got := sessions(); got != 1 {
			t.Errorf("%d sessions after one create and three replays, want 1", got)
		}
		// The same request retried as it was, on either replica: the
		// idempotent replay, byte for byte.
		for replica := range replicas {
			r := send(replica, "POST", "/checkout_sessions", create, ts, sig, "create-1")
			if r.status != http.StatusCreated || r.header.Get("Idempotent-Replayed") != "true" || string(r.body) != string(first.body) {
				t.Errorf("retry on replica %d: %d (replayed %q) %s; want the first answer", replica, r.status, r.header.Get("Idempotent-Replayed"), r.body)
			}
		}

		// A GET's signature reused on POST …/cancel of another session.
		id1 := first.str("id")
		ts, sig = sign(create)
		r := send(0, "POST", "/checkout_sessions", create, ts, sig, "create-5")
		if r.status != http.StatusCreated {
			t.Fatalf("second create: %d %s", r.status, r.body)
		}
		id2 := r.str("id")
		getTS, getSig := sign(nil)
		if r := send(0, "GET", "/checkout_sessions/"+id1, nil, getTS, getSig, ""); r.status != http.StatusOK {
			t.Fatalf("signed GET: %d %s", r.status, r.body)
		}
		replayed("GET's signature on cancel", send(1, "POST", "/checkout_sessions/"+id2+"/cancel", nil, getTS, getSig, "cancel-1"))
		// On a GET of another session it serves: reads change nothing, and
		// an agent reading two sessions in the same second signs both alike.
		if r := send(1, "GET", "/checkout_sessions/"+id2, nil, getTS, getSig, ""); r.status != http.StatusOK {
			t.Errorf("GET's signature on a GET of another session: %d %s, want 200", r.status, r.body)
		}
		ts, sig = sign(nil)
		if r := send(1, "GET", "/checkout_sessions/"+id2, nil, ts, sig, ""); r.status != http.StatusOK || r.str("status") == "canceled" {
			t.Errorf("session after the replayed cancel: %d %s, want it open", r.status, r.str("status"))
		}
		// Signed afresh, the very same cancel works.
		ts, sig = sign(nil)
		if r := send(1, "POST", "/checkout_sessions/"+id2+"/cancel", nil, ts, sig, "cancel-1"); r.status != http.StatusOK || r.str("status") != "canceled" {
			t.Errorf("freshly signed cancel: %d %s", r.status, r.body)
		}
	})
}
