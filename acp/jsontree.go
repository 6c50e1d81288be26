package acp

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"unicode/utf8"
)

// This file is the strict, bounded request reader shared by both versions.
// A body is first checked by json.Valid, then read token by token into a
// small tree (keys in document order, duplicates refused, depth bounded), and
// that tree is walked by the per-version decoders. Every failure is an *Error
// whose Param is the RFC 9535 JSONPath of the offending value.

// Limits on request bodies.
const (
	// MaxBodyBytes is the largest request body the decoders read. Callers
	// should cut the body off there too (http.MaxBytesReader).
	MaxBodyBytes = 256 << 10
	// MaxDepth is the deepest nesting of objects and arrays accepted.
	MaxDepth = 32
	// MaxLineItems is the most line items one request may carry.
	MaxLineItems = 100
	// MaxQuantity is the largest quantity of one line item.
	MaxQuantity = 9999
	// MaxListLen bounds every other list in a request.
	MaxListLen = 100
	// MaxValues bounds the JSON values (objects, arrays, strings, numbers,
	// literals) of one body. The largest request the limits above allow
	// has a few thousand; a body of 256 KB of tiny values ("[1,1,1,…]")
	// has over 100,000, and building its tree cost about 150 ms of CPU
	// before any decoder could refuse it (issue 13). Past this many the
	// parse stops with request_too_large.
	MaxValues = 10000

	maxIDLen    = 256  // ids, tokens, codes
	maxTextLen  = 1024 // names, address lines, short free text
	maxNotesLen = 5000 // order_notes (schema maxLength)
)

type jsonKind uint8

const (
	kindNull jsonKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k jsonKind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindBool:
		return "a boolean"
	case kindNumber:
		return "a number"
	case kindString:
		return "a string"
	case kindArray:
		return "an array"
	default:
		return "an object"
	}
}

// jsonValue is one node of a parsed body.
type jsonValue struct {
	kind   jsonKind
	b      bool
	text   string // string value, or the literal of a number
	items  []*jsonValue
	fields []jsonField
}

type jsonField struct {
	key   string
	value *jsonValue
}

// parseBody parses a request body that must be one JSON object.
func parseBody(body []byte) (*jsonValue, *Error) {
	if len(body) > MaxBodyBytes {
		return nil, invalid(CodeTooLarge, "", "the request body is larger than %d bytes", MaxBodyBytes)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalid(CodeInvalidJSON, "", "the request body is empty; a JSON object is required")
	}
	if !json.Valid(body) {
		return nil, invalid(CodeInvalidJSON, "", "the request body is not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	p := parser{dec: dec}
	tok, err := dec.Token()
	if err != nil {
		return nil, invalid(CodeInvalidJSON, "", "the request body is not valid JSON")
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, invalid(CodeInvalidJSON, "$", "the request body must be a JSON object")
	}
	v, e := p.value(tok, 0, "$")
	if e != nil {
		return nil, e
	}
	return v, nil
}

type parser struct {
	dec *json.Decoder
	// values counts the values read so far, against MaxValues.
	values int
}

func (p *parser) value(tok json.Token, depth int, path string) (*jsonValue, *Error) {
	if p.values++; p.values > MaxValues {
		return nil, invalid(CodeTooLarge, path, "the request body has more than %d JSON values", MaxValues)
	}
	switch t := tok.(type) {
	case nil:
		return &jsonValue{kind: kindNull}, nil
	case bool:
		return &jsonValue{kind: kindBool, b: t}, nil
	case json.Number:
		return &jsonValue{kind: kindNumber, text: string(t)}, nil
	case string:
		return &jsonValue{kind: kindString, text: t}, nil
	case json.Delim:
		if depth >= MaxDepth {
			return nil, invalid(CodeInvalidJSON, path, "the request body is nested more than %d levels deep", MaxDepth)
		}
		switch t {
		case '{':
			v := &jsonValue{kind: kindObject}
			var seen map[string]struct{}
			for {
				kt, err := p.dec.Token()
				if err != nil {
					return nil, invalid(CodeInvalidJSON, path, "the request body is not valid JSON")
				}
				if d, ok := kt.(json.Delim); ok && d == '}' {
					return v, nil
				}
				key, ok := kt.(string)
				if !ok {
					return nil, invalid(CodeInvalidJSON, path, "the request body is not valid JSON")
				}
				child := fieldPath(path, key)
				if seen == nil {
					seen = make(map[string]struct{})
				}
				if _, dup := seen[key]; dup {
					return nil, invalid(CodeDuplicateField, child, "field %s appears more than once", quoteBounded(key, 64))
				}
				seen[key] = struct{}{}
				vt, err := p.dec.Token()
				if err != nil {
					return nil, invalid(CodeInvalidJSON, child, "the request body is not valid JSON")
				}
				cv, e := p.value(vt, depth+1, child)
				if e != nil {
					return nil, e
				}
				v.fields = append(v.fields, jsonField{key: key, value: cv})
			}
		case '[':
			v := &jsonValue{kind: kindArray}
			for i := 0; ; i++ {
				et, err := p.dec.Token()
				if err != nil {
					return nil, invalid(CodeInvalidJSON, path, "the request body is not valid JSON")
				}
				if d, ok := et.(json.Delim); ok && d == ']' {
					return v, nil
				}
				cv, e := p.value(et, depth+1, indexPath(path, i))
				if e != nil {
					return nil, e
				}
				v.items = append(v.items, cv)
			}
		}
	}
	return nil, invalid(CodeInvalidJSON, path, "the request body is not valid JSON")
}

// fieldPath appends a member name to a JSONPath: dot notation for plain
// names, bracket notation (RFC 9535 §2.5.1.1) for anything else.
func fieldPath(path, key string) string {
	if isPlainName(key) {
		return path + "." + key
	}
	var b strings.Builder
	b.WriteString(path)
	b.WriteString("['")
	for _, r := range key {
		switch {
		case r == '\'':
			b.WriteString(`\'`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20:
			b.WriteString(`\u00`)
			b.WriteByte("0123456789abcdef"[r>>4])
			b.WriteByte("0123456789abcdef"[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteString("']")
	return b.String()
}

func isPlainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// quoteBounded quotes s for an error message, cut to max runes.
func quoteBounded(s string, max int) string {
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		return strconv.Quote(string(r[:max])) + "…"
	}
	return strconv.Quote(s)
}
