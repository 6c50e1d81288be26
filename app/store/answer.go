package store

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"

	"github.com/acpbridge/acpbridge/acp"
	"github.com/acpbridge/acpbridge/app"
)

// The stored answer of a record is the session as the agent was shown it,
// buyer included: it is sealed, bound to its record (app.IdempotencyResultAAD),
// so that it is as unreadable at rest as the session's own row
// (personal.go).
//
// It is deflated before it is sealed, and sealed in the keyring's binary
// form (secret.Keyring.SealBytes): a session's ACP JSON of about 3.2 KB,
// sealed as it was in base64 text, made a value of 4.2 KB on average that
// PostgreSQL could not compress and moved to the TOAST table on every
// write (issue 17: TOAST work was about 8% of PostgreSQL's CPU); deflated
// and sealed in binary it is about 1.3 KB and stays in the row. The sealed plaintext is
// one format byte (answerRaw, answerDeflate) and the answer: the byte is
// encrypted and authenticated with it, so the format cannot be changed
// without the key any more than the answer can.
//
// The stored value is answerPrefix and the binary sealed value. Replicas
// of before this change read a value that does not start with "v1:" as
// plain JSON and replay it as it is; one that does, they open as a text
// sealed value. "v1::" is such a value with an empty key id, which they
// refuse as malformed: during a rolling deploy an old replica fails the
// replay of a new answer with an error (the agent retries, and a new
// replica answers), where "b1:…" alone would have been replayed as the
// answer's bytes.
//
// Three stored forms are read (the older ones live until their records
// expire, 24 h after they were written):
//   - "v1::b1:<key id>:<nonce||ciphertext>", answerPrefix and SealBytes
//     of the format byte and the answer: written since this change;
//   - "v1:<key id>:<base64>", Seal of the answer's JSON: since migration
//     00022;
//   - the JSON itself, stored before migration 00022.

// Formats of a sealed answer's plaintext: its first byte.
const (
	// answerRaw: the answer follows as it is (one too large to inflate
	// again, or that deflate does not shrink).
	answerRaw byte = 0
	// answerDeflate: the answer follows as a raw DEFLATE stream (RFC 1951).
	answerDeflate byte = 1
)

// maxAnswerBytes is the largest answer stored deflated, and so the most an
// answer is inflated to when read: a value that would inflate further is
// refused, so that a stored value cannot make a read allocate without
// bound. An answer is a session in ACP JSON; a request may be 256 KiB
// (acp.MaxBodyBytes) and today's answers are under 5 KB, so four times a
// request leaves room. A larger answer is stored as it is (answerRaw), so
// no answer the store wrote fails to open.
const maxAnswerBytes = 4 * acp.MaxBodyBytes

// answerLevel is the deflate level of answers: the fastest, as the feed's
// (app/feed.GzipLevel). BenchmarkAnswerCompression, on the 4.4 KB created
// session of the ACP examples (2 cores): level 1 makes 1,640 bytes in
// about 15 µs, level 5 1,501 bytes in about 24 µs, zstd's fastest and
// default levels 1,658 and 1,601 bytes in 17 and 22 µs. Every session
// write stores an answer, and once the answer is under PostgreSQL's TOAST
// threshold a smaller one saves the database next to nothing; answers of
// the load runs (3.2 KB of JSON on average, 3.6 KB at most) stay well
// under it at level 1.
const answerLevel = flate.BestSpeed

// answerPrefix starts a stored answer of the current form; textPrefix one
// sealed as text (secret.Keyring.Seal), as answers were from migration
// 00022 until they were deflated. Key ids are never empty, so no text
// sealed value starts with answerPrefix.
var (
	answerPrefix = []byte("v1::")
	textPrefix   = []byte("v1:")
)

// deflaters keeps flate writers: one is 500 KB and about 100 µs to make,
// and every session write with an answer needs one.
var deflaters = sync.Pool{New: func() any {
	w, err := flate.NewWriter(nil, answerLevel)
	if err != nil {
		panic(err) // only for an invalid level, a constant
	}
	return w
}}

