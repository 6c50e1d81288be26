package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/zstd"

	"github.com/acpbridge/acpbridge/acp/spec"
)

// specAnswer is a realistic stored answer: the official example of a
// created session (2026-04-17), in compact JSON as the app answers, 4.4 KB.
func specAnswer(tb testing.TB) []byte {
	tb.Helper()
	raw, err := spec.Files.ReadFile("2026-04-17/examples.agentic_checkout.json")
	if err != nil {
		tb.Fatal(err)
	}
	var examples map[string]json.RawMessage
	if err := json.Unmarshal(raw, &examples); err != nil {
		tb.Fatal(err)
	}
	var b bytes.Buffer
	if err := json.Compact(&b, examples["create_checkout_session_response"]); err != nil || b.Len() < 4000 {
		tb.Fatalf("the example answer: %d bytes, %v", b.Len(), err)
	}
	return b.Bytes()
}

// deflated is b as a raw DEFLATE stream.
func deflated(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	if _, err := w.Write(b); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func TestPackAnswer(t *testing.T) {
	t.Parallel()
	answer := specAnswer(t)
	big := bytes.Repeat([]byte(`{"k":"v"},`), maxAnswerBytes/10+1) // past maxAnswerBytes
	for _, tc := range []struct {
		name       string
		body       []byte
		wantFormat byte
	}{
		{"answer", answer, answerDeflate},
		{"tiny", []byte(`{}`), answerRaw}, // deflate would grow it
		{"binary", []byte{0, 1, 0xff}, answerRaw},
		{"starts with a format byte", append([]byte{answerDeflate}, answer...), answerDeflate},
		{"at the limit", big[:maxAnswerBytes], answerDeflate},
		{"past the limit", big, answerRaw},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			plain, err := packAnswer(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if plain[0] != tc.wantFormat {
				t.Errorf("format %d, want %d", plain[0], tc.wantFormat)
			}
			got, err := unpackAnswer(plain)
			if err != nil || !bytes.Equal(got, tc.body) {
				t.Fatalf("unpackAnswer(packAnswer(%.20q)) = %.20q, %v", tc.body, got, err)
			}
		})
	}
	if plain, _ := packAnswer(answer); len(plain)*2 > len(answer) {
		t.Errorf("the example answer packs to %d bytes of %d: want under half", len(plain), len(answer))
	}
}

// TestUnpackAnswerRefuses: what a sealed answer must not be. Such a value
// only reaches unpackAnswer sealed with the keyring, but a bug or a stolen
// key must not make a read allocate without bound or panic.
func TestUnpackAnswerRefuses(t *testing.T) {
	t.Parallel()
	bomb := deflated(t, make([]byte, maxAnswerBytes+1)) // about 1 KB
	z := deflated(t, specAnswer(t))
	for _, tc := range []struct {
		name  string
		plain []byte
	}{
		{"empty", nil},
		{"unknown format", append([]byte{7}, z...)},
		{"inflates past the limit", append([]byte{answerDeflate}, bomb...)},
		{"not deflate", append([]byte{answerDeflate}, 0xff, 0xff, 0xff, 0xff)},
		{"truncated", append([]byte{answerDeflate}, z[:len(z)/2]...)},
		{"no stream", []byte{answerDeflate}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := unpackAnswer(tc.plain)
			if !errors.Is(err, errAnswerFormat) || got != nil {
				t.Fatalf("unpackAnswer = %d bytes, %v; want errAnswerFormat", len(got), err)
			}
		})
	}
}

// Whatever a sealed answer's plaintext is, unpackAnswer returns an answer
// of at most maxAnswerBytes or an error, and never panics; and every body
// comes back from packAnswer as it was.
func FuzzUnpackAnswer(f *testing.F) {
	answer := specAnswer(f)
	p, _ := packAnswer(answer)
	f.Add(p)
	f.Add(append([]byte{answerDeflate}, deflated(f, make([]byte, maxAnswerBytes+1))...))
	f.Add([]byte{answerRaw, '{', '}'})
	f.Add([]byte{answerDeflate, 0xff})
	f.Add(answer)
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := unpackAnswer(b)
		if err == nil && len(got) > maxAnswerBytes && b[0] != answerRaw {
			t.Fatalf("inflated to %d bytes, past %d", len(got), maxAnswerBytes)
		}
		plain, err := packAnswer(b)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := unpackAnswer(plain); err != nil || !bytes.Equal(back, b) {
			t.Fatalf("round trip of %q: %q, %v", b, back, err)
		}
	})
}

// BenchmarkAnswerCompression: the candidates for compressing a stored
// answer, on the example answer (4.4 KB): time per answer and size
// (B/answer, the compressed bytes).
func BenchmarkAnswerCompression(b *testing.B) {
	answer := specAnswer(b)
	flateAt := func(level int) func() []byte {
		w, _ := flate.NewWriter(nil, level)
		return func() []byte {
			var buf bytes.Buffer
			w.Reset(&buf)
			_, _ = w.Write(answer)
			_ = w.Close()
			return buf.Bytes()
		}
	}
	zstdAt := func(level zstd.EncoderLevel) func() []byte {
		e, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithEncoderConcurrency(1), zstd.WithEncoderCRC(false))
		return func() []byte { return e.EncodeAll(answer, nil) }
	}
	for _, c := range []struct {
		name string
		run  func() []byte
	}{
		{"flate-1", flateAt(1)},
		{"flate-5", flateAt(5)},
		{"flate-9", flateAt(9)},
		{"zstd-fastest", zstdAt(zstd.SpeedFastest)},
		{"zstd-default", zstdAt(zstd.SpeedDefault)},
		{"packAnswer", func() []byte {
			p, _ := packAnswer(answer)
			return p
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(answer)))
			n := 0
			for b.Loop() {
				n = len(c.run())
			}
			b.ReportMetric(float64(n), "B/answer")
		})
	}
}

// SpecAnswer is specAnswer, for the tests of package store_test.
var SpecAnswer = specAnswer
