// Package jsonescape holds what the app's hand-written JSON scanners (the
// catalog's bulk line decoder, the idempotency body canonicaliser) share
// about JSON's escapes. Standard library only.
package jsonescape

// Hex4 decodes the four hex digits of a \uXXXX escape at data[at:]; false
// when there are fewer than four or one is not a hex digit.
func Hex4(data []byte, at int) (rune, bool) {
	if at+4 > len(data) {
		return 0, false
	}
	var r rune
	for _, c := range data[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	return r, true
}
