package store_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/flate"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/idempotency"
	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/app/store"
	"github.com/acpbridge/acpbridge/app/store/storetest"
)

// storedAnswer is a record's result_session as stored.
func storedAnswer(t *testing.T, st *store.Store, id int64) []byte {
	t.Helper()
	var b []byte
	if err := st.DB().QueryRowContext(context.Background(), fmt.Sprintf(`SELECT result_session FROM idempotency_keys WHERE id = %d`, id)).Scan(&b); err != nil {
		t.Fatal(err)
	}
	return b
}

// setStoredAnswer stores b as a record's result_session, as an older
// version of the app (or an attacker with the database) would have.
func setStoredAnswer(t *testing.T, st *store.Store, id int64, b []byte) {
	t.Helper()
	lit := "X'" + hex.EncodeToString(b) + "'"
	if st.Kind() == app.DatabasePostgres {
		lit = "decode('" + hex.EncodeToString(b) + "', 'hex')"
	}
	execer(t, st)(fmt.Sprintf(`UPDATE idempotency_keys SET result_session = %s WHERE id = %d`, lit, id))
}

// deflate is b as a raw DEFLATE stream.
func deflate(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestStoredAnswerForms: a stored answer reads back from every form the
// store wrote (deflated and sealed in binary now, sealed as text since
// migration 00022, plain JSON before), only in its own record, and a
// malformed value fails the read with an error.
func TestStoredAnswerForms(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		sh, _ := st.SaveShopInstall(ctx, app.Shop{Domain: "a.myshopify.com"})
		now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
		answer := store.SpecAnswer(t)
		n := 0
		// finished is a record completed with the answer, as the store writes it.
		finished := func() (idempotency.Scope, string, int64) {
			n++
			scope, key := idemScope(sh.ID, idempotency.OpUpdateSession, "cs_1"), fmt.Sprint("k", n)
			held, claimed := claim(t, st, idemRecord(scope, key, "h", now), now)
			if !claimed {
				t.Fatal("not claimed")
			}
			if err := st.FinishIdempotencyKey(ctx, held.ID, idempotency.StoredResult{Outcome: idempotency.OutcomeReturned, Session: answer}); err != nil {
				t.Fatal(err)
			}
			return scope, key, held.ID
		}
		// sealBytes is the stored form of plain as sealAnswer makes it.
		sealBytes := func(plain []byte, id int64) []byte {
			b, err := storetest.Keys.SealBytes(plain, app.IdempotencyResultAAD(id))
			if err != nil {
				t.Fatal(err)
			}
			return append([]byte("v1::"), b...)
		}
		_, _, other := finished()
		written := storedAnswer(t, st, other)
		if !bytes.HasPrefix(written, []byte("v1::b1:test:")) || len(written) > len(answer)/2 {
			t.Fatalf("answer of %d bytes stored as %d bytes %.12q, want it deflated and sealed in binary", len(answer), len(written), written)
		}
		// A replica of before this change replays a value as it is unless
		// it starts with "v1:", and then opens it as text: it must fail.
		if _, err := storetest.Keys.Open(string(written), app.IdempotencyResultAAD(other)); !bytes.HasPrefix(written, []byte("v1:")) || !errors.Is(err, secret.ErrMalformed) {
			t.Fatalf("an old replica would read %.12q… as an answer (Open: %v), want it refused as malformed", written, err)
		}
		if st.Kind() == app.DatabasePostgres {
			assertInline(t, st, other, len(answer))
		}

		for _, tc := range []struct {
			name string
			// stored is what to store in record id instead of what the
			// store wrote (nil: leave that).
			stored  func(id int64) []byte
			wantErr string
			errIs   error
		}{
			{name: "as written"},
			{name: "sealed text form (since 00022)", stored: func(id int64) []byte {
				s, err := storetest.Keys.Seal(answer, app.IdempotencyResultAAD(id))
				if err != nil {
					t.Fatal(err)
				}
				return []byte(s)
			}},
			{name: "plain JSON (before 00022)", stored: func(int64) []byte { return answer }},
			{name: "sealed raw", stored: func(id int64) []byte { return sealBytes(append([]byte{0}, answer...), id) }},
			{name: "another record's answer", stored: func(int64) []byte { return written },
				errIs: secret.ErrDecrypt},
			{name: "another record's answer in text form", stored: func(int64) []byte {
				s, _ := storetest.Keys.Seal(answer, app.IdempotencyResultAAD(other))
				return []byte(s)
			}, errIs: secret.ErrDecrypt},
			{name: "bit flipped", stored: func(id int64) []byte {
				b := bytes.Clone(storedAnswer(t, st, id))
				b[len(b)-100] ^= 1
				return b
			}, errIs: secret.ErrDecrypt},
			{name: "truncated", stored: func(id int64) []byte { return storedAnswer(t, st, id)[:30] }, errIs: secret.ErrMalformed},
			{name: "inflates to 2 MiB", stored: func(id int64) []byte {
				return sealBytes(append([]byte{1}, deflate(t, make([]byte, 2<<20))...), id)
			}, wantErr: "inflates past"},
			{name: "not deflate", stored: func(id int64) []byte { return sealBytes([]byte{1, 0xff, 0xff, 0xff}, id) }, wantErr: "inflate"},
			{name: "unknown format", stored: func(id int64) []byte { return sealBytes(append([]byte{9}, answer...), id) }, wantErr: "format 9"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				scope, key, id := finished()
				if tc.stored != nil {
					setStoredAnswer(t, st, id, tc.stored(id))
				}
				rec, err := st.IdempotencyRecord(ctx, scope, key)
				if tc.wantErr == "" && tc.errIs == nil {
					if err != nil || rec.Result == nil || !bytes.Equal(rec.Result.Session, answer) {
						t.Fatalf("IdempotencyRecord = %+v, %v; want the answer", rec, err)
					}
					return
				}
				if err == nil || (tc.errIs != nil && !errors.Is(err, tc.errIs)) || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("IdempotencyRecord = %+v, %v; want an error (%v, %q)", rec, err, tc.errIs, tc.wantErr)
				}
				// The claim of a retry reads the record too: it fails alike.
				if _, _, err := st.ClaimIdempotencyKey(ctx, idemRecord(scope, key, "h", now), now); err == nil {
					t.Fatal("a retry's claim read the malformed answer")
				}
			})
		}
	})
}

