package agents_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
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

// TestSignatureReplay runs the replays of issue 13 against the replay cache
// on both databases, through two agents.Access on one store (two replicas): a
// verified signature is accepted once, except for a retry of the very same
// request.
func TestSignatureReplay(t *testing.T) {
	t.Parallel()
	storetest.EachShop(t, func(t *testing.T, st *store.Store, sh *app.Shop) {
		ctx := context.Background()
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		clk := testkit.NewClock(now)
		kr := fuzzKeyring(t)
		replicas := []*agents.Access{{Store: st, Keys: kr, Now: clk.Now}, {Store: st, Keys: kr, Now: clk.Now}}
		signing, err := replicas[0].RotateSigningSecret(ctx, sh.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		set, err := replicas[0].Settings(ctx, sh.ID)
		if err != nil {
			t.Fatal(err)
		}
		ag := &app.Agent{Shop: sh, Settings: set}
		tsN := now.Unix()
		sign := func(body string) (ts, sig string) { // a fresh Timestamp each time
			tsN++
			ts = strconv.FormatInt(tsN, 10)
			return ts, base64.StdEncoding.EncodeToString(agents.SignRequest([]byte(signing), ts, []byte(body)))
		}
		// send is one request through replica r: verify, then consume.
		send := func(r int, ts, sig, body string, req agents.SignedRequest) error {
			if err := replicas[r].VerifySignature(ag, ts, sig, []byte(body)); err != nil {
				t.Fatalf("VerifySignature: %v", err) // every signature here is genuine
			}
			return replicas[r].ConsumeSignature(ctx, ag, ts, sig, req)
		}
		const base = "/acp/a.myshopify.com/checkout_sessions"
		create := func(key string) agents.SignedRequest {
			return agents.SignedRequest{Method: http.MethodPost, Path: base, IdempotencyKey: key}
		}
		replayed := func(err error) {
			t.Helper()
			wantAppError(t, err, app.CodeUnauthorized, agents.ReasonSignatureReplayed)
		}

		// One signed create, replayed with new Idempotency-Keys on both replicas.
		body := `{"line_items":[{"id":"1","quantity":1}],"currency":"usd","capabilities":{}}`
		ts, sig := sign(body)
		if err := send(0, ts, sig, body, create("k1")); err != nil {
			t.Fatalf("first use: %v", err)
		}
		replayed(send(1, ts, sig, body, create("k2")))
		replayed(send(0, ts, sig, body, create("k3")))
		// The same request retried (same key, same headers) passes, on
		// either replica: idempotency answers it with the stored response.
		for r := range replicas {
			if err := send(r, ts, sig, body, create("k1")); err != nil {
				t.Fatalf("retry of the same request on replica %d: %v", r, err)
			}
		}
		// Another spelling of the same MAC is the same signature.
		mac, _ := base64.StdEncoding.DecodeString(sig)
		for _, spelt := range []string{hex.EncodeToString(mac), base64.RawURLEncoding.EncodeToString(mac)} {
			replayed(send(1, ts, spelt, body, create("k4")))
		}

		// A GET's signature (empty body) on an empty-body cancel of another
		// session is refused; on a GET of another session (an agent reading
		// two sessions in the same second) it is not: reads change nothing.
		get := agents.SignedRequest{Method: http.MethodGet, Path: base + "/cs_1"}
		ts, sig = sign("")
		if err := send(0, ts, sig, "", get); err != nil {
			t.Fatalf("GET: %v", err)
		}
		replayed(send(1, ts, sig, "", agents.SignedRequest{Method: http.MethodPost, Path: base + "/cs_2/cancel", IdempotencyKey: "c1"}))
		if err := send(1, ts, sig, "", agents.SignedRequest{Method: http.MethodGet, Path: base + "/cs_2"}); err != nil {
			t.Fatalf("GET of another session with the same signature: %v", err)
		}
		if err := send(1, ts, sig, "", get); err != nil { // a GET retried as it was
			t.Fatalf("GET retried: %v", err)
		}

		// A POST without Idempotency-Key (2025-09-29) has no retry to tell
		// from a replay: its signature is good once.
		bare := agents.SignedRequest{Method: http.MethodPost, Path: base}
		ts, sig = sign(body)
		if err := send(0, ts, sig, body, bare); err != nil {
			t.Fatal(err)
		}
		replayed(send(1, ts, sig, body, bare))

		// The cancel first, then the GET: the order does not matter.
		ts, sig = sign("")
		if err := send(1, ts, sig, "", agents.SignedRequest{Method: http.MethodPost, Path: base + "/cs_3/cancel", IdempotencyKey: "c3"}); err != nil {
			t.Fatal(err)
		}
		replayed(send(0, ts, sig, "", get))

		// Another shop may use the same digest (its MACs come from its own
		// secret, so this is only the store's scoping): not a replay.
		other, err := st.SaveShopInstall(ctx, app.Shop{Domain: "b.myshopify.com"})
		if err != nil {
			t.Fatal(err)
		}
		use := agents.SignatureUse{ShopID: other.ID, Digest: "d1", Binding: "", ExpiresAt: now.Add(time.Minute)}
		if _, fresh, err := st.UseSignature(ctx, use, now); err != nil || !fresh {
			t.Fatalf("shop B's first use: %v, %v", fresh, err)
		}
		use.ShopID = sh.ID
		if _, fresh, err := st.UseSignature(ctx, use, now); err != nil || !fresh {
			t.Fatalf("shop A, same digest: %v, %v", fresh, err)
		}
		if first, fresh, err := st.UseSignature(ctx, use, now); err != nil || fresh || first.Digest != "d1" {
			t.Fatalf("shop A again: %+v, %v, %v; want the first use", first, fresh, err)
		}
		// Expired uses are forgotten: the row is taken over, and pruned.
		if _, fresh, err := st.UseSignature(ctx, use, now.Add(time.Minute)); err != nil || !fresh {
			t.Fatalf("after expiry: %v, %v; want a fresh use", fresh, err)
		}
		n, err := st.PruneSignatureUses(ctx, now.Add(agents.SignatureWindow+2*time.Minute+time.Hour))
		if err != nil || n < 5 {
			t.Fatalf("prune: %d, %v; want every use gone", n, err)
		}
		if n, err := st.PruneSignatureUses(ctx, now.Add(48*time.Hour)); err != nil || n != 0 {
			t.Fatalf("second prune: %d, %v", n, err)
		}
	})
}

// TestSignatureUsesNeedAStore: an app wired with a store that keeps no
// signature uses fails closed (an error, a 500), never lets a replay in.
func TestSignatureUsesNeedAStore(t *testing.T) {
	t.Parallel()
	a := &agents.Access{Keys: fuzzKeyring(t)}
	ag := &app.Agent{Shop: &app.Shop{ID: 1}, Settings: &app.ACPSettings{ShopID: 1}}
	sig := base64.StdEncoding.EncodeToString(make([]byte, 32))
	if err := a.ConsumeSignature(context.Background(), ag, "1800000000", sig, agents.SignedRequest{Method: "GET", Path: "/"}); err == nil {
		t.Fatal("no store: want an error")
	}
	if err := a.ConsumeSignature(context.Background(), ag, "", "", agents.SignedRequest{}); err != nil {
		t.Fatalf("unsigned request: %v", err)
	}
}

func wantAppError(t *testing.T, err error, code app.Code, reason string) *app.Error {
	t.Helper()
	var ae *app.Error
	if !errors.As(err, &ae) || ae.Code != code || ae.Reason != reason {
		t.Fatalf("err = %#v, want code %s reason %s", err, code, reason)
	}
	return ae
}
