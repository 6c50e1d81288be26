package acp

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// JCS returns the canonical form of one JSON document under RFC 8785, the
// JSON Canonicalization Scheme: no white space, object members sorted by
// their names' UTF-16 code units, strings with the fewest escapes
// (\b \t \n \f \r \" \\ and \u00xx in lower-case hex for the other control
// characters; everything else as UTF-8), literals as they are.
//
// The RFC says a request Signature covers "canonical JSON" of the body
// without naming a scheme; RFC 8785 is the one the ACP RFCs mention, and
// what signers that canonicalise produce for ACP bodies (objects, strings,
// integers).
//
// Numbers: a non-integer number (a fraction or an exponent) is read as an
// IEEE 754 double and written in ECMAScript's Number.prototype.toString
// form, as RFC 8785 says (4.50 → 4.5, 2e-3 → 0.002, 1E30 → 1e+30, 1e2 →
// 100). An integer written without fraction or exponent keeps its digits
// ("-0" becomes "0"): for magnitudes up to 2^53 that is exactly the RFC's
// form, and beyond it the digits a sender wrote are the value it means (ACP
// amounts are integers in minor units), where the RFC would round them to
// the nearest double, as JavaScript does.
//
// What RFC 8785 cannot canonicalise is an error: input that is not one
// JSON document, invalid UTF-8, an escaped lone surrogate, a duplicate
// member name, a number outside the double range, or nesting deeper than
// 10,000. The work is linear in the input, plus sorting each object's
// names.
func JCS(doc []byte) ([]byte, error) {
	p := jcsParser{in: doc}
	p.space()
	v, err := p.value(0)
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i != len(p.in) {
		return nil, p.fail("data after the document")
	}
	out := make([]byte, 0, len(doc))
	return v.write(out), nil
}

// jcsMaxDepth bounds nesting, as encoding/json does.
const jcsMaxDepth = 10000

// jcsNode is one parsed value: an object (members), an array (items), a
// string (str) or another scalar already in canonical text.
type jcsNode struct {
	kind    byte // '{', '[', '"' or 0 for a number or literal
	scalar  []byte
	str     string
	members []jcsMember
	items   []jcsNode
}

type jcsMember struct {
	name string
	val  jcsNode
}

func (n *jcsNode) write(out []byte) []byte {
	switch n.kind {
	case '{':
		out = append(out, '{')
		for i := range n.members {
			if i > 0 {
				out = append(out, ',')
			}
			out = jcsString(out, n.members[i].name)
			out = append(out, ':')
			out = n.members[i].val.write(out)
		}
		return append(out, '}')
	case '[':
		out = append(out, '[')
		for i := range n.items {
			if i > 0 {
				out = append(out, ',')
			}
			out = n.items[i].write(out)
		}
		return append(out, ']')
	case '"':
		return jcsString(out, n.str)
	}
	return append(out, n.scalar...)
}

var jcsLiterals = [][]byte{[]byte("true"), []byte("false"), []byte("null")}

type jcsParser struct {
	in []byte
	i  int
}

var errJCS = errors.New("acp: not canonicalisable JSON")

func (p *jcsParser) fail(why string) error {
	return fmt.Errorf("%w: %s at byte %d", errJCS, why, p.i)
}

