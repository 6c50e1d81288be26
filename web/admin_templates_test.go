package web

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// The admin's templates are written with Polaris web components, so they
// feel native inside Shopify admin (issue 19): no native form control but
// hidden inputs (admin.js stands native ones in only when Polaris did not
// load), a label for every field, no page heading or app nav of their own
// (s-page's heading and App Bridge's s-app-nav are the only ones), and the
// settings forms save through App Bridge's save bar, not a button.
func TestAdminTemplatesUsePolaris(t *testing.T) {
	native := regexp.MustCompile(`<(input|select|textarea|button|label)\b[^>]*>`)
	field := regexp.MustCompile(`<s-(text-field|url-field|number-field|password-field|search-field|email-field|text-area|select|checkbox|switch|choice-list)\b[^>]*>`)
	heading := regexp.MustCompile(`<h1\b|<nav\b[^>]*>`)
	saveBarForm := regexp.MustCompile(`(?s)<form [^>]*data-save-bar[^>]*>(.*?)</form>`)

	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil || len(names) < 10 {
		t.Fatalf("templates: %v %v", names, err)
	}
	saveBars := 0
	for _, name := range names {
		b, err := templateFS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		src := string(b)
		for _, m := range native.FindAllString(src, -1) {
			if !strings.Contains(m, `type="hidden"`) {
				t.Errorf("%s: a native control, not a Polaris one: %s", name, m)
			}
		}
		for _, m := range field.FindAllString(src, -1) {
			if !strings.Contains(m, ` label="`) && !strings.Contains(m, ` accessibilityLabel="`) {
				t.Errorf("%s: a field without a label: %s", name, m)
			}
			if !strings.Contains(m, ` name="`) && !strings.Contains(m, "data-select-all") {
				t.Errorf("%s: a field without a name sends nothing: %s", name, m)
			}
		}
		for _, m := range heading.FindAllString(src, -1) {
			if !strings.Contains(m, `aria-label="Pages"`) { // pagination is not app navigation
				t.Errorf("%s: a heading or nav of the page's own: %s", name, m)
			}
		}
		for _, m := range saveBarForm.FindAllStringSubmatch(src, -1) {
			saveBars++
			if strings.Contains(m[1], `type="submit"`) {
				t.Errorf("%s: a save-bar form with its own submit button: %.80s", name, m[0])
			}
		}
	}
	if saveBars < 3 { // store settings, completion method, product overrides
		t.Errorf("%d forms use the save bar, want at least 3", saveBars)
	}

	layout, _ := templateFS.ReadFile("templates/layout.html")
	if !strings.Contains(string(layout), `<s-page heading="{{.Title}}">`) || !strings.Contains(string(layout), "<s-app-nav>") {
		t.Error("the layout lost s-page's heading or s-app-nav")
	}
	js, _ := staticFS.ReadFile("static/admin.js")
	if strings.Contains(string(js), `getElementById("toast")`) || !strings.Contains(string(js), "shopify.toast.show") {
		t.Error("admin.js shows a toast of its own besides App Bridge's")
	}
}
