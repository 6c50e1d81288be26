package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// The admin's <s-*> markup has only ever run against admin.js' stand-ins
// (Polaris' script is not reachable from CI), and a stand-in happily
// accepts an attribute Polaris does not have. TestAdminMarkupMatchesPolaris
// checks every s-* element of web/templates and of web/static/*.js against
// Shopify's own Custom Elements Manifest of the Polaris web components
// (@shopify/polaris-types, dist/custom-elements.json): the tag must exist,
// each attribute must be the component's, a global HTML attribute, aria-*
// or data-*, and a literal value of an attribute typed as a union of string
// literals must be one of them. scripts/check-polaris installs the pinned
// package (.ci/polaris-types) and names the file in POLARIS_MANIFEST; the
// package declares no license, so it is installed at test time and never
// copied into the repository.
func TestAdminMarkupMatchesPolaris(t *testing.T) {
	file := os.Getenv("POLARIS_MANIFEST")
	if file == "" {
		t.Skip("POLARIS_MANIFEST is not set: scripts/check-polaris installs @shopify/polaris-types and sets it")
	}
	m, err := loadPolarisManifestFile(file)
	if err != nil {
		t.Fatal(err)
	}
	// A manifest of some other shape (or an empty one) would let every
	// tag through as "unknown" only if we checked nothing: insist on the
	// components the admin is built from.
	for _, tag := range []string{"s-page", "s-section", "s-button", "s-text-field", "s-badge"} {
		if m.tags[tag] == nil {
			t.Fatalf("%s: no %s in the manifest; is it Polaris' custom-elements.json?", file, tag)
		}
	}
	els, err := adminMarkup()
	if err != nil {
		t.Fatal(err)
	}
	fromScripts := 0
	for _, el := range els {
		if strings.HasSuffix(el.file, ".js") {
			fromScripts++
		}
	}
	// Fewer would mean the parsers lost track, not that the admin shrank:
	// the templates have over a hundred s-* elements, admin.js makes its
	// s-button.
	if len(els) < 100 || fromScripts == 0 {
		t.Fatalf("found %d s-* elements in the admin's templates and scripts (%d in scripts), want at least 100 and 1", len(els), fromScripts)
	}
	t.Logf("checked %d s-* elements (%d made by scripts) against %s", len(els), fromScripts, file)
	for _, v := range m.checkAll(els) {
		t.Error(v)
	}
}

