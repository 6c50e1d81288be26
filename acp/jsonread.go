package acp

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// reader walks a parsed body. It keeps the first failure only; after one,
// the walk goes on with zero values (never panicking) and the result is
// discarded. Keys that a closed object does not define are not failures:
// the reader collects them (ignored) and the decoder hands them back in
// the input's Ignored, for the answer to name them.
type reader struct {
	err     *Error
	ignored Ignored
}

func (r *reader) fail(code, path, format string, args ...any) {
	if r.err == nil {
		r.err = invalid(code, path, format, args...)
	}
}

func (r *reader) ok() bool { return r.err == nil }

func (r *reader) wrongType(v *jsonValue, path, want string) {
	r.fail(CodeInvalidType, path, "%s must be %s, not %s", path, want, v.kind)
}

// ignore records an unknown key of the object at path.
func (r *reader) ignore(path, key string) {
	ig := &r.ignored
	ig.Count++
	if len(ig.Paths) >= MaxIgnoredListed {
		return
	}
	if utf8.RuneCountInString(key) > maxIgnoredKey {
		// Named cut short; the param then points at its object, which
		// exists, rather than at a key that does not.
		if ig.Param == "" {
			ig.Param = path
		}
		ig.Paths = append(ig.Paths, fieldPath(path, string([]rune(key)[:maxIgnoredKey])+"…"))
		return
	}
	p := fieldPath(path, key)
	if ig.Param == "" {
		ig.Param = p
	}
	ig.Paths = append(ig.Paths, p)
}

// failed returns the reader's error, which names the ignored keys too:
// an agent that sent a field of another version (items for line_items)
// learns both at once.
func (r *reader) failed() error {
	if r.err == nil {
		return nil
	}
	if r.ignored.Count == 0 {
		return r.err
	}
	e := *r.err
	e.Message += " (" + r.ignored.list("unknown fields were also ignored: ", 5) + ")"
	return &e
}

// object is an accessor over one JSON object of the body.
type object struct {
	r    *reader
	path string
	v    *jsonValue
}

// object checks that v is an object. When closed (the schema says
// additionalProperties: false) a key that is not one of known is ignored
// and recorded (reader.ignore), never refused: see Ignored.
func (r *reader) object(v *jsonValue, path string, closed bool, known ...string) (object, bool) {
	mode := openKeys
	if closed {
		mode = ignoreUnknown
	}
	return r.objectOf(v, path, mode, known)
}

// strictObject is object for a closed object whose unknown keys are
// refused with unknown_field: the payment data of a complete, where a key
// this app does not know (an amount, a currency, an allowance, another
// credential) could mean a charge other than the one it would make, and
// the answer that would name it comes after the money moved.
func (r *reader) strictObject(v *jsonValue, path string, known ...string) (object, bool) {
	return r.objectOf(v, path, refuseUnknown, known)
}

// keyMode is what an object's keys other than the known ones get.
type keyMode int

const (
	openKeys      keyMode = iota // the schema allows any key
	ignoreUnknown                // ignored and reported
	refuseUnknown                // refused: CodeUnknownField
)

