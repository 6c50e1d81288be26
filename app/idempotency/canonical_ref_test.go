package idempotency

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/big"
	"sort"
	"strings"
	"unicode/utf8"
)

// The former canonicalisation of idempotency bodies, through encoding/json's
// Decoder.Token and math/big, kept as the reference the one-pass linear
// canonicalizer must agree with byte for byte (records stored before the
// change must still match their retries). Exported to the app_test tests.
var (
	RefCanonicalJSON = refCanonicalJSON
	RefCanonNumber   = refCanonNumber
)

func refCanonicalJSON(body []byte) ([]byte, bool) {
	if !utf8.Valid(body) || !json.Valid(body) || hasLoneSurrogate(body) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var out bytes.Buffer
	if err := refValue(dec, &out, 0); err != nil {
		return nil, false
	}
	return out.Bytes(), true
}

var errRef = errors.New("not canonicalizable")

func refValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		if v {
			out.WriteString("true")
		} else {
			out.WriteString("false")
		}
	case json.Number:
		out.WriteString(refCanonNumber(string(v)))
	case string:
		out.Write(appendCanonString(nil, v))
	case json.Delim:
		if depth >= maxCanonicalDepth {
			return errRef
		}
		switch v {
		case '[':
			out.WriteByte('[')
			for first := true; dec.More(); first = false {
				if !first {
					out.WriteByte(',')
				}
				if err := refValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			out.WriteByte(']')
		case '{':
			if err := refObject(dec, out, depth); err != nil {
				return err
			}
		default:
			return errRef
		}
		if _, err := dec.Token(); err != nil { // the closing delimiter
			return err
		}
	default:
		return errRef
	}
	return nil
}

func refObject(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	type member struct {
		key   string
		value []byte
	}
	var members []member
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, ok := tok.(string)
		if !ok {
			return errRef
		}
		var v bytes.Buffer
		if err := refValue(dec, &v, depth+1); err != nil {
			return err
		}
		members = append(members, member{key, v.Bytes()})
	}
	sort.Slice(members, func(a, b int) bool { return members[a].key < members[b].key })
	out.WriteByte('{')
	for j, m := range members {
		if j > 0 {
			if members[j-1].key == m.key {
				return errRef // a duplicate key
			}
			out.WriteByte(',')
		}
		out.Write(appendCanonString(nil, m.key))
		out.WriteByte(':')
		out.Write(m.value)
	}
	out.WriteByte('}')
	return nil
}

// refCanonNumber canonicalises a valid JSON number through math/big.
func refCanonNumber(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr := s, ""
	if k := strings.IndexAny(s, "eE"); k >= 0 {
		mant, expStr = s[:k], s[k+1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return "0"
	}
	exp := new(big.Int)
	if expStr != "" {
		if _, ok := exp.SetString(expStr, 10); !ok {
			panic("invalid exponent " + expStr)
		}
	}
	exp.Sub(exp, big.NewInt(int64(len(frac))))
	trimmed := strings.TrimRight(digits, "0")
	exp.Add(exp, big.NewInt(int64(len(digits)-len(trimmed))))
	out := trimmed
	if neg {
		out = "-" + out
	}
	if exp.Sign() != 0 {
		out += "e" + exp.String()
	}
	return out
}