// TestPolarisMarkupChecker runs the checker against a small manifest of
// our own (testdata/polaris-manifest.json: one component, s-widget), so it
// is covered where the real manifest is not installed.
func TestPolarisMarkupChecker(t *testing.T) {
	m, err := loadPolarisManifestFile("testdata/polaris-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		markup string
		want   []string // each violation's "tag attr: problem" part, in order
	}{
		{"known attributes", `<s-widget tone="a" label="x" disabled size="3" id="w" class="c" aria-label="l" data-x="1"></s-widget>`, nil},
		{"attribute names ignore case", `<s-widget accessibilityLabel="x" TONE="b"></s-widget>`, nil},
		{"unknown tag", `<s-gadget></s-gadget>`, []string{"s-gadget: no such Polaris component"}},
		{"App Bridge's own element", `<s-app-nav><a href="/">x</a></s-app-nav>`, nil},
		{"native elements are not checked", `<div foo="bar"><input tone="z"></div>`, nil},
		{"unknown attribute", `<s-widget variant="primary"></s-widget>`, []string{`s-widget variant="primary": not an attribute of s-widget`}},
		{"editing attributes are not global here", `<s-widget inputmode="numeric"></s-widget>`, []string{`s-widget inputmode="numeric": not an attribute of s-widget`}},
		{"bad literal", `<s-widget tone="c"></s-widget>`, []string{`s-widget tone="c": not one of its values`}},
		{"a bare union attribute is the empty string", `<s-widget tone></s-widget>`, []string{`s-widget tone="": not one of its values`}},
		{"not a number", `<s-widget size="big"></s-widget>`, []string{`s-widget size="big": not a number`}},
		{"template value is opaque", `<s-widget tone="{{.Tone}}" size="{{.N}}"></s-widget>`, nil},
		{"template branches are literals", `<s-widget tone="{{if .A}}a{{else if .B}}b{{else}}c{{end}}"></s-widget>`, []string{`s-widget tone="c": not one of its values`}},
		{"template emits an attribute", `<s-widget{{if .On}} disabled{{end}}{{if .X}} bogus{{end}}></s-widget>`, []string{`s-widget bogus="": not an attribute of s-widget`}},
		{"template emits a whole attribute with a value", `<s-widget {{if .X}}tone="d"{{end}}></s-widget>`, []string{`s-widget tone="d": not one of its values`}},
		{"template writes attributes unseen", `<s-widget {{.Attrs}}></s-widget>`, []string{`s-widget {{…}}="": a template action writes attributes that cannot be checked`}},
		{"comments and declarations vanish", `{{/* <s-gadget> */}}{{$p := .}}<s-widget tone="a"></s-widget>`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			els, err := templateMarkup("t.html", []byte(tt.markup))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, v := range m.checkAll(els) {
				got = append(got, v.short())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestPolarisMarkupPositions: a violation names the line of its attribute
// in the original file, across multi-line tags and actions.
func TestPolarisMarkupPositions(t *testing.T) {
	m, err := loadPolarisManifestFile("testdata/polaris-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	src := "<p>\n{{if\n .A}}x{{end}}\n<s-widget\n  tone=\"a\"\n  bogus=\"1\"></s-widget>\n"
	els, err := templateMarkup("t.html", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	vs := m.checkAll(els)
	if len(vs) != 1 || vs[0].line != 6 || vs[0].file != "t.html" {
		t.Fatalf("violations %v, want one on t.html:6", vs)
	}
	if want := "t.html:6: <s-widget> attribute bogus=\"1\": not an attribute of s-widget (allowed: accessibilitylabel, disabled, label, size, tone; and global HTML attributes, aria-*, data-*)"; vs[0].String() != want {
		t.Errorf("got  %s\nwant %s", vs[0], want)
	}
}

// TestPolarisScriptMarkup: s-* elements made by the admin's scripts, with
// createElement and setAttribute, or written as HTML in a string.
func TestPolarisScriptMarkup(t *testing.T) {
	m, err := loadPolarisManifestFile("testdata/polaris-manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	src := `(function () {
  var b = document.createElement(polaris ? "s-widget" : "button");
  b.setAttribute("tone", "a");
  b.setAttribute("variant", "primary");
  b.setAttribute("tone", someTone);
  var d = document.createElement("div");
  d.setAttribute("variant", "x");
  var g = document.createElement('s-gadget');
  box.innerHTML = '<p><s-widget tone="z"></s-widget></p>';
  var b = document.createElement("span");
  b.setAttribute("bogus", "1");
})();
`
	els := scriptMarkup("a.js", []byte(src))
	var got []string
	for _, v := range m.checkAll(els) {
		got = append(got, fmt.Sprintf("%d %s", v.line, v.short()))
	}
	want := []string{
		`4 s-widget variant="primary": not an attribute of s-widget`,
		`8 s-gadget: no such Polaris component`,
		`9 s-widget tone="z": not one of its values`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("violations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestParseLiteralUnion(t *testing.T) {
	tests := []struct {
		text string
		want []string
		ok   bool
	}{
		{`"primary" | "secondary"`, []string{"primary", "secondary"}, true},
		{`"base"`, []string{"base"}, true},
		{`"" | "a b"`, []string{"", "a b"}, true},
		{`string`, nil, false},
		{`"a" | string`, nil, false},
		{`MaybeResponsive<"a" | "b">`, nil, false},
		{`"" | MaybeAllValuesShorthandProperty<"base">`, nil, false},
		{`string | undefined`, nil, false},
		{``, nil, false},
	}
	for _, tt := range tests {
		got, ok := parseLiteralUnion(tt.text)
		if ok != tt.ok || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("parseLiteralUnion(%q) = %q, %v; want %q, %v", tt.text, got, ok, tt.want, tt.ok)
		}
	}
}

// polarisManifest is what the check needs of a Custom Elements Manifest:
// each tag's attributes (lower-case, as HTML has them) and their types.
type polarisManifest struct {
	tags map[string]map[string]string // tag -> attribute -> type text
}

func loadPolarisManifestFile(name string) (*polarisManifest, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("polaris manifest: %w", err)
	}
	defer f.Close()
	m, err := loadPolarisManifest(f)
	if err != nil {
		return nil, fmt.Errorf("polaris manifest %s: %w", name, err)
	}
	return m, nil
}

func loadPolarisManifest(r io.Reader) (*polarisManifest, error) {
	var doc struct {
		Modules []struct {
			Declarations []struct {
				TagName    string `json:"tagName"`
				Attributes []struct {
					Name string `json:"name"`
					Type struct {
						Text string `json:"text"`
					} `json:"type"`
				} `json:"attributes"`
			} `json:"declarations"`
		} `json:"modules"`
	}
	if err := json.NewDecoder(r).Decode(&doc); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	m := &polarisManifest{tags: map[string]map[string]string{}}
	for _, mod := range doc.Modules {
		for _, d := range mod.Declarations {
			if d.TagName == "" {
				continue
			}
			attrs := m.tags[d.TagName]
			if attrs == nil {
				attrs = map[string]string{}
				m.tags[d.TagName] = attrs
			}
			// The manifest lists an attribute twice when it reflects a
			// property and a default (value, selected, checked): one
			// entry is enough.
			for _, a := range d.Attributes {
				attrs[strings.ToLower(a.Name)] = a.Type.Text
			}
		}
	}
	if len(m.tags) == 0 {
		return nil, fmt.Errorf("no custom element with a tagName")
	}
	return m, nil
}

// appBridgeTags are App Bridge's elements, not Polaris': they are not in
// Polaris' manifest, and App Bridge (not this check) defines them.
var appBridgeTags = map[string]bool{"s-app-nav": true, "s-app-window": true}

// globalAttrs are the HTML attributes every element has that mean
// something on a custom element's host (WHATWG HTML §3.2.6 and ARIA's
// role); aria-* and data-* are allowed apart. Left out on purpose: the
// editing attributes (contenteditable, inputmode, enterkeyhint,
// autocapitalize, autocorrect, spellcheck, writingsuggestions), which act
// only on an editing host, not on the input inside a Polaris field's shadow
// root (where a field supports one, e.g. s-number-field's inputmode, the
// manifest lists it); "is", which customizes built-in elements only; and
// the on* handlers, which the admin never uses (scripts add listeners).
var globalAttrs = map[string]bool{
	"accesskey": true, "autofocus": true, "class": true, "dir": true, "draggable": true,
	"hidden": true, "id": true, "inert": true, "lang": true, "nonce": true, "popover": true,
	"role": true, "slot": true, "style": true, "tabindex": true, "title": true, "translate": true,
	"itemid": true, "itemprop": true, "itemref": true, "itemscope": true, "itemtype": true,
	"part": true, "exportparts": true,
}

// markupElement is one s-* element found in a template or script.
type markupElement struct {
	file  string
	line  int
	tag   string
	attrs []markupAttr
}

type markupAttr struct {
	name string
	line int
	// literals are the values the attribute can take when the markup
	// spells them out: the value, or each branch of {{if}}…{{else}}…{{end}}.
	// opaque is true when a template action writes (part of) the value.
	literals []string
	opaque   bool
	// unseen is true when a template action writes attributes here.
	unseen bool
}

type markupViolation struct {
	file, tag, attr, value, problem string
	line                            int
	allowed                         []string
	globals                         bool // the allowed set also has the global attributes
}

func (v markupViolation) short() string {
	if v.attr == "" {
		return v.tag + ": " + v.problem
	}
	return fmt.Sprintf("%s %s=%q: %s", v.tag, v.attr, v.value, v.problem)
}

func (v markupViolation) String() string {
	s := fmt.Sprintf("%s:%d: <%s>", v.file, v.line, v.tag)
	if v.attr != "" {
		s += fmt.Sprintf(" attribute %s=%q", v.attr, v.value)
	}
	s += ": " + v.problem
	if len(v.allowed) > 0 || v.globals {
		list := v.allowed
		if len(list) > 40 {
			list = append(append([]string{}, list[:40]...), fmt.Sprintf("… %d more", len(v.allowed)-40))
		}
		s += " (allowed: " + strings.Join(list, ", ")
		if v.globals {
			s += "; and global HTML attributes, aria-*, data-*"
		}
		s += ")"
	}
	return s
}

func (m *polarisManifest) checkAll(els []markupElement) []markupViolation {
	var out []markupViolation
	for _, el := range els {
		out = append(out, m.check(el)...)
	}
	return out
}

// check returns el's violations: an unknown tag, an attribute the
// component does not have, or a literal value outside its type's literals.
func (m *polarisManifest) check(el markupElement) []markupViolation {
	if appBridgeTags[el.tag] {
		return nil
	}
	attrs, ok := m.tags[el.tag]
	if !ok {
		return []markupViolation{{file: el.file, line: el.line, tag: el.tag, problem: "no such Polaris component"}}
	}
	var out []markupViolation
	for _, a := range el.attrs {
		base := markupViolation{file: el.file, line: a.line, tag: el.tag, attr: a.name}
		if a.unseen {
			base.attr, base.problem = "{{…}}", "a template action writes attributes that cannot be checked"
			out = append(out, base)
			continue
		}
		typ, own := attrs[a.name]
		if !own {
			if globalAttrs[a.name] || strings.HasPrefix(a.name, "aria-") || strings.HasPrefix(a.name, "data-") {
				continue
			}
			base.value = strings.Join(a.literals, "|")
			base.problem = "not an attribute of " + el.tag
			base.allowed, base.globals = sortedKeys(attrs), true
			out = append(out, base)
			continue
		}
		if a.opaque {
			continue
		}
		for _, v := range a.literals {
			if p := badValue(typ, v); p != "" {
				bad := base
				bad.value, bad.problem = v, p
				if lits, ok := parseLiteralUnion(typ); ok {
					bad.allowed = lits
				}
				out = append(out, bad)
			}
		}
	}
	return out
}

// badValue says what is wrong with the literal v for an attribute of type
// typ, or "". Only what the type pins down is checked: a union of string
// literals, and numbers; "string", "any" (label, details, error take text)
// and the layout types (MaybeResponsive<…>) take anything.
func badValue(typ, v string) string {
	if lits, ok := parseLiteralUnion(typ); ok {
		for _, l := range lits {
			if v == l {
				return ""
			}
		}
		return "not one of its values"
	}
	if typ == "number" {
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return "not a number"
		}
	}
	return "" // boolean: presence is the value
}

// parseLiteralUnion reads a TypeScript type like `"primary" | "secondary"`;
// ok is false unless every member is a string literal.
func parseLiteralUnion(text string) (lits []string, ok bool) {
	rest := strings.TrimSpace(text)
	for {
		if !strings.HasPrefix(rest, `"`) {
			return nil, false
		}
		end := strings.Index(rest[1:], `"`)
		if end < 0 {
			return nil, false
		}
		lits = append(lits, rest[1:1+end])
		rest = strings.TrimSpace(rest[2+end:])
		if rest == "" {
			return lits, true
		}
		if !strings.HasPrefix(rest, "|") {
			return nil, false
		}
		rest = strings.TrimSpace(rest[1:])
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// adminMarkup is every s-* element of the embedded templates and scripts.
func adminMarkup() ([]markupElement, error) {
	var out []markupElement
	for _, src := range []struct {
		fsys  fs.FS
		glob  string
		parse func(string, []byte) ([]markupElement, error)
	}{
		{templateFS, "templates/*.html", templateMarkup},
		{staticFS, "static/*.js", func(n string, b []byte) ([]markupElement, error) { return scriptMarkup(n, b), nil }},
	} {
		names, err := fs.Glob(src.fsys, src.glob)
		if err != nil || len(names) == 0 {
			return nil, fmt.Errorf("%s: %v (%d files)", src.glob, err, len(names))
		}
		for _, name := range names {
			b, err := fs.ReadFile(src.fsys, name)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", name, err)
			}
			els, err := src.parse(path.Join("web", name), b)
			if err != nil {
				return nil, err
			}
			out = append(out, els...)
		}
	}
	return out, nil
}

// Template actions become private-use characters the HTML tokenizer keeps
// as they are: actionCtl for an action that writes nothing (if, else, end,
// range, with, comments, declarations; padded with spaces so that
// `{{if .X}} checked{{end}}` and `{{if .X}}value="1"{{end}}` read as the
// attributes they emit), actionOut for one that writes a value.
const (
	actionCtl = '\uE000'
	actionOut = '\uE001'
)

var (
	ctlKeyword = regexp.MustCompile(`^(if|else|end|range|with|define|template|block|break|continue)\b`)
	declAction = regexp.MustCompile(`^\$\w*\s*:?=`)
)

// blankActions replaces each {{…}} of a template with its marker, keeping
// the newlines it spanned so that lines stay those of the file.
func blankActions(src []byte) ([]byte, error) {
	var out bytes.Buffer
	for i := 0; i < len(src); {
		j := bytes.Index(src[i:], []byte("{{"))
		if j < 0 {
			out.Write(src[i:])
			break
		}
		out.Write(src[i : i+j])
		start := i + j
		end, err := actionEnd(src, start+2)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", 1+bytes.Count(src[:start], []byte("\n")), err)
		}
		body := string(src[start+2 : end-2])
		inner := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(body, "-"), "-"))
		if strings.HasPrefix(inner, "/*") || ctlKeyword.MatchString(inner) || declAction.MatchString(inner) {
			out.WriteString(" " + string(actionCtl) + " ")
		} else {
			out.WriteRune(actionOut)
		}
		out.WriteString(strings.Repeat("\n", strings.Count(body, "\n")))
		i = end
	}
	return out.Bytes(), nil
}

// actionEnd returns the offset just past the "}}" closing the action whose
// body starts at i, skipping strings, raw strings, runes and comments.
func actionEnd(src []byte, i int) (int, error) {
	for i < len(src) {
		switch c := src[i]; {
		case c == '}' && i+1 < len(src) && src[i+1] == '}':
			return i + 2, nil
		case c == '"' || c == '\'':
			for i++; i < len(src) && src[i] != c; i++ {
				if src[i] == '\\' {
					i++
				}
			}
		case c == '`':
			k := bytes.IndexByte(src[i+1:], '`')
			if k < 0 {
				return 0, fmt.Errorf("unterminated raw string in an action")
			}
			i += 1 + k
		case c == '/' && i+1 < len(src) && src[i+1] == '*':
			k := bytes.Index(src[i+2:], []byte("*/"))
			if k < 0 {
				return 0, fmt.Errorf("unterminated comment")
			}
			i += 2 + k + 1
		}
		i++
	}
	return 0, fmt.Errorf("unterminated action")
}

// templateMarkup finds the s-* elements of a template.
func templateMarkup(file string, src []byte) ([]markupElement, error) {
	blank, err := blankActions(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return htmlMarkup(file, 1, blank), nil
}

// htmlMarkup finds the s-* elements of HTML whose first line is line.
func htmlMarkup(file string, line int, src []byte) []markupElement {
	var out []markupElement
	z := html.NewTokenizer(bytes.NewReader(src))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return out
		}
		// Raw must be read before TagName, which lower-cases the buffer
		// in place; the raw tokens follow each other, so they count lines.
		raw := string(z.Raw())
		tagLine := line
		line += strings.Count(raw, "\n")
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		name, more := z.TagName()
		if !bytes.HasPrefix(name, []byte("s-")) {
			continue
		}
		el := markupElement{file: file, line: tagLine, tag: string(name)}
		lowRaw, from := strings.ToLower(raw), len(name)+1
		for more {
			var k, v []byte
			k, v, more = z.TagAttr()
			key, val := string(k), string(v)
			at := strings.Index(lowRaw[from:], key)
			attrLine := tagLine
			if at >= 0 {
				attrLine += strings.Count(lowRaw[:from+at], "\n")
				from += at + len(key)
			}
			if a, ok := readAttr(key, val, attrLine); ok {
				el.attrs = append(el.attrs, a)
			}
		}
		out = append(out, el)
	}
}