func (r *reader) objectOf(v *jsonValue, path string, mode keyMode, known []string) (object, bool) {
	if v == nil {
		return object{r: r, path: path}, false
	}
	if v.kind != kindObject {
		r.wrongType(v, path, "an object")
		return object{r: r, path: path}, false
	}
	if mode == openKeys {
		return object{r: r, path: path, v: v}, true
	}
	var unknown []string
	for _, f := range v.fields {
		if contains(known, f.key) {
			continue
		}
		if mode == ignoreUnknown {
			unknown = append(unknown, f.key)
			continue
		}
		p := fieldPath(path, f.key)
		if len(f.key) > 128 {
			p = path
		}
		r.fail(CodeUnknownField, p, "unknown field %s in %s: the payment data takes only the fields of this API version, "+
			"so that nothing the agent meant about the charge is ignored", quoteBounded(f.key, 64), path)
		break
	}
	// In key order, not the body's: the same document spelt otherwise
	// (keys reordered) is the same request, and gets the same answer.
	slices.Sort(unknown)
	for _, k := range unknown {
		r.ignore(path, k)
	}
	return object{r: r, path: path, v: v}, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// get returns the value of key (nil when absent) and its path.
func (o object) get(key string) (*jsonValue, string) {
	p := fieldPath(o.path, key)
	if o.v == nil {
		return nil, p
	}
	for _, f := range o.v.fields {
		if f.key == key {
			return f.value, p
		}
	}
	return nil, p
}

func (o object) has(key string) bool {
	v, _ := o.get(key)
	return v != nil
}

// require reports a missing required field; it returns the value if present.
func (o object) require(key string) (*jsonValue, string) {
	v, p := o.get(key)
	if v == nil && o.v != nil {
		o.r.fail(CodeMissing, p, "%s is required", p)
	}
	return v, p
}

// str reads an optional string of at most max characters.
func (o object) str(key string, max int) string {
	v, p := o.get(key)
	return o.r.stringValue(v, p, max)
}

// reqStr reads a required string of at most max characters; nonEmpty also
// refuses "".
func (o object) reqStr(key string, max int, nonEmpty bool) string {
	v, p := o.require(key)
	s := o.r.stringValue(v, p, max)
	if v != nil && nonEmpty && s == "" && v.kind == kindString {
		o.r.fail(CodeInvalid, p, "%s must not be empty", p)
	}
	return s
}

func (r *reader) stringValue(v *jsonValue, path string, max int) string {
	if v == nil {
		return ""
	}
	if v.kind != kindString {
		r.wrongType(v, path, "a string")
		return ""
	}
	if max > 0 && utf8.RuneCountInString(v.text) > max {
		r.fail(CodeInvalid, path, "%s must be at most %d characters long", path, max)
		return ""
	}
	return v.text
}

// enum reads an optional string that must be one of values.
func (o object) enum(key string, values ...string) string {
	v, p := o.get(key)
	return o.r.enumValue(v, p, values)
}

func (o object) reqEnum(key string, values ...string) string {
	v, p := o.require(key)
	return o.r.enumValue(v, p, values)
}

func (r *reader) enumValue(v *jsonValue, path string, values []string) string {
	s := r.stringValue(v, path, maxIDLen)
	if v == nil || v.kind != kindString || !r.ok() {
		return s
	}
	if !contains(values, s) {
		r.fail(CodeInvalid, path, "%s must be one of %s", path, strings.Join(values, ", "))
		return ""
	}
	return s
}

// boolean reads an optional boolean.
func (o object) boolean(key string) *bool {
	v, p := o.get(key)
	if v == nil {
		return nil
	}
	if v.kind != kindBool {
		o.r.wrongType(v, p, "a boolean")
		return nil
	}
	b := v.b
	return &b
}

// integer reads an optional whole number in [min, max].
func (o object) integer(key string, min, max int64) *int64 {
	v, p := o.get(key)
	if v == nil {
		return nil
	}
	n, ok := o.r.wholeNumber(v, p, min, max)
	if !ok {
		return nil
	}
	return &n
}

// wholeNumber accepts any JSON number with an integral value (2, 2.0, 2e0:
// JSON Schema's "integer") within [min, max].
func (r *reader) wholeNumber(v *jsonValue, path string, min, max int64) (int64, bool) {
	if v.kind != kindNumber {
		r.wrongType(v, path, "an integer")
		return 0, false
	}
	n, whole, inRange := parseWhole(v.text)
	switch {
	case !whole:
		r.fail(CodeInvalid, path, "%s must be a whole number", path)
	case !inRange || n < min || n > max:
		r.fail(CodeInvalid, path, "%s must be between %d and %d", path, min, max)
	default:
		return n, true
	}
	return 0, false
}

// parseWhole parses a JSON number literal. whole reports an integral value;
// inRange reports that it fits the int64 range exactly (|n| < 2^53 when the
// literal has a fraction or exponent).
func parseWhole(text string) (n int64, whole, inRange bool) {
	if i, err := strconv.ParseInt(text, 10, 64); err == nil {
		return i, true, true
	} else if !strings.ContainsAny(text, ".eE") {
		// An integer literal beyond int64.
		return 0, true, false
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		// Overflow: whole in JSON Schema's sense, but out of any range.
		return 0, true, false
	}
	if f != math.Trunc(f) {
		return 0, false, true
	}
	if math.Abs(f) >= 1<<53 {
		return 0, true, false
	}
	return int64(f), true, true
}

// array reads an optional array of at most max entries.
func (o object) array(key string, max int) ([]*jsonValue, string, bool) {
	v, p := o.get(key)
	if v == nil {
		return nil, p, false
	}
	items, ok := o.r.arrayValue(v, p, max)
	return items, p, ok
}

func (r *reader) arrayValue(v *jsonValue, path string, max int) ([]*jsonValue, bool) {
	if v.kind != kindArray {
		r.wrongType(v, path, "an array")
		return nil, false
	}
	if len(v.items) > max {
		r.fail(CodeInvalid, path, "%s must have at most %d entries", path, max)
		return nil, false
	}
	return v.items, true
}

// stringList reads an optional array of strings. A present array is returned
// non-nil even when empty, so that "[]" (clear) and absent (keep) differ.
func (o object) stringList(key string, maxLen, maxEach int) []string {
	items, p, ok := o.array(key, maxLen)
	if !ok {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		out = append(out, o.r.stringValue(it, indexPath(p, i), maxEach))
	}
	return out
}

// dateTime reads an optional RFC 3339 date-time.
func (o object) dateTime(key string) time.Time {
	v, p := o.get(key)
	s := o.r.stringValue(v, p, 64)
	if s == "" {
		if v != nil && v.kind == kindString {
			o.r.fail(CodeInvalid, p, "%s must be an RFC 3339 date-time", p)
		}
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		o.r.fail(CodeInvalid, p, "%s must be an RFC 3339 date-time", p)
		return time.Time{}
	}
	return t
}

// anyValue converts a free-form value (metadata) to plain Go values:
// map[string]any, []any, string, json.Number, bool, nil.
func anyValue(v *jsonValue) any {
	switch v.kind {
	case kindBool:
		return v.b
	case kindNumber:
		return json.Number(v.text)
	case kindString:
		return v.text
	case kindArray:
		out := make([]any, len(v.items))
		for i, it := range v.items {
			out[i] = anyValue(it)
		}
		return out
	case kindObject:
		out := make(map[string]any, len(v.fields))
		for _, f := range v.fields {
			out[f.key] = anyValue(f.value)
		}
		return out
	}
	return nil
}
