package idempotency

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/app/internal/jsonescape"
)

// maxCanonicalDepth bounds the nesting CanonicalJSON follows; deeper
// documents (which the ACP decoders refuse anyway) are hashed as raw bytes.
const maxCanonicalDepth = 64

// CanonicalJSONHash is the hex SHA-256 that decides whether two request
// bodies are the same request (ACP §2.2: semantic JSON equality of the
// body). A body CanonicalJSON accepts is hashed in its canonical form, so
// key order, whitespace, string escapes and the spelling of numbers do not
// matter; any other body (not JSON, duplicate keys, …) is hashed as its raw
// bytes, in a separate domain so the two kinds never collide.
func CanonicalJSONHash(body []byte) string {
	h := sha256.New()
	if canon, ok := CanonicalJSON(body); ok {
		h.Write([]byte("json\x00"))
		h.Write(canon)
	} else {
		h.Write([]byte("raw\x00"))
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// CanonicalJSON returns the canonical form of a JSON document, itself JSON,
// such that two documents have the same form exactly when they are
// semantically equal:
//   - object members are sorted by key (bytewise on UTF-8), whitespace is
//     dropped;
//   - strings are unescaped and written back with the minimal escapes
//     (quote, backslash, control characters as \u00XX), so "\u00e9" == "é"
//     and "\/" == "/";
//   - numbers compare by exact decimal value, never through float64: the
//     digits lose leading and trailing zeros and move into an exponent, so
//     1 == 1.0 == 10e-1 and 100 == 1e2 == 1E+2, -0 == 0, while
//     12345678901234567890 != 12345678901234567891;
//   - arrays keep their order, and null, false, true stay themselves (so
//     null differs from an absent member).
//
// ok is false for a body that is not exactly one valid JSON value in valid
// UTF-8, or whose objects repeat a key (which has no one meaning, and which
// the ACP decoders refuse), or that carries an unpaired UTF-16 surrogate
// escape, or that nests deeper than 64 levels.
func CanonicalJSON(body []byte) (canon []byte, ok bool) {
	if !utf8.Valid(body) || !json.Valid(body) || hasLoneSurrogate(body) {
		return nil, false
	}
	c := canonicalizer{in: body, out: make([]byte, 0, len(body))}
	c.skipSpace()
	if err := c.value(0); err != nil {
		return nil, false
	}
	return c.out, true
}

var errNotCanonical = errors.New("not canonicalizable")

// canonicalizer writes the canonical form of a document that json.Valid
// has accepted, in one pass over it. The work is linear in the size of the
// body (the idempotency hash runs on every POST before anything else looks
// at the body, so it must not be a lever for a CPU bomb): each input byte
// is read once; numbers are rewritten in linear time (canonNumber); an
// object's members are sorted, and its canonical bytes are copied once more
// for each object it is nested in, at most maxCanonicalDepth times.
// encoding/json's Decoder.Token, which this replaces, costs about a
// microsecond and an allocation per token.
type canonicalizer struct {
	in  []byte
	pos int
	out []byte
	// scratch holds an object's member values while they are reordered.
	scratch []byte
	// buf holds a string while its escapes are decoded.
	buf []byte
}

func (c *canonicalizer) skipSpace() {
	for c.pos < len(c.in) {
		switch c.in[c.pos] {
		case ' ', '\t', '\n', '\r':
			c.pos++
		default:
			return
		}
	}
}

// value writes the value starting at c.pos, then skips the white space
// after it. The input is valid JSON, so the syntax needs no checks here.
func (c *canonicalizer) value(depth int) error {
	switch b := c.in[c.pos]; b {
	case '{', '[':
		if depth >= maxCanonicalDepth {
			return errNotCanonical
		}
		var err error
		if b == '{' {
			err = c.object(depth)
		} else {
			err = c.array(depth)
		}
		if err != nil {
			return err
		}
	case '"':
		c.out = appendCanonString(c.out, c.str())
	case 't':
		c.pos += len("true")
		c.out = append(c.out, "true"...)
	case 'f':
		c.pos += len("false")
		c.out = append(c.out, "false"...)
	case 'n':
		c.pos += len("null")
		c.out = append(c.out, "null"...)
	default:
		start := c.pos
		for c.pos < len(c.in) && isNumberByte(c.in[c.pos]) {
			c.pos++
		}
		if num := c.in[start:c.pos]; isCanonInteger(num) {
			c.out = append(c.out, num...) // the common case, as it is
			break
		}
		n, err := canonNumber(string(c.in[start:c.pos]))
		if err != nil {
			return err
		}
		c.out = append(c.out, n...)
	}
	c.skipSpace()
	return nil
}

// isCanonInteger reports whether a JSON number is already in canonical
// form as a plain integer: "0", or digits without a leading or trailing
// zero (a trailing zero moves into the exponent: 10 is 1e1), maybe negative.
func isCanonInteger(num []byte) bool {
	if len(num) == 1 && num[0] == '0' {
		return true
	}
	if len(num) > 0 && num[0] == '-' {
		num = num[1:]
	}
	if len(num) == 0 || num[0] == '0' || num[len(num)-1] == '0' {
		return false
	}
	for _, b := range num {
		if b < '0' || b > '9' {
			return false
		}
	}
	return true
}

func isNumberByte(b byte) bool {
	return b >= '0' && b <= '9' || b == '-' || b == '+' || b == '.' || b == 'e' || b == 'E'
}

func (c *canonicalizer) array(depth int) error {
	c.pos++ // '['
	c.skipSpace()
	c.out = append(c.out, '[')
	for first := true; c.in[c.pos] != ']'; first = false {
		if !first {
			c.pos++ // ','
			c.skipSpace()
			c.out = append(c.out, ',')
		}
		if err := c.value(depth + 1); err != nil {
			return err
		}
	}
	c.pos++ // ']'
	c.out = append(c.out, ']')
	return nil
}

// object writes the members' values one after the other at the end of
// c.out, then rewrites that stretch as the members sorted by key.
func (c *canonicalizer) object(depth int) error {
	type member struct {
		key        string
		start, end int // of the value's canonical bytes in c.out
	}
	var members []member
	base := len(c.out)
	c.pos++ // '{'
	c.skipSpace()
	for first := true; c.in[c.pos] != '}'; first = false {
		if !first {
			c.pos++ // ','
			c.skipSpace()
		}
		key := c.str()
		c.skipSpace()
		c.pos++ // ':'
		c.skipSpace()
		start := len(c.out)
		if err := c.value(depth + 1); err != nil {
			return err
		}
		members = append(members, member{key, start, len(c.out)})
	}
	c.pos++ // '}'
	byKey := func(a, b member) int { return strings.Compare(a.key, b.key) }
	if !slices.IsSortedFunc(members, byKey) {
		slices.SortFunc(members, byKey)
	}
	for j := 1; j < len(members); j++ {
		if members[j-1].key == members[j].key {
			return errNotCanonical // a duplicate key
		}
	}
	values := append(c.scratch[:0], c.out[base:]...)
	c.out = append(c.out[:base], '{')
	for j, m := range members {
		if j > 0 {
			c.out = append(c.out, ',')
		}
		c.out = appendCanonString(c.out, m.key)
		c.out = append(c.out, ':')
		c.out = append(c.out, values[m.start-base:m.end-base]...)
	}
	c.out = append(c.out, '}')
	c.scratch = values
	return nil
}

// str reads the string starting at c.pos (its opening quote) and returns
// its value, escapes decoded as encoding/json decodes them (hasLoneSurrogate
// has ruled out the escapes it would replace with U+FFFD).
func (c *canonicalizer) str() string {
	c.pos++ // '"'
	start := c.pos
	for c.in[c.pos] != '"' && c.in[c.pos] != '\\' {
		c.pos++
	}
	if c.in[c.pos] == '"' {
		c.pos++
		return string(c.in[start : c.pos-1])
	}
	c.buf = append(c.buf[:0], c.in[start:c.pos]...)
	for {
		switch b := c.in[c.pos]; b {
		case '"':
			c.pos++
			return string(c.buf)
		case '\\':
			c.pos++
			switch e := c.in[c.pos]; e {
			case 'b':
				c.buf = append(c.buf, '\b')
			case 'f':
				c.buf = append(c.buf, '\f')
			case 'n':
				c.buf = append(c.buf, '\n')
			case 'r':
				c.buf = append(c.buf, '\r')
			case 't':
				c.buf = append(c.buf, '\t')
			case 'u':
				// json.Valid has checked the digits; a surrogate is the
				// high half of a pair, the low half follows.
				r, _ := jsonescape.Hex4(c.in, c.pos+1)
				if utf16.IsSurrogate(r) {
					lo, _ := jsonescape.Hex4(c.in, c.pos+7)
					r = utf16.DecodeRune(r, lo)
					c.pos += 6
				}
				c.buf = utf8.AppendRune(c.buf, r)
				c.pos += 4
			default: // '"', '\\', '/'
				c.buf = append(c.buf, e)
			}
			c.pos++
		default:
			c.buf = append(c.buf, b)
			c.pos++
		}
	}
}

// canonNumber writes a JSON number (already valid syntax) as its exact
// value: [-]D[eE] where D has no leading or trailing zeros and E is a
// non-zero exponent; zero (and minus zero) is "0".
//
// The work is linear in the length of s: the exponent is kept as decimal
// text, never converted to a binary big number (math/big's decimal
// conversion is quadratic, and a body of one 255 KB exponent would cost
// seconds of CPU). The shift the mantissa adds to the exponent is smaller
// than len(s), so it fits an int64, and adding it to a long exponent is
// schoolbook decimal arithmetic (canonExponent).
func canonNumber(s string) (string, error) {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	mant, expStr := s, ""
	if k := strings.IndexAny(s, "eE"); k >= 0 {
		mant, expStr = s[:k], s[k+1:]
	}
	intPart, frac, _ := strings.Cut(mant, ".")
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		return "0", nil
	}
	trimmed := strings.TrimRight(digits, "0")
	shift := int64(len(digits)-len(trimmed)) - int64(len(frac))
	exp, err := canonExponent(expStr, shift)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(trimmed) + len(exp) + 2)
	if neg {
		b.WriteByte('-')
	}
	b.WriteString(trimmed)
	if exp != "0" {
		b.WriteByte('e')
		b.WriteString(exp)
	}
	return b.String(), nil
}