// readAttr turns a tokenized attribute back into what the template says;
// ok is false for the space an action that writes nothing left behind.
func readAttr(key, val string, line int) (markupAttr, bool) {
	if strings.ContainsRune(key, actionOut) {
		return markupAttr{line: line, unseen: true}, true
	}
	key = strings.TrimSpace(strings.ReplaceAll(key, string(actionCtl), ""))
	if key == "" {
		return markupAttr{}, false
	}
	a := markupAttr{name: key, line: line}
	switch {
	case strings.ContainsRune(val, actionOut):
		a.opaque = true
	case strings.ContainsRune(val, actionCtl):
		for _, part := range strings.Split(val, string(actionCtl)) {
			if part = strings.TrimSpace(part); part != "" {
				a.literals = append(a.literals, part)
			}
		}
	default:
		a.literals = []string{val}
	}
	return a, true
}

var (
	jsCreate  = regexp.MustCompile(`(?:(?:var|let|const)\s+(\w+)\s*=\s*)?document\.createElement\(([^)]*)\)`)
	jsString  = regexp.MustCompile(`"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|` + "`(?:[^`\\\\]|\\\\.)*`")
	jsSetAttr = regexp.MustCompile(`\b(\w+)\.setAttribute\(\s*("[^"]*"|'[^']*')\s*,\s*([^;]*?)\)\s*;`)
)

