package feed_test

import (
	"html"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/app/feed"
)

// FuzzCleanTitle checks the title and description sanitizers against a
// plain reference (below) written rune by rune without the fast paths:
//
//   - CleanTitle(s, 0) equals the reference: invalid UTF-8 and byte order
//     marks dropped, every run of Unicode white space and control
//     characters one space, the ends trimmed;
//   - PlainText of text without markup equals the reference of its
//     entities decoded (html.UnescapeString);
//   - both are idempotent, and a cut result is a prefix of the uncut one
//     of at most limit runes that never ends in a space.
func FuzzCleanTitle(f *testing.F) {
	for _, s := range []string{"Fish &amp; Chips <3", " a\n\n\t b\u00a0\u2003c\r\n ", "a\x00b\x1bc\u0085d\x7f", "\ufeffa\xffb\xc3",
		"I ❤️ 👩‍👩‍👧‍👦 🇯🇵 👍🏽", "\u200Fחולצת כותנה\u200E (L)", "&#0;&#x1F;&nbsp;&amp;amp;", "a  b", "ab ", " ", ""} {
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 300
		want := referenceClean(s)
		if got := feed.CleanTitle(s, 0); got != want {
			t.Fatalf("CleanTitle(%q) = %q, the reference %q", s, got, want)
		}
		if feed.CleanTitle(want, 0) != want {
			t.Fatalf("CleanTitle is not idempotent on %q", want)
		}
		cut := feed.CleanTitle(s, limit)
		if !strings.HasPrefix(want, cut) || limit > 0 && utf8.RuneCountInString(cut) > limit || limit <= 0 && cut != want ||
			strings.HasSuffix(cut, " ") || feed.CleanTitle(cut, limit) != cut {
			t.Fatalf("CleanTitle(%q, %d) = %q (uncut %q)", s, limit, cut, want)
		}
		if !strings.Contains(s, "<") {
			text := feed.PlainText(s, 0)
			if ref := referenceClean(html.UnescapeString(s)); text != ref {
				t.Fatalf("PlainText(%q) = %q, the reference %q", s, text, ref)
			}
			if !strings.ContainsAny(text, "<&") && feed.PlainText(text, 0) != text {
				t.Fatalf("PlainText is not idempotent on %q", text)
			}
		}
	})
}

// referenceClean is the sanitizers' rule written plainly.
func referenceClean(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD"), r == '\uFEFF':
			// dropped
		case unicode.IsSpace(r) || unicode.IsControl(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.FieldsFunc(b.String(), func(r rune) bool { return r == ' ' }), " ")
}