// maxInt64Digits is how many decimal digits always fit an int64.
const maxInt64Digits = 18

// canonExponent returns the decimal text of expStr + shift, where expStr is
// a JSON exponent ([+-]digits, or "" for zero), without leading zeros and
// with a '-' only when negative ("0" for zero). It runs in time linear in
// len(expStr).
func canonExponent(expStr string, shift int64) (string, error) {
	neg := strings.HasPrefix(expStr, "-")
	mag := strings.TrimLeft(strings.TrimLeft(expStr, "+-"), "0")
	for j := 0; j < len(mag); j++ {
		if mag[j] < '0' || mag[j] > '9' {
			return "", errNotCanonical
		}
	}
	if len(mag) <= maxInt64Digits {
		e, _ := strconv.ParseInt("0"+mag, 10, 64) // at most 18 digits: fits
		if neg {
			e = -e
		}
		return strconv.FormatInt(e+shift, 10), nil // |shift| < 2^62: no overflow
	}
	// |expStr| >= 10^18 > |shift|: the sum keeps expStr's sign, and its
	// magnitude is |expStr| + |shift| when the signs agree, else the
	// difference (never below zero).
	d := shift
	if d < 0 {
		d = -d
	}
	var out []byte
	if (shift < 0) == neg {
		out = addDecimal(mag, uint64(d))
	} else {
		out = subDecimal(mag, uint64(d))
	}
	if neg {
		return "-" + string(out), nil
	}
	return string(out), nil
}

