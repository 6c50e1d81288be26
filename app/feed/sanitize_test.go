package feed_test

import (
	"math"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/app/feed"
)

func TestPlainText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		max  int
		want string
	}{
		{"tags", "<p>Hello <b>world</b></p>", 0, "Hello world"},
		{"inline tags join", "<b>He</b>llo", 0, "Hello"},
		{"block tags separate", "<li>One</li><li>Two</li><br>Three<p>Four", 0, "One Two Three Four"},
		{"script and style content", "<p>Buy</p><script>alert('x')</script><style>p{color:red}</style>now", 0, "Buy now"},
		{"script with markup inside", `<script>var s = "</p><b>";</script>ok`, 0, "ok"},
		{"upper-case script", "<SCRIPT type=text/javascript>bad()</SCRIPT>ok", 0, "ok"},
		{"script end tag prefix", "<script>a</scriptx>b</script>c", 0, "c"},
		{"unterminated script", "ok<script>never ends", 0, "ok"},
		{"self-closing script", "a<script src=x />b", 0, "ab"},
		{"comment", "a<!-- hidden <b>x</b> -->b", 0, "ab"},
		{"unterminated comment", "a<!-- hidden", 0, "a"},
		{"doctype", "<!DOCTYPE html>text", 0, "text"},
		{"quoted >", `<a title="a>b" href='x>y'>link</a>`, 0, "link"},
		{"apostrophe in unquoted value", "<img alt=it's src=x.jpg>text", 0, "text"},
		{"other quote inside quotes", `<a title="x'y" data-x='a"b'>z</a>`, 0, "z"},
		{"unterminated quoted value", `ok<a title="never`, 0, "ok"},
		{"unterminated tag", "text <b unterminated", 0, "text"},
		{"literal <", "size < 5 and 3<4", 0, "size < 5 and 3<4"},
		{"entities", "Fish &amp; Chips &lt;3 &#8217;s&nbsp;&nbsp;x &euro;5", 0, "Fish & Chips <3 ’s x €5"},
		{"escaped markup stays text", "&lt;script&gt;alert(1)&lt;/script&gt;", 0, "<script>alert(1)</script>"},
		{"white space", " a\n\n\t b\u00a0\u2003c\r\n ", 0, "a b c"},
		{"controls", "a\x00b\x1bc\u0085d\x7f", 0, "a b c d"},
		{"invalid UTF-8 and BOM", "\ufeffa\xffb\xc3", 0, "ab"},
		{"emoji", "I ❤️ 👩‍👩‍👧‍👦 🇯🇵 👍🏽", 0, "I ❤️ 👩‍👩‍👧‍👦 🇯🇵 👍🏽"},
		{"arabic", "<p>قميص قطني أحمر</p>", 0, "قميص قطني أحمر"},
		{"hebrew with marks", "<p>\u200Fחולצת כותנה\u200E (L)</p>", 0, "\u200Fחולצת כותנה\u200E (L)"},
		{"cjk", "<p>有机棉T恤</p>", 0, "有机棉T恤"},
		{"cut at word", "hello world foo", 13, "hello world"},
		{"cut exact", "hello world", 11, "hello world"},
		{"cut multibyte", "ééééé", 3, "ééé"},
		{"cut before combining mark", "cafe\u0301s", 4, "caf"},
		{"cut keeps combining mark", "cafe\u0301s", 5, "cafe\u0301"},
		{"cut inside ZWJ sequence", "ab👩‍👩‍👧", 4, "ab"},
		{"cut after ZWJ sequence", "ab👩‍👩‍👧 c", 7, "ab👩‍👩‍👧"},
		{"cut inside flag pair", "🇯🇵🇫🇷", 3, "🇯🇵"},
		{"cut before skin tone", "ok 👍🏽", 4, "ok"},
		{"cut before variation selector", "a❤️", 2, "a"},
		{"no limit", strings.Repeat("a ", 10), 0, strings.TrimSpace(strings.Repeat("a ", 10))},
		{"empty", "", 10, ""},
		{"only markup", "<p><br/></p><script>x</script>", 10, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := feed.PlainText(tt.in, tt.max)
			if got != tt.want {
				t.Errorf("PlainText(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
			}
		})
	}
}

// TestPlainTextInvariants checks what must hold for any input: valid UTF-8,
// within the limit, no leading or trailing space, no double spaces, no tab
// or newline, and a prefix of the uncut text.
func TestPlainTextInvariants(t *testing.T) {
	t.Parallel()
	inputs := []string{
		"<p>" + strings.Repeat("ünïcödé wörds ", 500) + "</p>",
		strings.Repeat("👩‍👩‍👧‍👦", 300),
		strings.Repeat("🇯🇵", 301),
		strings.Repeat("e\u0301", 400),
		strings.Repeat("a\xff<b>c</b>&amp;\t", 300),
		strings.Repeat("قميص قطني ", 200),
		"<" + strings.Repeat("x", 1000),
		strings.Repeat("<", 1000),
		strings.Repeat("&", 1000),
	}
	for i, in := range inputs {
		full := feed.PlainText(in, 0)
		for _, limit := range []int{1, 2, 3, 7, 50, 149, 150, 151, 999, 5000} {
			got := feed.PlainText(in, limit)
			if !utf8.ValidString(got) {
				t.Fatalf("input %d limit %d: invalid UTF-8 %q", i, limit, got)
			}
			if n := utf8.RuneCountInString(got); n > limit {
				t.Errorf("input %d limit %d: %d runes", i, limit, n)
			}
			if got != strings.TrimSpace(got) || strings.Contains(got, "  ") || strings.ContainsAny(got, "\t\n\r") {
				t.Errorf("input %d limit %d: white space not collapsed: %q", i, limit, got)
			}
			if !strings.HasPrefix(full, got) {
				t.Errorf("input %d limit %d: %q is not a prefix of the full text", i, limit, got)
			}
		}
	}
}

