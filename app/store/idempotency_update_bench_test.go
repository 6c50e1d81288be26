package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// BenchmarkUpdateWrite measures the database side of one update of a
// session on each database: "claim-with-write" is the claiming update of
// a remembered session (SaveCheckoutSessionClaiming, one statement on
// PostgreSQL), "claim-then-write" the ordinary path (ClaimIdempotencyKey
// reading the session, then SaveCheckoutSessionAnswered).
//
//	go test ./app/store -run '^$' -bench UpdateWrite -benchtime 2000x
func BenchmarkUpdateWrite(b *testing.B) {
	for _, kind := range storetest.Kinds {
		b.Run(string(kind), func(b *testing.B) {
			st := storetest.Open(b, kind)
			ctx := context.Background()
			sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
			keys := idempotency.New(st, idempotency.Options{})
			now := time.Now().UTC().Truncate(time.Microsecond)
			if err := st.CreateCheckoutSession(ctx, newSession("cs_1", sh.ID, now)); err != nil {
				b.Fatal(err)
			}
			scope := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1")
			body := []byte(`{"line_items":[{"id":"42","quantity":2}]}`)
			answer := make([]byte, 3200) // a stored answer's average size
			n := 0                       // keys are new across b.N's rounds
			b.Run("claim-with-write", func(b *testing.B) {
				for range b.N {
					n++
					i := n
					p, err := keys.Prepare(scope, fmt.Sprintf("w%d", i), acp.V20260417, body)
					if err != nil {
						b.Fatal(err)
					}
					cs, ok := st.RememberedCheckoutSession(sh.ID, "cs_1")
					if !ok {
						b.Fatal("not remembered")
					}
					cs.State.OrderNotes = fmt.Sprint(i)
					if claimed, err := st.SaveCheckoutSessionClaiming(ctx, cs, checkout.AnswerRecord{Outcome: "returned", Body: answer, Claim: p}); err != nil || !claimed {
						b.Fatalf("claimed %v, %v", claimed, err)
					}
				}
			})
			b.Run("claim-then-write", func(b *testing.B) {
				for range b.N {
					n++
					i := n
					rec := idemRecord(scope, fmt.Sprintf("t%d", i), "h", now)
					pf := &checkout.Prefetch{ShopID: sh.ID, ID: "cs_1"}
					held, claimed, err := st.ClaimIdempotencyKey(checkout.WithPrefetch(ctx, pf), rec, now)
					if err != nil || !claimed {
						b.Fatalf("claim: %v, %v", claimed, err)
					}
					cs, filled := pf.Filled()
					if !filled {
						if cs, err = st.CheckoutSession(ctx, sh.ID, "cs_1"); err != nil { // SQLite reads apart
							b.Fatal(err)
						}
					}
					cs.State.OrderNotes = fmt.Sprint(i)
					if _, err := st.SaveCheckoutSessionAnswered(ctx, cs, checkout.AnswerRecord{Record: held.ID, Outcome: "returned", Body: answer}); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
