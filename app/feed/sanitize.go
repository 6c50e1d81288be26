package feed

import (
	"html"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits of the OpenAI feed, in characters (Unicode code points).
const (
	MaxItemID      = 100
	MaxTitle       = 150
	MaxDescription = 5000
	MaxBrand       = 70
	MaxMPN         = 70
	MaxGroupID     = 70
	MaxSellerName  = 70
	MaxColor       = 40
	MaxSize        = 20
)

// PlainText turns an HTML fragment (a Shopify descriptionHtml) into one line
// of plain text of at most max characters (max <= 0: no limit).
//
// It drops tags, comments and the content of script, style and other
// non-text elements, decodes character references (&amp;, &#8217;, &nbsp;),
// turns block boundaries (<p>, <br>, <li>, …) into spaces, collapses every
// run of Unicode white space and control characters into one space and
// trims the ends. Invalid UTF-8 and byte order marks are dropped; everything
// else, emoji sequences and right-to-left text included, is kept as is. A
// cut text ends at a word boundary when one is near, never inside a UTF-8
// sequence and never between a character and its combining marks, emoji
// modifiers or zero-width joiners.
func PlainText(s string, max int) string {
	var b cleaner
	b.buf.Grow(min(len(s), 1<<16))
	for i := 0; i < len(s); {
		k := strings.IndexByte(s[i:], '<')
		if k < 0 {
			b.text(html.UnescapeString(s[i:]))
			break
		}
		if k > 0 {
			b.text(html.UnescapeString(s[i : i+k]))
		}
		i += k
		i = b.tag(s, i)
	}
	return truncate(b.string(), max)
}

// CleanTitle tidies a title: control characters and runs of white space
// become one space, the ends are trimmed, invalid UTF-8 is dropped and the
// result is cut to at most max characters like PlainText (max <= 0: no
// limit). Markup and character references are left alone: a Shopify title
// is plain text, and "Fish & Chips <3" means just that.
func CleanTitle(s string, max int) string {
	if isClean(s) {
		return truncate(s, max)
	}
	var b cleaner
	b.buf.Grow(len(s))
	b.text(s)
	return truncate(b.string(), max)
}

// isClean reports whether cleaner.text would return s unchanged: valid
// UTF-8 without control characters or byte order marks, single spaces
// only, no white space at the ends.
func isClean(s string) bool {
	prevSpace := true // no leading space
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == ' ':
				if prevSpace {
					return false
				}
				prevSpace = true
			case c < ' ' || c == 0x7f:
				return false
			default:
				prevSpace = false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\uFEFF' || unicode.IsSpace(r) || unicode.IsControl(r) {
			return false
		}
		prevSpace = false
		i += n
	}
	return !prevSpace || s == ""
}

// cleaner accumulates collapsed text.
type cleaner struct {
	buf   strings.Builder
	space bool // a space is pending before the next visible character
}

func (b *cleaner) sep() { b.space = true }

func (b *cleaner) string() string { return b.buf.String() }

// text appends decoded text, collapsing white space and dropping what must
// not reach a feed.
func (b *cleaner) text(s string) {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c <= ' ' || c == 0x7f {
				b.space = true
				i++
				continue
			}
			// Copy a run of printable ASCII, single spaces included, at once.
			j := i + 1
			for j < len(s) {
				if d := s[j]; d > ' ' && d < 0x7f || d == ' ' && j+1 < len(s) && s[j+1] > ' ' && s[j+1] < 0x7f {
					j++
					continue
				}
				break
			}
			b.put()
			b.buf.WriteString(s[i:j])
			i = j
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1, r == '\uFEFF':
			// invalid byte, byte order mark: drop
		case unicode.IsSpace(r) || unicode.IsControl(r):
			b.space = true
		default:
			b.put()
			b.buf.WriteString(s[i : i+n])
		}
		i += n
	}
}

func (b *cleaner) put() {
	if b.space {
		if b.buf.Len() > 0 {
			b.buf.WriteByte(' ')
		}
		b.space = false
	}
}