// scriptMarkup finds the s-* elements a script makes: each
// document.createElement of an "s-…" string with the attributes its
// variable is given by setAttribute (until the variable is declared again),
// and each s-* element written as HTML in a string (innerHTML).
func scriptMarkup(file string, src []byte) []markupElement {
	text := string(src)
	lineAt := func(off int) int { return 1 + strings.Count(text[:off], "\n") }
	var out []markupElement
	for _, m := range jsCreate.FindAllStringSubmatchIndex(text, -1) {
		variable := ""
		if m[2] >= 0 {
			variable = text[m[2]:m[3]]
		}
		for _, lit := range jsString.FindAllString(text[m[4]:m[5]], -1) {
			tag := strings.ToLower(lit[1 : len(lit)-1])
			if !strings.HasPrefix(tag, "s-") {
				continue
			}
			el := markupElement{file: file, line: lineAt(m[0]), tag: tag}
			if variable != "" {
				el.attrs = scriptAttrs(text, m[1], variable, lineAt)
			}
			out = append(out, el)
		}
	}
	for _, m := range jsString.FindAllStringIndex(text, -1) {
		lit := text[m[0]+1 : m[1]-1]
		if strings.Contains(strings.ToLower(lit), "<s-") {
			out = append(out, htmlMarkup(file, lineAt(m[0]), []byte(lit))...)
		}
	}
	return out
}

// scriptAttrs reads variable.setAttribute(name, value) calls from offset
// from on, up to the variable's next declaration.
func scriptAttrs(text string, from int, variable string, lineAt func(int) int) []markupAttr {
	scope := text[from:]
	if redecl := regexp.MustCompile(`\b(?:var|let|const)\s+` + regexp.QuoteMeta(variable) + `\b`).FindStringIndex(scope); redecl != nil {
		scope = scope[:redecl[0]]
	}
	var attrs []markupAttr
	for _, c := range jsSetAttr.FindAllStringSubmatchIndex(scope, -1) {
		if scope[c[2]:c[3]] != variable {
			continue
		}
		a := markupAttr{name: strings.ToLower(scope[c[4]+1 : c[5]-1]), line: lineAt(from + c[0])}
		if v := strings.TrimSpace(scope[c[6]:c[7]]); jsString.FindString(v) == v && v != "" && v[0] != '`' {
			a.literals = []string{v[1 : len(v)-1]}
		} else {
			a.opaque = true
		}
		attrs = append(attrs, a)
	}
	return attrs
}