func (p *jcsParser) space() {
	for p.i < len(p.in) {
		switch p.in[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jcsParser) value(depth int) (jcsNode, error) {
	if depth > jcsMaxDepth {
		return jcsNode{}, p.fail("nesting too deep")
	}
	if p.i >= len(p.in) {
		return jcsNode{}, p.fail("unexpected end")
	}
	switch c := p.in[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		if err != nil {
			return jcsNode{}, err
		}
		return jcsNode{kind: '"', str: s}, nil
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	for _, lit := range jcsLiterals {
		if bytes.HasPrefix(p.in[p.i:], lit) {
			p.i += len(lit)
			return jcsNode{scalar: lit}, nil
		}
	}
	return jcsNode{}, p.fail("unexpected character")
}

func (p *jcsParser) object(depth int) (jcsNode, error) {
	p.i++ // {
	n := jcsNode{kind: '{'}
	p.space()
	if p.i < len(p.in) && p.in[p.i] == '}' {
		p.i++
		return n, nil
	}
	for {
		p.space()
		if p.i >= len(p.in) || p.in[p.i] != '"' {
			return n, p.fail("want a member name")
		}
		name, err := p.str()
		if err != nil {
			return n, err
		}
		p.space()
		if p.i >= len(p.in) || p.in[p.i] != ':' {
			return n, p.fail("want ':'")
		}
		p.i++
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return n, err
		}
		n.members = append(n.members, jcsMember{name: name, val: v})
		p.space()
		if p.i < len(p.in) && p.in[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.in) && p.in[p.i] == '}' {
			p.i++
			break
		}
		return n, p.fail("want ',' or '}'")
	}
	slices.SortFunc(n.members, func(a, b jcsMember) int { return compareUTF16(a.name, b.name) })
	for i := 1; i < len(n.members); i++ {
		if n.members[i].name == n.members[i-1].name {
			return n, p.fail("duplicate member name " + strconv.Quote(n.members[i].name))
		}
	}
	return n, nil
}

func (p *jcsParser) array(depth int) (jcsNode, error) {
	p.i++ // [
	n := jcsNode{kind: '['}
	p.space()
	if p.i < len(p.in) && p.in[p.i] == ']' {
		p.i++
		return n, nil
	}
	for {
		p.space()
		v, err := p.value(depth + 1)
		if err != nil {
			return n, err
		}
		n.items = append(n.items, v)
		p.space()
		if p.i < len(p.in) && p.in[p.i] == ',' {
			p.i++
			continue
		}
		if p.i < len(p.in) && p.in[p.i] == ']' {
			p.i++
			return n, nil
		}
		return n, p.fail("want ',' or ']'")
	}
}

// str reads a string literal and returns its value, which must be valid
// Unicode (I-JSON, RFC 7493): no invalid UTF-8, no lone surrogate.
func (p *jcsParser) str() (string, error) {
	p.i++ // "
	// Most strings have no escape: one copy of their bytes.
	if end := p.plainEnd(); end >= 0 {
		seg := p.in[p.i:end]
		if !utf8.Valid(seg) {
			return "", p.fail("invalid UTF-8")
		}
		p.i = end + 1
		return string(seg), nil
	}
	var b strings.Builder
	for {
		if p.i >= len(p.in) {
			return "", p.fail("unterminated string")
		}
		c := p.in[p.i]
		switch {
		case c == '"':
			p.i++
			return b.String(), nil
		case c < 0x20:
			return "", p.fail("control character in a string")
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return "", err
			}
			b.WriteRune(r)
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			p.i++
		default:
			r, size := utf8.DecodeRune(p.in[p.i:])
			if r == utf8.RuneError && size <= 1 {
				return "", p.fail("invalid UTF-8")
			}
			b.Write(p.in[p.i : p.i+size])
			p.i += size
		}
	}
}

// plainEnd returns the index of the quote closing the string at p.i when
// no escape or control character comes before it, else -1.
func (p *jcsParser) plainEnd() int {
	for j := p.i; j < len(p.in); j++ {
		switch c := p.in[j]; {
		case c == '"':
			return j
		case c == '\\' || c < 0x20:
			return -1
		}
	}
	return -1
}

// escape reads one escape sequence (a surrogate pair as one) at p.i.
func (p *jcsParser) escape() (rune, error) {
	if p.i+1 >= len(p.in) {
		return 0, p.fail("unterminated escape")
	}
	c := p.in[p.i+1]
	p.i += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, ok := p.hex4()
		if !ok {
			return 0, p.fail("bad \\u escape")
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		if r < 0xDC00 && p.i+1 < len(p.in) && p.in[p.i] == '\\' && p.in[p.i+1] == 'u' {
			p.i += 2
			if lo, ok := p.hex4(); ok {
				if d := utf16.DecodeRune(r, lo); d != utf8.RuneError {
					return d, nil
				}
			}
		}
		return 0, p.fail("lone surrogate")
	}
	return 0, p.fail("bad escape")
}

func (p *jcsParser) hex4() (rune, bool) {
	if p.i+4 > len(p.in) {
		return 0, false
	}
	n, err := strconv.ParseUint(string(p.in[p.i:p.i+4]), 16, 16)
	if err != nil {
		return 0, false
	}
	p.i += 4
	return rune(n), true
}

// number reads a number literal (JSON's grammar) and returns its canonical
// text: see JCS.
func (p *jcsParser) number() (jcsNode, error) {
	start := p.i
	if p.in[p.i] == '-' {
		p.i++
	}
	switch {
	case p.i < len(p.in) && p.in[p.i] == '0':
		p.i++
	case p.i < len(p.in) && p.in[p.i] >= '1' && p.in[p.i] <= '9':
		p.digits()
	default:
		return jcsNode{}, p.fail("bad number")
	}
	integer := true
	if p.i < len(p.in) && p.in[p.i] == '.' {
		integer = false
		p.i++
		if p.digits() == 0 {
			return jcsNode{}, p.fail("bad number")
		}
	}
	if p.i < len(p.in) && (p.in[p.i] == 'e' || p.in[p.i] == 'E') {
		integer = false
		p.i++
		if p.i < len(p.in) && (p.in[p.i] == '+' || p.in[p.i] == '-') {
			p.i++
		}
		if p.digits() == 0 {
			return jcsNode{}, p.fail("bad number")
		}
	}
	lit := p.in[start:p.i]
	if integer && len(lit) <= 15 { // exact as a double: ES6 writes the same digits
		if string(lit) == "-0" {
			lit = lit[1:]
		}
		return jcsNode{scalar: lit}, nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil || math.IsInf(f, 0) {
		return jcsNode{}, p.fail("number out of range")
	}
	if integer {
		return jcsNode{scalar: lit}, nil // its digits, see JCS
	}
	return jcsNode{scalar: appendES6Number(nil, f)}, nil
}

func (p *jcsParser) digits() int {
	n := 0
	for p.i < len(p.in) && p.in[p.i] >= '0' && p.in[p.i] <= '9' {
		p.i++
		n++
	}
	return n
}

// appendES6Number writes a finite double as ECMAScript's
// Number.prototype.toString does (ECMA-262 Number::toString): the shortest
// digits that read back to f, in plain notation for exponents from -7 to
// 20, else as d.ddde±n.
func appendES6Number(out []byte, f float64) []byte {
	if f == 0 {
		return append(out, '0') // -0 too
	}
	if f < 0 {
		out = append(out, '-')
		f = -f
	}
	// "d.ddde±xx": the shortest round-tripping digits and the exponent.
	e := strconv.FormatFloat(f, 'e', -1, 64)
	mant, exp, _ := strings.Cut(e, "e")
	digits := strings.Replace(mant, ".", "", 1)
	x, _ := strconv.Atoi(exp)
	k, n := len(digits), x+1 // f = 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		out = append(out, digits...)
		for range n - k {
			out = append(out, '0')
		}
	case 0 < n && n <= 21:
		out = append(out, digits[:n]...)
		out = append(out, '.')
		out = append(out, digits[n:]...)
	case -6 < n && n <= 0:
		out = append(out, "0."...)
		for range -n {
			out = append(out, '0')
		}
		out = append(out, digits...)
	default:
		out = append(out, digits[0])
		if k > 1 {
			out = append(out, '.')
			out = append(out, digits[1:]...)
		}
		out = append(out, 'e')
		if n-1 >= 0 {
			out = append(out, '+')
		}
		out = strconv.AppendInt(out, int64(n-1), 10)
	}
	return out
}

// jcsString writes s as RFC 8785 says (ECMAScript's JSON.stringify): the
// two-character escapes where JSON has them, \u00xx (lower-case hex) for
// the other control characters, every other character as itself.
func jcsString(out []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			out = append(out, '\\', c)
		case '\b':
			out = append(out, '\\', 'b')
		case '\f':
			out = append(out, '\\', 'f')
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		default:
			if c < 0x20 {
				out = append(out, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			} else {
				out = append(out, c)
			}
		}
	}
	return append(out, '"')
}

// compareUTF16 orders two valid UTF-8 strings by their UTF-16 code units,
// as RFC 8785 sorts member names. Code point order (which UTF-8 bytes
// give) differs from it only where a character above U+FFFF (a surrogate
// pair, D800–DBFF first) meets one in E000–FFFF.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := firstUnit(ra), firstUnit(rb)
			if ua != ub {
				return int(ua) - int(ub)
			}
			return int(ra) - int(rb) // same high surrogate: the low ones order as the code points
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

func firstUnit(r rune) rune {
	if r >= 0x10000 {
		hi, _ := utf16.EncodeRune(r)
		return hi
	}
	return r
}