// sealAnswer is the stored form of an answer (empty: none).
func (s *Store) sealAnswer(recordID int64, body []byte) ([]byte, error) {
	if len(body) == 0 {
		return []byte{}, nil
	}
	if s.keys == nil {
		return nil, errNoKeys
	}
	plain, err := packAnswer(body)
	if err != nil {
		return nil, fmt.Errorf("seal the answer of idempotency record %d: %w", recordID, err)
	}
	sealed, err := s.keys.SealBytes(plain, app.IdempotencyResultAAD(recordID))
	if err != nil {
		return nil, fmt.Errorf("seal the answer of idempotency record %d: %w", recordID, err)
	}
	return append(bytes.Clone(answerPrefix), sealed...), nil
}

// openAnswer reverses sealAnswer, and reads the older forms too.
func (s *Store) openAnswer(recordID int64, stored []byte) ([]byte, error) {
	current := bytes.HasPrefix(stored, answerPrefix)
	if !current && !bytes.HasPrefix(stored, textPrefix) {
		return stored, nil // plain JSON, stored before migration 00022
	}
	if s.keys == nil {
		return nil, errNoKeys
	}
	aad := app.IdempotencyResultAAD(recordID)
	var b []byte
	var err error
	if current {
		b, err = s.keys.OpenBytes(stored[len(answerPrefix):], aad)
		if err == nil {
			b, err = unpackAnswer(b)
		}
	} else {
		b, err = s.keys.Open(string(stored), aad)
	}
	if err != nil {
		return nil, fmt.Errorf("open the answer of idempotency record %d: %w", recordID, err)
	}
	return b, nil
}

// packAnswer is the plaintext sealAnswer seals: the format byte and the
// answer, deflated when that makes it smaller.
func packAnswer(body []byte) ([]byte, error) {
	if len(body) <= maxAnswerBytes {
		z, err := deflateAnswer(body)
		if err != nil {
			return nil, err
		}
		if len(z) <= len(body) {
			return z, nil
		}
	}
	out := make([]byte, 0, 1+len(body))
	out = append(out, answerRaw)
	return append(out, body...), nil
}

// deflateAnswer is answerDeflate and body deflated.
func deflateAnswer(body []byte) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(1 + len(body)/2)
	buf.WriteByte(answerDeflate)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(body); err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("deflate: %w", err)
	}
	return buf.Bytes(), nil
}

// errAnswerFormat: a sealed answer's plaintext is in no known format, or
// does not inflate to an answer of at most maxAnswerBytes.
var errAnswerFormat = errors.New("malformed stored answer")

// unpackAnswer reverses packAnswer.
func unpackAnswer(plain []byte) ([]byte, error) {
	if len(plain) == 0 {
		return nil, fmt.Errorf("%w: empty", errAnswerFormat)
	}
	switch plain[0] {
	case answerRaw:
		return plain[1:], nil
	case answerDeflate:
		return inflateAnswer(plain[1:])
	default:
		return nil, fmt.Errorf("%w: format %d", errAnswerFormat, plain[0])
	}
}

// inflaters keeps flate readers: making one (40 KB, its window included)
// was a third of a stored answer's read (BenchmarkAnswerOpen).
var inflaters sync.Pool

// inflateAnswer inflates z, up to maxAnswerBytes.
func inflateAnswer(z []byte) ([]byte, error) {
	src := bytes.NewReader(z)
	r, ok := inflaters.Get().(io.ReadCloser)
	if ok {
		if err := r.(flate.Resetter).Reset(src, nil); err != nil {
			return nil, fmt.Errorf("%w: inflate: %w", errAnswerFormat, err)
		}
	} else {
		r = flate.NewReader(src)
	}
	defer inflaters.Put(r)
	b, err := io.ReadAll(io.LimitReader(r, maxAnswerBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: inflate: %w", errAnswerFormat, err)
	}
	if len(b) > maxAnswerBytes {
		return nil, fmt.Errorf("%w: inflates past %d bytes", errAnswerFormat, maxAnswerBytes)
	}
	return b, nil
}