// tag consumes the markup that starts at s[i] == '<' and returns the index
// after it.
func (b *cleaner) tag(s string, i int) int {
	rest := s[i+1:]
	switch {
	case strings.HasPrefix(rest, "!--"):
		end := strings.Index(rest[3:], "-->")
		if end < 0 {
			return len(s)
		}
		return i + 1 + 3 + end + 3
	case rest != "" && (rest[0] == '!' || rest[0] == '?'):
		end := strings.IndexByte(rest, '>')
		if end < 0 {
			return len(s)
		}
		return i + 1 + end + 1
	}
	closing := false
	j := i + 1
	if j < len(s) && s[j] == '/' {
		closing = true
		j++
	}
	if j >= len(s) || !isASCIILetter(s[j]) {
		// Not markup: a literal '<', as in "size < 5".
		b.put()
		b.buf.WriteByte('<')
		return i + 1
	}
	start := j
	for j < len(s) && (isASCIILetter(s[j]) || s[j] >= '0' && s[j] <= '9' || s[j] == '-' || s[j] == ':') {
		j++
	}
	name := s[start:j]
	// Skip the attributes up to '>'. A value that starts with a quote runs
	// to the matching quote; an unquoted one ends at white space or '>'.
	for j < len(s) && s[j] != '>' {
		if s[j] != '=' {
			j++
			continue
		}
		j++
		for j < len(s) && (s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\f') {
			j++
		}
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			end := strings.IndexByte(s[j+1:], s[j])
			if end < 0 {
				return len(s)
			}
			j += end + 2
		}
	}
	if j >= len(s) {
		return len(s) // unterminated tag: drop the rest
	}
	j++ // past '>'
	if isBlock(name) {
		b.sep()
	}
	if !closing && isRawText(name) && s[j-2] != '/' {
		// Skip the element's content up to its end tag.
		end := indexEndTag(s[j:], name)
		if end < 0 {
			return len(s)
		}
		j += end
		if gt := strings.IndexByte(s[j:], '>'); gt >= 0 {
			j += gt + 1
		} else {
			j = len(s)
		}
		b.sep()
	}
	return j
}

// indexEndTag finds "</name" (ASCII case-insensitive) in s.
func indexEndTag(s, name string) int {
	for off := 0; ; {
		k := strings.Index(s[off:], "</")
		if k < 0 {
			return -1
		}
		p := off + k + 2
		if len(s)-p >= len(name) && strings.EqualFold(s[p:p+len(name)], name) {
			if q := p + len(name); q == len(s) || !isASCIILetter(s[q]) && !(s[q] >= '0' && s[q] <= '9') {
				return off + k
			}
		}
		off = p
	}
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// isRawText lists elements whose content is not description text.
func isRawText(name string) bool {
	switch strings.ToLower(name) {
	case "script", "style", "noscript", "template", "iframe", "object", "svg", "math", "head", "title", "textarea", "select":
		return true
	}
	return false
}

// isBlock lists elements whose boundaries separate words.
func isBlock(name string) bool {
	switch strings.ToLower(name) {
	case "br", "p", "div", "li", "ul", "ol", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
		"table", "tr", "td", "th", "thead", "tbody", "tfoot", "caption", "section", "article", "header",
		"footer", "aside", "nav", "main", "blockquote", "pre", "hr", "figure", "figcaption", "address",
		"details", "summary", "img", "video", "audio", "button", "option", "label", "input", "form", "fieldset":
		return true
	}
	return false
}

// wordBoundarySlack is how far (in bytes) truncate looks back for a space.
const wordBoundarySlack = 64

// truncate cuts s to at most limit runes (limit <= 0: no limit) without
// splitting a UTF-8 sequence or a grapheme cluster made of a base and its
// extenders, preferring a cut at a nearby space.
func truncate(s string, limit int) string {
	if limit <= 0 || len(s) <= limit {
		return s
	}
	cut, n := 0, 0
	for cut < len(s) && n < limit {
		_, size := utf8.DecodeRuneInString(s[cut:])
		cut += size
		n++
	}
	if cut >= len(s) {
		return s
	}
	cut = graphemeStart(s, cut)
	if r, _ := utf8.DecodeRuneInString(s[cut:]); !unicode.IsSpace(r) {
		// Mid-word: prefer the last space shortly before.
		lo := max(0, cut-wordBoundarySlack)
		if sp := strings.LastIndexByte(s[lo:cut], ' '); sp > 0 {
			cut = lo + sp
		}
	}
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace)
}