func TestPlainTextLongDescription(t *testing.T) {
	t.Parallel()
	words := strings.Repeat("Ärmel und Kragen aus Bio-Baumwolle. ", 200) // 7200 runes
	got := feed.PlainText("<div>"+words+"</div>", feed.MaxDescription)
	n := utf8.RuneCountInString(got)
	if n > feed.MaxDescription || n < feed.MaxDescription-64 {
		t.Errorf("got %d runes, want at most %d and close to it", n, feed.MaxDescription)
	}
	if !strings.HasPrefix(words, got) || strings.HasSuffix(got, " ") {
		t.Errorf("cut badly: ...%q", got[len(got)-40:])
	}
}

func TestCleanTitle(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		max  int
		want string
	}{
		{"  Classic\tTee \n", 0, "Classic Tee"},
		{"Fish & Chips <3", 0, "Fish & Chips <3"},
		{"Tom &amp; Jerry", 0, "Tom &amp; Jerry"},
		{"a\x00b\xffc", 0, "a bc"},
		{"كوب مينا ☕", 0, "كوب مينا ☕"},
		{"Super long product name", 14, "Super long"},
		{"Überlänge", 4, "Über"},
	}
	for _, tt := range tests {
		if got := feed.CleanTitle(tt.in, tt.max); got != tt.want {
			t.Errorf("CleanTitle(%q, %d) = %q, want %q", tt.in, tt.max, got, tt.want)
		}
	}
}

func TestFormatPrice(t *testing.T) {
	t.Parallel()
	tests := []struct {
		minor    int64
		currency string
		want     string
	}{
		{1234, "USD", "12.34 USD"},
		{5, "usd", "0.05 USD"},
		{0, "EUR", "0.00 EUR"},
		{-250, "EUR", "-2.50 EUR"},
		{1500, "JPY", "1500 JPY"},
		{1500, "jpy", "1500 JPY"},
		{990000, "KRW", "990000 KRW"},
		{12345, "KWD", "12.345 KWD"},
		{1, "BHD", "0.001 BHD"},
		{123456, "CLF", "12.3456 CLF"},
		{100, "", "1.00"},
		{math.MaxInt64, "USD", "92233720368547758.07 USD"},
		{math.MinInt64, "USD", "-92233720368547758.08 USD"},
	}
	for _, tt := range tests {
		if got := feed.FormatPrice(tt.minor, tt.currency); got != tt.want {
			t.Errorf("FormatPrice(%d, %q) = %q, want %q", tt.minor, tt.currency, got, tt.want)
		}
	}
}

func TestCurrencyExponent(t *testing.T) {
	t.Parallel()
	for cur, want := range map[string]int{"USD": 2, "EUR": 2, "JPY": 0, "jpy": 0, "KRW": 0, "KWD": 3, "BHD": 3, "TND": 3, "CLF": 4, "": 2} {
		if got := feed.CurrencyExponent(cur); got != want {
			t.Errorf("CurrencyExponent(%q) = %d, want %d", cur, got, want)
		}
	}
}

// FuzzPlainText checks PlainText's invariants on arbitrary input:
// go test -fuzz FuzzPlainText ./app/feed
func FuzzPlainText(f *testing.F) {
	for _, s := range []string{"<p>a &amp; b</p>", "<script>x</script>y", "👩‍👩‍👧 🇯🇵 e\u0301", "a<!--", "<a b='c>d'>e", "\xff\xfe<"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		limit %= 200
		got := feed.PlainText(s, limit)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if limit > 0 && utf8.RuneCountInString(got) > limit {
			t.Fatalf("%d runes > %d", utf8.RuneCountInString(got), limit)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") || strings.ContainsAny(got, "\t\n\r\x00") {
			t.Fatalf("white space not collapsed: %q", got)
		}
		if full := feed.PlainText(s, 0); !strings.HasPrefix(full, got) {
			t.Fatalf("%q is not a prefix of %q", got, full)
		}
		title := feed.CleanTitle(s, limit)
		if !utf8.ValidString(title) || limit > 0 && utf8.RuneCountInString(title) > limit || strings.Contains(title, "  ") {
			t.Fatalf("CleanTitle(%q, %d) = %q", s, limit, title)
		}
	})
}

// FuzzFormatPrice checks that FormatPrice never panics and keeps the
// amount's digits.
func FuzzFormatPrice(f *testing.F) {
	f.Add(int64(1234), "USD")
	f.Add(int64(-1), "KWD")
	f.Fuzz(func(t *testing.T, minor int64, cur string) {
		got := feed.FormatPrice(minor, cur)
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, strings.SplitN(got, " ", 2)[0])
		if strings.TrimLeft(digits, "0") != strings.TrimLeft(strings.TrimPrefix(strconv.FormatInt(minor, 10), "-"), "0") {
			t.Fatalf("FormatPrice(%d, %q) = %q", minor, cur, got)
		}
	})
}
