package catalog

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/app/internal/jsonescape"
)

func (d *lineDecoder) ws() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and returns the next byte (0 at the end).
func (d *lineDecoder) next() byte {
	d.ws()
	if d.i < len(d.data) {
		return d.data[d.i]
	}
	return 0
}

// object decodes {"key": value, …}, calling field for each key; field
// decodes the value and reports false to give up. A key seen twice gives
// up too (encoding/json would merge), as does more than 64 keys.
func (d *lineDecoder) object(field func(d *lineDecoder, key []byte, seen *uint64, l *bulkLine) bool, l *bulkLine) bool {
	if d.next() != '{' {
		return false
	}
	d.i++
	var seen uint64
	if d.next() == '}' {
		d.i++
		return true
	}
	for {
		if d.next() != '"' {
			return false
		}
		key, ok := d.rawKey()
		if !ok || d.next() != ':' {
			return false
		}
		d.i++
		if !field(d, key, &seen, l) {
			return false
		}
		switch d.next() {
		case ',':
			d.i++
		case '}':
			d.i++
			return true
		default:
			return false
		}
	}
}

// rawKey reads a key without escapes (keys with escapes give up). The
// field functions compare it as string(key) in a switch or comparison,
// which does not allocate.
func (d *lineDecoder) rawKey() ([]byte, bool) {
	start := d.i + 1
	for j := start; j < len(d.data); j++ {
		switch c := d.data[j]; {
		case c == '"':
			d.i = j + 1
			return d.data[start:j], true
		case c == '\\' || c < 0x20 || c >= utf8.RuneSelf:
			return nil, false
		}
	}
	return nil, false
}

// strings decodes null or an array of strings.
func (d *lineDecoder) strings(dst *[]string) bool {
	if d.null() {
		*dst = nil
		return true
	}
	if d.next() != '[' {
		return false
	}
	d.i++
	out := make([]string, 0, 4)
	if d.next() == ']' {
		d.i++
		*dst = out
		return true
	}
	for {
		var s string
		if d.next() != '"' || !d.str(&s) {
			return false
		}
		out = append(out, s)
		switch d.next() {
		case ',':
			d.i++
		case ']':
			d.i++
			*dst = out
			return true
		default:
			return false
		}
	}
}

// null consumes a null.
func (d *lineDecoder) null() bool {
	if d.next() == 'n' && d.i+4 <= len(d.data) && string(d.data[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// str decodes a string, or a null, which leaves dst as it was.
func (d *lineDecoder) str(dst *string) bool {
	if d.null() {
		return true
	}
	if d.next() != '"' {
		return false
	}
	start := d.i + 1
	for j := start; j < len(d.data); j++ {
		c := d.data[j]
		switch {
		case c == '"':
			*dst = string(d.data[start:j])
			d.i = j + 1
			return true
		case c == '\\':
			return d.escapedStr(dst, start, j)
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[j:])
			if r == utf8.RuneError && size == 1 {
				return false // encoding/json replaces invalid UTF-8
			}
			j += size - 1
		}
	}
	return false
}

// escapedStr finishes a string whose first escape is at j.
func (d *lineDecoder) escapedStr(dst *string, start, j int) bool {
	b := make([]byte, 0, len(d.data)-start)
	b = append(b, d.data[start:j]...)
	for j < len(d.data) {
		c := d.data[j]
		switch {
		case c == '"':
			*dst = string(b)
			d.i = j + 1
			return true
		case c == '\\':
			if j+1 >= len(d.data) {
				return false
			}
			j++
			switch e := d.data[j]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := jsonescape.Hex4(d.data, j+1)
				if !ok {
					return false
				}
				j += 4
				if utf16.IsSurrogate(r) {
					r2, ok := rune(0), false
					if j+6 < len(d.data) && d.data[j+1] == '\\' && d.data[j+2] == 'u' {
						r2, ok = jsonescape.Hex4(d.data, j+3)
					}
					if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
						r = dec
						j += 6
					} else {
						r = utf8.RuneError
					}
				}
				b = utf8.AppendRune(b, r)
			default:
				return false
			}
			j++
		case c < 0x20:
			return false
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(d.data[j:])
			if r == utf8.RuneError && size == 1 {
				return false
			}
			b = append(b, d.data[j:j+size]...)
			j += size
		default:
			b = append(b, c)
			j++
		}
	}
	return false
}

// strPtr decodes a string into a new pointer, or null into nil.
func (d *lineDecoder) strPtr(dst **string) bool {
	if d.null() {
		*dst = nil
		return true
	}
	if d.next() != '"' {
		return false
	}
	var s string
	if !d.str(&s) {
		return false
	}
	*dst = &s
	return true
}

// bool decodes true or false, or a null, which leaves dst as it was.
func (d *lineDecoder) bool(dst *bool) bool {
	switch d.next() {
	case 't':
		if d.i+4 <= len(d.data) && string(d.data[d.i:d.i+4]) == "true" {
			d.i += 4
			*dst = true
			return true
		}
	case 'f':
		if d.i+5 <= len(d.data) && string(d.data[d.i:d.i+5]) == "false" {
			d.i += 5
			*dst = false
			return true
		}
	case 'n':
		return d.null()
	}
	return false
}

// number returns the next JSON number literal and whether it is an
// integer (no fraction, no exponent).
func (d *lineDecoder) number() (lit []byte, integer, ok bool) {
	d.ws()
	start, j := d.i, d.i
	if j < len(d.data) && d.data[j] == '-' {
		j++
	}
	switch {
	case j < len(d.data) && d.data[j] == '0':
		j++
	case j < len(d.data) && d.data[j] >= '1' && d.data[j] <= '9':
		for j < len(d.data) && d.data[j] >= '0' && d.data[j] <= '9' {
			j++
		}
	default:
		return nil, false, false
	}
	integer = true
	if j < len(d.data) && d.data[j] == '.' {
		integer = false
		j++
		k := j
		for j < len(d.data) && d.data[j] >= '0' && d.data[j] <= '9' {
			j++
		}
		if j == k {
			return nil, false, false
		}
	}
	if j < len(d.data) && (d.data[j] == 'e' || d.data[j] == 'E') {
		integer = false
		j++
		if j < len(d.data) && (d.data[j] == '+' || d.data[j] == '-') {
			j++
		}
		k := j
		for j < len(d.data) && d.data[j] >= '0' && d.data[j] <= '9' {
			j++
		}
		if j == k {
			return nil, false, false
		}
	}
	d.i = j
	return d.data[start:j], integer, true
}

// int decodes an integer (encoding/json rejects fractions for int fields).
func (d *lineDecoder) int(dst *int64) bool {
	lit, integer, ok := d.number()
	if !ok || !integer {
		return false
	}
	n, err := strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		return false
	}
	*dst = n
	return true
}

// intInt decodes an int, or a null, which leaves dst as it was.
func (d *lineDecoder) intInt(dst *int) bool {
	if d.null() {
		return true
	}
	var n int64
	if !d.int(&n) || int64(int(n)) != n {
		return false
	}
	*dst = int(n)
	return true
}

// float decodes a number, or a null, which leaves dst as it was.
func (d *lineDecoder) float(dst *float64) bool {
	if d.null() {
		return true
	}
	lit, _, ok := d.number()
	if !ok {
		return false
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return false
	}
	*dst = f
	return true
}
