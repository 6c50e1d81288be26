package store_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// openBefore opens a fresh database of the kind, migrated up to just
// before migration version (all of them, then down again).
func openBefore(t *testing.T, kind app.DatabaseKind, version int64) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.Config(t, kind, false), storetest.Logger(t), store.WithKeys(storetest.Keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for {
		ms, err := st.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ms.Current < version {
			return st
		}
		if err := st.MigrateDown(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// migrateDownBelow migrates st down until migration version is undone.
func migrateDownBelow(t *testing.T, st *store.Store, version int64) {
	t.Helper()
	ctx := context.Background()
	for {
		ms, err := st.Migrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ms.Current < version {
			return
		}
		if err := st.MigrateDown(ctx, 1); err != nil {
			t.Fatal(err)
		}
	}
}

// execer runs SQL statements on st, failing the test on an error.
func execer(t *testing.T, st *store.Store) func(q string) {
	return func(q string) {
		t.Helper()
		if _, err := st.DB().ExecContext(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestMigrationForgetsRemoteText: delivery results stored before issue 13
// could hold what a merchant-set URL answered (an internal service's body,
// an address and port). Migration 00013 must clear the failures' text on
// upgrade and leave successes (our own words) alone.
func TestMigrationForgetsRemoteText(t *testing.T) {
	t.Parallel()
	const leak = `create feed: answer has no feed id: "{\"AccessKeyId\":\"ASIA...\"}" from 10.0.0.7:8080`
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openBefore(t, kind, 13)
			exec := execer(t, st)
			exec(`INSERT INTO shops (id, domain, installed_at, created_at, updated_at) VALUES (1, 'm.myshopify.com', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO feed_targets (id, shop_id, kind, config, last_status, last_detail, created_at, updated_at) VALUES
				(1, 1, 'acp', '{}', 'failed', '` + leak + `', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
				(2, 1, 'acp', '{}', 'succeeded', 'pushed build 3 in 1.2s', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO feed_deliveries (target_id, build_id, status, detail, started_at) VALUES
				(1, 3, 'retrying', '` + leak + `', CURRENT_TIMESTAMP),
				(2, 3, 'succeeded', 'pushed build 3 in 1.2s', CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO agent_events (id, shop_id, session_id, type, api_version, body, status, last_error, created_at) VALUES
				(1, 1, 'cs_1', 'order_create', '2026-04-17', '{}', 'failed', '` + leak + `', CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO agent_event_attempts (event_id, attempted_at, status_code, error) VALUES
				(1, CURRENT_TIMESTAMP, 0, '` + leak + `'), (1, CURRENT_TIMESTAMP, 204, '')`)

			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			texts := queryStrings(t, st, `
				SELECT last_detail FROM feed_targets UNION ALL SELECT detail FROM feed_deliveries
				UNION ALL SELECT last_error FROM agent_events UNION ALL SELECT error FROM agent_event_attempts`)
			kept, cleared := 0, 0
			for _, s := range texts {
				switch {
				case strings.Contains(s, "AccessKeyId") || strings.Contains(s, "10.0.0.7"):
					t.Errorf("remote text kept after the migration: %q", s)
				case s == "pushed build 3 in 1.2s":
					kept++
				case strings.HasPrefix(s, "failed (the details"):
					cleared++
				}
			}
			if kept != 2 || cleared != 4 {
				t.Errorf("after migration: %d successes kept (want 2), %d failures cleared (want 4): %q", kept, cleared, texts)
			}
		})
	}
}

// TestMigrationMovesPaymentCredentials: migration 00015 moves each shop's
// Stripe key, account and verification time out of acp_settings into
// payment_credentials (provider "stripe"), and the key sealed before
// still opens with app.PaymentCredentialsAAD; sessions that kept the
// Stripe account show the same payment handler as before; and the down
// migration puts both back.
func TestMigrationMovesPaymentCredentials(t *testing.T) {
	t.Parallel()
	keys, err := secret.ParseKeyring(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	// Sealed as agents.ConnectStripe sealed Stripe keys before 00015.
	sealed, err := keys.Seal([]byte("rk_test_legacy"), []byte("stripe_key:1"))
	if err != nil {
		t.Fatal(err)
	}
	const quote = `"quote":{"key":"","lines":null,"quoted_at":"2026-01-02T03:04:05Z"}`
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openBefore(t, kind, 15)
			exec := execer(t, st)
			exec(`INSERT INTO shops (id, domain, installed_at, created_at, updated_at) VALUES
				(1, 'a.myshopify.com', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
				(2, 'b.myshopify.com', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO acp_settings (shop_id, webhook_url, stripe_account_id, stripe_key_sealed, stripe_verified_at, updated_at) VALUES
				(1, 'https://agent.example/hook', 'acct_legacy', '` + sealed + `', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
				(2, '', '', NULL, NULL, CURRENT_TIMESTAMP)`)
			exec(`INSERT INTO checkout_sessions (id, shop_id, api_version, status, currency, state, expires_at, created_at, updated_at) VALUES
				('cs_paid', 1, '2026-04-17', 'ready_for_payment', 'USD', '{"items":[],` + quote + `,"stripe_account_id":"acct_legacy"}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
				('cs_none', 2, '2026-04-17', 'not_ready_for_payment', 'USD', '{"items":[],` + quote + `}', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)

			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			c, err := st.PaymentCredentials(ctx, 1, "stripe")
			if err != nil {
				t.Fatal(err)
			}
			if c.AccountID != "acct_legacy" || c.Sealed != sealed || c.VerifiedAt == nil {
				t.Errorf("moved credentials = %+v", c)
			}
			if plain, err := keys.Open(c.Sealed, app.PaymentCredentialsAAD(1, "stripe")); err != nil || string(plain) != "rk_test_legacy" {
				t.Errorf("the moved key does not open with PaymentCredentialsAAD: %q, %v", plain, err)
			}
			set, err := st.ACPSettings(ctx, 1)
			if err != nil {
				t.Fatal(err)
			}
			if set.Payment == nil || set.Payment.Provider != "stripe" || set.Payment.AccountID != "acct_legacy" ||
				set.CompletionMethod != app.CompletionDelegatedPayment || set.WebhookURL != "https://agent.example/hook" {
				t.Errorf("settings after the migration = %+v (payment %+v)", set, set.Payment)
			}
			if set, err := st.ACPSettings(ctx, 2); err != nil || set.Payment != nil {
				t.Errorf("a shop without a key has a payment account: %+v, %v", set, err)
			}
			if _, err := st.PaymentCredentials(ctx, 2, "stripe"); err == nil {
				t.Error("a shop without a key has credentials")
			}
			paid, err := st.CheckoutSession(ctx, 1, "cs_paid")
			if err != nil {
				t.Fatal(err)
			}
			if want := []acp.PaymentHandler{acp.StripeSPTHandler("acct_legacy")}; !reflect.DeepEqual(paid.State.PaymentHandlers, want) {
				t.Errorf("payment handlers of a session priced before = %+v, want %+v", paid.State.PaymentHandlers, want)
			}
			if paid.State.Quote.QuotedAt.IsZero() {
				t.Errorf("the rest of the state was lost: %+v", paid.State)
			}
			if none, err := st.CheckoutSession(ctx, 2, "cs_none"); err != nil || none.State.PaymentHandlers != nil {
				t.Errorf("a session without an account = %+v, %v", none, err)
			}

			// And back (down through the later migrations, then 00015).
			migrateDownBelow(t, st, 15)
			got := queryStrings(t, st, `SELECT stripe_account_id || '|' || COALESCE(stripe_key_sealed, '') FROM acp_settings ORDER BY shop_id`)
			if want := []string{"acct_legacy|" + sealed, "|"}; !reflect.DeepEqual(got, want) {
				t.Errorf("acp_settings after the down migration = %q, want %q", got, want)
			}
			states := queryStrings(t, st, `SELECT state FROM checkout_sessions ORDER BY id`)
			for i := range states { // PostgreSQL's jsonb spells objects with spaces
				states[i] = strings.ReplaceAll(states[i], " ", "")
			}
			if len(states) != 2 || !strings.Contains(states[1], `"stripe_account_id":"acct_legacy"`) ||
				strings.Contains(states[1], "payment_handlers") || strings.Contains(states[0], "stripe_account_id") {
				t.Errorf("sessions after the down migration = %q", states)
			}
		})
	}
}

func mustKey(t *testing.T) string {
	t.Helper()
	k, err := secret.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestMigrationKeysIdempotencyByOperation: migration 00014 re-keys the
// idempotency records by operation. A request answered just before the
// upgrade must still replay when the agent retries it after: the records
// stored as HTTP responses (method + path, status, headers, body) become
// operation results, matched by any API key of their shop.
func TestMigrationKeysIdempotencyByOperation(t *testing.T) {
	t.Parallel()
	for _, kind := range storetest.Kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := openBefore(t, kind, 14)
			exec := execer(t, st)
			blob := func(s string) string {
				if s == "" {
					return "NULL"
				}
				if kind == app.DatabasePostgres {
					return "decode('" + hex.EncodeToString([]byte(s)) + "', 'hex')"
				}
				return "X'" + hex.EncodeToString([]byte(s)) + "'"
			}
			exec(`INSERT INTO shops (id, domain, installed_at, created_at, updated_at) VALUES (1, 'm.myshopify.com', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
			const base = "POST /acp/m.myshopify.com/checkout_sessions"
			const session = `{"id":"cs_abc","status":"ready_for_payment"}`
			const jsonCT = `{"Content-Type":["application/json"]}`
			old := []struct {
				scope, key, state string
				status            int
				headers, body     string
			}{
				{base, "k-create", "completed", 201, jsonCT, session},
				{base + "/cs_abc", "k-update", "completed", 200, jsonCT, session},
				{base + "/cs_abc/complete", "k-complete", "completed", 400, jsonCT,
					`{"type":"invalid_request","code":"requires_3ds","message":"complete again","param":"$.authentication_result"}`},
				{base + "/cs_abc/cancel", "k-cancel", "completed", 405, jsonCT,
					`{"type":"invalid_request","code":"invalid_state","message":"the session is completed"}`},
				{base + "/cs_abc", "k-busy", "completed", 409, `{"Content-Type":["application/json"],"Retry-After":["1"]}`,
					`{"type":"invalid_request","code":"concurrent_update","message":"retry"}`},
				{base, "k-big", "completed", 413, jsonCT,
					`{"type":"invalid_request","code":"request_too_large","message":"too large"}`},
				{base, "k-running", "in_flight", 0, "", ""},
				// Not ACP's: dropped, never guessed at.
				{base, "k-notjson", "completed", 400, jsonCT, "bad request"},
				{"POST /acp/m.myshopify.com/elsewhere", "k-elsewhere", "completed", 200, jsonCT, session},
				{base + "/cs_abc/complete/again", "k-deeper", "completed", 200, jsonCT, session},
			}
			for _, r := range old {
				status, headers := "NULL", "NULL"
				if r.status != 0 {
					status, headers = strconv.Itoa(r.status), "'"+r.headers+"'"
				}
				exec(fmt.Sprintf(`INSERT INTO idempotency_keys (shop_id, scope, key, api_version, request_hash, state, lease_until,
					response_status, response_headers, response_body, created_at, expires_at)
					VALUES (1, '%s', '%s', '2026-04-17', 'h', '%s', CURRENT_TIMESTAMP, %s, %s, %s, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
					r.scope, r.key, r.state, status, headers, blob(r.body)))
			}

			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			kept := queryStrings(t, st, `SELECT key FROM idempotency_keys ORDER BY key`)
			if want := "k-big k-busy k-cancel k-complete k-create k-update"; strings.Join(kept, " ") != want {
				t.Fatalf("records after the migration: %q, want %s", kept, want)
			}
			// The rows expire "now": claim as of an hour ago, when they live.
			then := time.Now().Add(-time.Hour)
			refusal := func(class app.Code, typ acp.ErrorType, code, msg, param string, retryMS int64) *idempotency.Refusal {
				return &idempotency.Refusal{Class: class, Type: typ, Code: code, Message: msg, Param: param, RetryAfterMS: retryMS}
			}
			for _, tt := range []struct {
				op      idempotency.Operation
				session string
				key     string
				want    idempotency.StoredResult
			}{
				{idempotency.OpCreateSession, "", "k-create", idempotency.StoredResult{Outcome: idempotency.OutcomeCreated, Session: []byte(session)}},
				{idempotency.OpUpdateSession, "cs_abc", "k-update", idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: []byte(session)}},
				{idempotency.OpCompleteSession, "cs_abc", "k-complete", idempotency.StoredResult{Outcome: idempotency.OutcomeRefused,
					Refusal: refusal("", acp.ErrInvalidRequest, "requires_3ds", "complete again", "$.authentication_result", 0)}},
				{idempotency.OpCancelSession, "cs_abc", "k-cancel", idempotency.StoredResult{Outcome: idempotency.OutcomeRefused,
					Refusal: refusal(app.CodeNotAllowed, acp.ErrInvalidRequest, "invalid_state", "the session is completed", "", 0)}},
				{idempotency.OpUpdateSession, "cs_abc", "k-busy", idempotency.StoredResult{Outcome: idempotency.OutcomeRefused,
					Refusal: refusal(app.CodeConflict, acp.ErrInvalidRequest, "concurrent_update", "retry", "", 1000)}},
				{idempotency.OpCreateSession, "", "k-big", idempotency.StoredResult{Outcome: idempotency.OutcomeRefused,
					Refusal: refusal("", acp.ErrInvalidRequest, "request_too_large", "too large", "", 0)}},
			} {
				// Any API key of the shop finds the converted record.
				for _, keyID := range []int64{5, 6} {
					rec := idempotency.Record{
						Scope: idempotency.Scope{ShopID: 1, APIKeyID: keyID, Operation: tt.op, SessionID: tt.session},
						Key:   tt.key, APIVersion: "2026-04-17", RequestHash: "h", State: idempotency.InFlight,
						LeaseUntil: then.Add(time.Minute), CreatedAt: then, ExpiresAt: then.Add(24 * time.Hour),
					}
					held, claimed, err := st.ClaimIdempotencyKey(ctx, rec, then)
					if err != nil || claimed || held.State != idempotency.Completed || held.Result == nil {
						t.Fatalf("%s %s %s (key %d): held %+v, claimed %v, err %v; want the converted record", tt.op, tt.session, tt.key, keyID, held, claimed, err)
					}
					got := held.Result
					if got.Outcome != tt.want.Outcome || string(got.Session) != string(tt.want.Session) ||
						(got.Refusal == nil) != (tt.want.Refusal == nil) || got.Refusal != nil && *got.Refusal != *tt.want.Refusal {
						t.Fatalf("%s: result %s %q %+v, want %s %q %+v", tt.key, got.Outcome, got.Session, got.Refusal,
							tt.want.Outcome, tt.want.Session, tt.want.Refusal)
					}
				}
			}
			// The request in flight at the upgrade is forgotten: its key is free.
			rec := idempotency.Record{
				Scope: idempotency.Scope{ShopID: 1, APIKeyID: 5, Operation: idempotency.OpCreateSession},
				Key:   "k-running", APIVersion: "2026-04-17", RequestHash: "h", State: idempotency.InFlight,
				LeaseUntil: then.Add(time.Minute), CreatedAt: then, ExpiresAt: then.Add(24 * time.Hour),
			}
			if _, claimed, err := st.ClaimIdempotencyKey(ctx, rec, then); err != nil || !claimed {
				t.Fatalf("in-flight key after the upgrade: claimed %v, %v; want a fresh claim", claimed, err)
			}
			// Down to before 00014 and up again: the schema goes back and forth.
			if err := st.MigrateDown(ctx, 2); err != nil {
				t.Fatal(err)
			}
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