// graphemeStart moves cut back while the rune at cut continues the cluster
// before it.
func graphemeStart(s string, cut int) int {
	for cut > 0 && cut < len(s) {
		r, _ := utf8.DecodeRuneInString(s[cut:])
		prev, psize := utf8.DecodeLastRuneInString(s[:cut])
		if !extends(prev, r) && !(isRegional(r) && isRegional(prev) && oddRegionalRun(s[:cut])) {
			break
		}
		cut -= psize
	}
	return cut
}

// extends reports whether r continues the grapheme cluster ending in prev
// (a simplification of UAX #29 that covers marks, emoji and joiners).
func extends(prev, r rune) bool {
	switch {
	case prev == '\u200D': // after a zero-width joiner
		return true
	case r == '\u200D', r == '\u20E3':
		return true
	case r >= 0xFE00 && r <= 0xFE0F, r >= 0xE0100 && r <= 0xE01EF: // variation selectors
		return true
	case r >= 0x1F3FB && r <= 0x1F3FF: // emoji skin tone modifiers
		return true
	case r >= 0xE0020 && r <= 0xE007F: // emoji tag sequences
		return true
	case r >= 0x1160 && r <= 0x11FF: // Hangul medial vowels and final consonants
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc)
}

func isRegional(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

// oddRegionalRun reports whether s ends in an odd number of regional
// indicators, so that the next one completes a flag.
func oddRegionalRun(s string) bool {
	n := 0
	for len(s) > 0 {
		r, size := utf8.DecodeLastRuneInString(s)
		if !isRegional(r) {
			break
		}
		n++
		s = s[:len(s)-size]
	}
	return n%2 == 1
}

// CurrencyExponent is the number of minor-unit digits of an ISO 4217
// currency: 0 for JPY, KRW, …; 3 for KWD, BHD, …; 4 for CLF; 2 otherwise.
// The catalog side must use the same table when it turns Shopify's decimal
// Money strings into minor units.
func CurrencyExponent(currency string) int {
	switch strings.ToUpper(currency) {
	case "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF":
		return 0
	case "BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND":
		return 3
	case "CLF", "UYW":
		return 4
	}
	return 2
}

// FormatPrice formats an amount in minor units as the OpenAI feed expects
// it: the decimal amount with the currency's number of decimals, a space
// and the upper-case ISO 4217 code: FormatPrice(1234, "usd") == "12.34 USD",
// FormatPrice(1500, "JPY") == "1500 JPY", FormatPrice(12345, "KWD") ==
// "12.345 KWD". An empty currency gives the amount alone.
func FormatPrice(minor int64, currency string) string {
	var a [48]byte
	return string(appendPrice(a[:0], minor, currency))
}

func appendPrice(dst []byte, minor int64, currency string) []byte {
	exp := CurrencyExponent(currency)
	u := uint64(minor)
	if minor < 0 {
		dst = append(dst, '-')
		u = -u
	}
	if exp == 0 {
		dst = strconv.AppendUint(dst, u, 10)
	} else {
		pow := uint64(1)
		for range exp {
			pow *= 10
		}
		dst = strconv.AppendUint(dst, u/pow, 10)
		dst = append(dst, '.')
		frac := u % pow
		for p := pow / 10; p > 0; p /= 10 {
			dst = append(dst, byte('0'+frac/p%10))
		}
	}
	if currency != "" {
		dst = append(dst, ' ')
		for i := 0; i < len(currency); i++ {
			c := currency[i]
			if c >= 'a' && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
		}
	}
	return dst
}