// assertInline checks on PostgreSQL that record id's answer is stored in
// its row: under 2,000 bytes (pg_column_size), the row under the 2,032
// bytes past which PostgreSQL compresses and moves values out of line
// (TOAST_TUPLE_THRESHOLD), and nothing in the table's TOAST relation. The
// same answer sealed as it was before (text form) is logged for
// comparison.
func assertInline(t *testing.T, st *store.Store, id int64, answerLen int) {
	t.Helper()
	var col, row, toast int64
	err := st.DB().QueryRowContext(context.Background(), fmt.Sprintf(`SELECT pg_column_size(k.result_session), pg_column_size(k.*),
  (SELECT pg_relation_size(reltoastrelid) FROM pg_class WHERE relname = 'idempotency_keys')
FROM idempotency_keys k WHERE id = %d`, id)).Scan(&col, &row, &toast)
	if err != nil {
		t.Fatal(err)
	}
	old, err := storetest.Keys.Seal(store.SpecAnswer(t), app.IdempotencyResultAAD(id))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("answer of %d bytes: stored in %d bytes (row %d bytes, TOAST relation %d bytes); sealed as text it was %d bytes",
		answerLen, col, row, toast, len(old))
	if col >= 2000 || row >= 2032 || toast != 0 {
		t.Errorf("answer stored in %d bytes, row %d bytes, TOAST relation %d bytes: want under 2,000, under 2,032 and 0", col, row, toast)
	}
}