// addDecimal returns the decimal digits of a + d; a is digits without
// leading zeros.
func addDecimal(a string, d uint64) []byte {
	out := make([]byte, len(a)+1)
	carry := d
	for j := len(a) - 1; j >= 0; j-- {
		sum := uint64(a[j]-'0') + carry%10
		carry /= 10
		if sum >= 10 {
			sum -= 10
			carry++
		}
		out[j+1] = byte('0' + sum)
	}
	// carry < 10 here: d has fewer digits than a.
	out[0] = byte('0' + carry)
	return trimLeadingZeros(out)
}

// subDecimal returns the decimal digits of a - d, for a >= d; a is digits
// without leading zeros.
func subDecimal(a string, d uint64) []byte {
	out := make([]byte, len(a))
	borrow := d
	for j := len(a) - 1; j >= 0; j-- {
		diff := int64(a[j]-'0') - int64(borrow%10)
		borrow /= 10
		if diff < 0 {
			diff += 10
			borrow++
		}
		out[j] = byte('0' + diff)
	}
	return trimLeadingZeros(out)
}

func trimLeadingZeros(b []byte) []byte {
	for len(b) > 1 && b[0] == '0' {
		b = b[1:]
	}
	return b
}

// appendCanonString appends s quoted with the minimal escapes.
func appendCanonString(out []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	for j := 0; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"' || c == '\\':
			out = append(out, '\\', c)
		case c < 0x20:
			out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			out = append(out, c)
		}
	}
	return append(out, '"')
}

// hasLoneSurrogate reports whether a valid JSON text escapes a UTF-16
// surrogate that is not part of a pair: encoding/json turns every such
// escape into U+FFFD, which would make different strings look equal. In
// valid JSON every backslash is inside a string, so a plain scan will do.
func hasLoneSurrogate(body []byte) bool {
	escape := func(j int) (rune, bool) { // the \uXXXX at j, if any
		if j+6 > len(body) || body[j] != '\\' || body[j+1] != 'u' {
			return 0, false
		}
		n, err := strconv.ParseUint(string(body[j+2:j+6]), 16, 32)
		return rune(n), err == nil
	}
	for j := 0; j < len(body); j++ {
		if body[j] != '\\' {
			continue
		}
		r, ok := escape(j)
		if !ok {
			j++ // \" \\ \/ \b …: skip the escaped character
			continue
		}
		switch {
		case r >= 0xd800 && r < 0xdc00: // high: a low one must follow
			lo, ok := escape(j + 6)
			if !ok || lo < 0xdc00 || lo >= 0xe000 {
				return true
			}
			j += 11
		case r >= 0xdc00 && r < 0xe000:
			return true
		default:
			j += 5
		}
	}
	return false
}
