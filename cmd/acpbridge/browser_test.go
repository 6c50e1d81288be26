package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"

	"github.com/acpbridge/acpbridge/app/secret"
	"github.com/acpbridge/acpbridge/internal/testkit"
	"github.com/chromedp/chromedp"
)

// The merchant admin in a real browser: headless Chromium (Debian's
// chromium package; .ci/run installs it) driven through the Chrome
// DevTools protocol against `demo`, where the dev-store emulator plays
// Shopify admin's part (App Bridge and its ID tokens). Screenshots of each
// page go to test-artifacts/browser (ACPBRIDGE_ARTIFACTS overrides).

// demoManifest is what the browser test reads of demo.json.
type demoManifest struct {
	AppURL   string `json:"app_url"`
	Shop     string `json:"shop"`
	AdminURL string `json:"admin_url"`
	Shopify  struct {
		EmulatorURL string `json:"emulator_url"`
	} `json:"shopify"`
	ACP struct {
		BaseURL string `json:"base_url"`
		APIKey  string `json:"api_key"`
	} `json:"acp"`
	Feed struct {
		URL           string `json:"url"`
		Authorization string `json:"authorization"`
	} `json:"feed"`
	path string // of demo.json
}

// chromiumPath finds the browser; in CI its absence fails the test.
func chromiumPath(t *testing.T) string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed (.ci/run installs Debian's chromium package)")
	}
	t.Skip("chromium is not installed: apt-get install chromium")
	return ""
}

// newBrowser starts headless Chromium at exe for a browser test, with a
// window of width × height, resolving no host but 127.0.0.1 (tests talk
// only to loopback); it stops when ctx ends or the test does.
func newBrowser(ctx context.Context, t *testing.T, exe string, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(width, height),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start chromium: %v", err)
	}
	return bctx
}

// browserPage is the steps of a browser test on one page (ctx, from
// newBrowser). Each step fails the test with what it was doing, the page's
// location (or what detail says) and the page's HTML saved as
// <name>-failed.html among the screenshots in shots.
type browserPage struct {
	t      *testing.T
	ctx    context.Context
	shots  string
	name   string
	detail func() string // nil: the page's location
}

func (b *browserPage) fail(what string, err error) {
	b.t.Helper()
	html, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`))
	_ = os.WriteFile(filepath.Join(b.shots, b.name+"-failed.html"), []byte(html), 0o644)
	if b.detail != nil {
		b.t.Fatalf("%s: %v (%s)", what, err, b.detail())
	}
	loc, _ := chromedp.Run(b.ctx, chromedp.Location())
	b.t.Fatalf("%s: %v (at %s)", what, err, loc)
}

// do runs actions, within 45 s.
func (b *browserPage) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Do(tctx, actions...); err != nil {
		b.fail(what, err)
	}
}

// text is the text of the element sel names, once there (within 20 s).
func (b *browserPage) text(sel string) string {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fail("text of "+sel, err)
	}
	return s
}

// shot saves the whole page as <name>.png among the screenshots.
func (b *browserPage) shot(name string) {
	b.t.Helper()
	buf, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100)) // 100: PNG
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), buf, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// waitFor evaluates expr until it is true (within 45 s), across page
// loads (a poll inside the page dies with the page when a save reloads it).
func (b *browserPage) waitFor(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		tctx, cancel := context.WithTimeout(b.ctx, 3*time.Second)
		v, err := chromedp.Run(tctx, chromedp.Evaluate[bool](expr))
		cancel()
		if err == nil && v {
			return
		}
		if time.Now().After(deadline) {
			b.fail(what, fmt.Errorf("%s is still not true: %v", expr, err))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// visible waits until the element sel names is visible.
func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// click clicks the element sel names.
func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

// demoTestEnv is the environment of the demos the tests start: Shopify's
// quotes may take long when the suite's packages run side by side on two
// cores (the production default, 4 s, is for one request's budget).
var demoTestEnv = map[string]string{"LOG_LEVEL": "warn", "QUOTE_TIMEOUT": "20s"}

// demoProcess is a demo the test started: its folder, what it printed,
// and how its run ended.
type demoProcess struct {
	dir     string
	out     testkit.LogBuffer
	errOut  testkit.LogBuffer
	stopped chan struct{}
	err     error // run's result, once stopped is closed
}

// wait returns run's result once the demo has stopped.
func (d *demoProcess) wait() error {
	<-d.stopped
	return d.err
}

// startDemo runs the demo in this process until ctx ends and waits for
// demo.json, which must be whole JSON (it is written atomically).
func startDemo(t testing.TB, ctx context.Context, args ...string) (demoManifest, *demoProcess) {
	t.Helper()
	d := &demoProcess{dir: filepath.Join(t.TempDir(), "demo"), stopped: make(chan struct{})}
	go func() {
		defer close(d.stopped)
		d.err = run(ctx, append([]string{"demo", "--addr", "127.0.0.1:0", "--dir", d.dir}, args...), envOf(demoTestEnv), &d.out, &d.errOut)
	}()
	t.Cleanup(func() {
		select {
		case <-d.stopped:
		case <-time.After(30 * time.Second):
			t.Error("demo did not stop")
		}
	})
	path := filepath.Join(d.dir, "demo.json")
	deadline := time.Now().Add(5 * time.Minute) // the whole suite shares two cores
	for {
		if b, err := os.ReadFile(path); err == nil {
			m := demoManifest{path: path}
			if err := json.Unmarshal(b, &m); err != nil {
				t.Fatalf("demo.json is not JSON (it must be written atomically): %v\n%s", err, b)
			}
			return m, d
		}
		select {
		case <-d.stopped:
			t.Fatalf("demo exited early: %v\n%s", d.err, d.errOut.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo.json not written\nstderr:\n%s", d.errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// artifactsDir is where screenshots go.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("ACPBRIDGE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "test-artifacts", "browser")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestAdminInBrowser walks the merchant through the admin in Chromium:
// every page loads through the bounce page with an ID token, a setting is
// changed through App Bridge's save bar (and a bad one refused beside its
// field, a change discarded), a product is excluded and leaves the
// published feed, an API key is rotated and the old one is refused, a sync
// is followed to its end, and an agent's order shows up. Every page has
// one heading and no nav of its own (App Bridge draws s-app-nav; here the
// emulator's stand-in does), a label for every control, and no Polaris
// element left unstood-in (the demo runs without Polaris' CDN); a message
// shows one toast, App Bridge's.
func TestAdminInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, _ := startDemo(t, ctx)
	shots := artifactsDir(t)

	bctx := newBrowser(ctx, t, exe, 1280, 900)
	// Confirm dialogs (revoke, rotate) are accepted.
	dialogs := chromedp.Events(bctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(bctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()

	pg := &browserPage{t: t, ctx: bctx, shots: shots, name: "admin"}
	fail, do, text, shot, waitFor := pg.fail, pg.do, pg.text, pg.shot, pg.waitFor
	eval := func(expr string) bool {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[bool](expr))
		if err != nil {
			fail(expr, err)
		}
		return v
	}
	// nav follows a link of the app's nav, which App Bridge draws from
	// s-app-nav (Shopify admin's sidebar; the emulator's bar here).
	nav := func(path string) chromedp.Action[chromedp.Void] {
		return click(`#app-bridge-nav a[href^="` + path + `"]`)
	}
	// checkPage: one heading (s-page's), no nav of the page's own, every
	// control labelled, every Polaris field and button stood in for.
	checkPage := func(name string) {
		t.Helper()
		if !eval(`(() => { const h = document.querySelectorAll('h1'); const page = document.querySelector('s-page[heading]');
  return h.length === 1 && page !== null && h[0].textContent === page.getAttribute('heading') && page.contains(h[0]); })()`) {
			t.Errorf("%s: not exactly one h1 with s-page's heading", name)
		}
		if !eval(`Array.from(document.querySelectorAll('nav')).every(n => n.id === 'app-bridge-nav' || n.getAttribute('aria-label') === 'Pages') &&
  document.querySelectorAll('#app-bridge-nav a').length === document.querySelectorAll('s-app-nav a').length && document.querySelectorAll('s-app-nav a').length > 0`) {
			t.Errorf("%s: a nav besides App Bridge's (or App Bridge's misses links)", name)
		}
		if eval(`document.querySelector('s-text-field, s-url-field, s-number-field, s-password-field, s-search-field, s-text-area, s-select, s-checkbox, s-choice-list, s-button') !== null`) {
			t.Errorf("%s: a Polaris field or button left without its native stand-in", name)
		}
		unlabeled, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](unlabeledJS))
		if err != nil || len(unlabeled) > 0 {
			t.Errorf("%s: controls without a label: %v %v", name, unlabeled, err)
		}
	}
	// oneToast: msg shows once on screen, in App Bridge's toast.
	oneToast := func(what, msg string) {
		t.Helper()
		waitFor(what+": App Bridge's toast", `(() => { const t = document.getElementById('app-bridge-toast'); return t !== null && !t.hidden && t.textContent.includes(`+strconv.Quote(msg)+`); })()`)
		if !eval(`Array.from(document.querySelectorAll('body *')).filter(e => getComputedStyle(e).position === 'fixed' && e.getClientRects().length > 0 && e.textContent.includes(` + strconv.Quote(msg) + `)).length === 1`) {
			t.Errorf("%s: %q shows in more than one toast", what, msg)
		}
	}

	// Overview: the demo shop is signed in through App Bridge's bounce.
	do("overview", chromedp.Navigate(m.AdminURL), visible(`.checklist`))
	shot("overview")
	if loc, _ := chromedp.Run(bctx, chromedp.Location()); !strings.Contains(loc, "id_token=") || !strings.Contains(loc, "/admin?") {
		t.Errorf("the overview was not reached through the bounce page: %s", loc)
	}
	if got := text(`#checklist-h + p`); !strings.Contains(got, "4 of 5 steps done") {
		t.Errorf("checklist: %q", got)
	}
	// The MCP server URL beside the ACP base URL, with its copy button.
	if want := strings.TrimRight(m.AppURL, "/") + "/mcp/" + m.Shop; text(`#mcp-url`) != want {
		t.Errorf("MCP server URL shown: %q, want %s", text(`#mcp-url`), want)
	}
	if ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](`document.querySelector('#mcp-url + button[data-copy]') !== null && document.querySelector('#mcp-url + button[data-copy]').dataset.copy === document.querySelector('#mcp-url').textContent`)); err != nil || !ok {
		t.Errorf("no copy button for the MCP server URL: %v %v", ok, err)
	}
	checkPage("overview")
	do("copy", click(`#mcp-url + button[data-copy]`))
	oneToast("copy", "Copied.")

	// A test checkout from the overview.
	do("test checkout", click(`form[data-api="/api/test-checkout"] button`), visible(`#test-checkout-result ul`))
	if got := text(`#test-checkout-result`); !strings.Contains(got, "Total:") || !strings.Contains(got, "canceled") {
		t.Errorf("test checkout result: %q", got)
	}

	// Products: exclude the first published one; it leaves the feed.
	do("products", nav("/admin/products"), visible(`tr[data-status="published"]`))
	shot("products")
	checkPage("products")
	attr, err := chromedp.Run(bctx, chromedp.AttributeValue(chromedp.CSS(`tr[data-status="published"]`), "data-product-id"))
	if err != nil {
		fail("product id", err)
	}
	productID := attr.Value
	if !feedHasGroup(t, m, productID) {
		t.Fatalf("product %s is not in the feed before it is excluded", productID)
	}
	row := `tr[data-product-id="` + productID + `"]`
	do("exclude", click(row+` input[type=checkbox]`), click(`#bulk button[data-set='{"exclude":true}']`),
		visible(row+`[data-status="excluded"]`))
	deadline := time.Now().Add(30 * time.Second)
	for feedHasGroup(t, m, productID) {
		if time.Now().After(deadline) {
			t.Fatalf("product %s is still in the feed 30 s after it was excluded", productID)
		}
		time.Sleep(500 * time.Millisecond)
	}

	// Settings save through App Bridge's contextual save bar: no save
	// button; typing shows the bar; a bad URL is refused beside its field;
	// Discard puts the page's values back; a good value is saved.
	do("settings", nav("/admin/settings"), visible(`#f-return`))
	checkPage("settings")
	if eval(`document.querySelector('#policies form button[type=submit], #payment form button[type=submit]') !== null || document.querySelector('#app-bridge-save-bar') !== null && !document.querySelector('#app-bridge-save-bar').hidden`) {
		t.Error("the settings form has a save button, or the save bar shows before any change")
	}
	eval(`(() => { document.querySelector('#f-return').value = ''; return true; })()`)
	do("type a bad URL", chromedp.SendKeys(chromedp.CSS(`#f-return`), "http://not-https.example/returns"),
		visible(`#app-bridge-save-bar`))
	shot("settings-save-bar")
	do("save the bad URL", click(`#app-bridge-save-bar-save`), visible(`#f-return[aria-invalid="true"]`))
	shot("settings-error")
	if got := text(`#f-return-err`); !strings.Contains(got, "https") {
		t.Errorf("inline error: %q", got)
	}
	if !eval(`document.activeElement === document.querySelector('#f-return') && document.querySelector('#f-return').getAttribute('aria-describedby').split(' ').includes('f-return-err')`) {
		t.Error("the refused field is not focused, or its error is not tied to it")
	}
	oneToast("refused setting", text(`#f-return-err`))
	// App Bridge hides the bar on submit; the next change shows it again.
	if !eval(`document.querySelector('#app-bridge-save-bar').hidden`) {
		t.Error("the save bar still shows after Save")
	}
	do("discard", chromedp.SendKeys(chromedp.CSS(`#f-return`), "x"), visible(`#app-bridge-save-bar`),
		click(`#app-bridge-save-bar-discard`), chromedp.WaitNotVisible(chromedp.CSS(`#app-bridge-save-bar`)))
	if !eval(`document.querySelector('#f-return').value === document.querySelector('#f-return').defaultValue && document.querySelector('#f-return-err').textContent === '' && !document.querySelector('#f-return').hasAttribute('aria-invalid')`) {
		t.Error("Discard did not put the page's value back and clear the error")
	}
	eval(`(() => { document.querySelector('#f-window').value = ''; return true; })()`)
	do("save setting", chromedp.SendKeys(chromedp.CSS(`#f-window`), "21"),
		visible(`#app-bridge-save-bar`), click(`#app-bridge-save-bar-save`))
	waitFor("saved setting shown", `location.search.includes("id_token=") && document.querySelector('#f-window') !== null && document.querySelector('#f-window').defaultValue === "21" && document.querySelector('#app-bridge-save-bar') === null`)
	// The customers' data requests load through App Bridge's fetch (none
	// yet in the demo).
	waitFor("data requests listed", `(document.querySelector('#privacy-requests') || {textContent: ""}).textContent.includes("No customer has asked")`)

	// Rotate the agent key: a new one, then revoke the old; the old is refused.
	do("new key", chromedp.SetValue(chromedp.CSS(`#key-label`), "ChatGPT (rotated)"),
		click(`form[data-api="/api/agents/keys"] button[type=submit]`), visible(`.secret-box .secret-value`))
	newKey := text(`.secret-box .secret-value`)
	shot("settings-new-key")
	if !strings.HasPrefix(newKey, "acpb_live_") {
		t.Fatalf("new key shown: %q", newKey)
	}
	if s := acpStatus(t, m, m.ACP.APIKey); s != http.StatusNotFound {
		t.Fatalf("old key before revoking: %d", s)
	}
	do("done with the key", click(`.secret-box button:last-of-type`)) // Done: reload
	waitFor("two live keys", `document.querySelectorAll('tr[data-key-id] form[data-method="DELETE"]').length === 2`)
	oldPrint := secret.Fingerprint(m.ACP.APIKey)
	if !eval(`(() => { const r = Array.from(document.querySelectorAll('tr[data-key-id]')).find(r => r.textContent.includes('` + oldPrint + `'));
  if (!r) return false; r.querySelector('form[data-method="DELETE"] button').click(); return true; })()`) {
		t.Fatalf("no row for the old key %s", oldPrint)
	}
	waitFor("one live key", `document.querySelectorAll('tr[data-key-id] form[data-method="DELETE"]').length === 1`)
	if s := acpStatus(t, m, m.ACP.APIKey); s != http.StatusUnauthorized {
		t.Errorf("old key after revoking: %d", s)
	}
	if s := acpStatus(t, m, newKey); s != http.StatusNotFound {
		t.Errorf("new key after revoking the old: %d", s)
	}

	// Feed health: sync now and follow it to the end.
	do("feed", nav("/admin/feed"), visible(`[data-sync-now]`), click(`[data-sync-now]`))
	// The script follows the sync, then reloads the page, which shows it.
	waitFor("sync ended", `document.querySelector('[data-sync-text]') !== null && /Sync (completed|failed) \(manual\)/.test(document.querySelector('[data-sync-text]').textContent)`)
	if got := text(`[data-sync-text]`); !strings.Contains(got, "Sync completed") {
		t.Errorf("sync: %q", got)
	}
	do("feed reloaded", visible(`[data-items-published]`))
	shot("feed")
	checkPage("feed")

	// Orders: one purchase by the agent, then the list, chart and timeline.
	buy(t, m, newKey)
	do("orders", nav("/admin/orders"), visible(`tr[data-session]`))
	shot("orders")
	checkPage("orders")
	if got := text(`[data-sum-orders]`); got != "1" {
		t.Errorf("orders in the chart: %q", got)
	}
	do("order", click(`tr[data-session] a`), visible(`.timeline`))
	shot("order")
	checkPage("order")
	if got := text(`.timeline`); !strings.Contains(got, "created in Shopify") {
		t.Errorf("timeline: %q", got)
	}

	// A narrow screen: nothing wider than the viewport.
	do("narrow", chromedp.EmulateViewport(390, 844), nav("/admin/products"), visible(`tr[data-product-id]`))
	shot("products-narrow")
	if eval(`document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("the products page is wider than a 390 px screen")
	}
	do("narrow product", click(`tr[data-product-id] a`), visible(`#o-title`))
	shot("product-narrow")
	checkPage("product")
	if eval(`document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("the product page is wider than a 390 px screen")
	}
	// Keyboard only: Tab reaches a field, typing shows the save bar, and
	// its Save button is reachable and works with Enter.
	do("keyboard edit", chromedp.Focus(chromedp.CSS(`#o-mpn`)), chromedp.KeyEvent("MPN-1"), visible(`#app-bridge-save-bar`))
	shot("product-save-bar-narrow")
	do("keyboard save", chromedp.Focus(chromedp.CSS(`#app-bridge-save-bar-save`)), chromedp.KeyEvent("\r"))
	waitFor("override saved", `location.search.includes("id_token=") && document.querySelector('#o-mpn') !== null && document.querySelector('#o-mpn').defaultValue === "MPN-1"`)
	do("narrow settings", nav("/admin/settings"), visible(`#f-window`))
	checkPage("settings (narrow)")
	if eval(`document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Error("the settings page is wider than a 390 px screen")
	}
	shot("settings-narrow")
	polarisPath(t, bctx, m, shots)
	if out := os.Getenv("ACPBRIDGE_README_SHOT"); out != "" {
		do("readme", chromedp.EmulateViewport(1280, 1000), nav("/admin"), visible(`.checklist`))
		buf, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			fail("readme screenshot", err)
		}
		if err := os.WriteFile(out, buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func must[T any](v T, _ error) T { return v }

// polarisStubJS defines the Polaris elements the settings page uses as
// Polaris documents them, in miniature: fields are form-associated (a named
// field is in form.elements, with value, checked or values, and reset puts
// its value back), s-button submits its form, s-page shows its heading in
// its own (shadow) tree. The CDN is out of reach in tests; the stub lets
// the test run admin.js's Polaris path: no stand-ins, values read from the
// elements, errors set as the field's error attribute.
const polarisStubJS = `(() => {
  class Field extends HTMLElement {
    static formAssociated = true;
    constructor() { super(); this._in = this.attachInternals(); this._v = null; }
    get name() { return this.getAttribute('name') || ''; }
    get form() { return this._in.form; }
    get disabled() { return this.hasAttribute('disabled'); }
    get value() { return this._v !== null ? this._v : (this.getAttribute('value') || ''); }
    set value(v) { this._v = String(v); this._in.setFormValue(this._v); }
    get checked() { return this._c !== undefined ? this._c : this.hasAttribute('checked'); }
    set checked(c) { this._c = !!c; }
    get values() { return Array.from(this.querySelectorAll('s-choice[selected]')).map(c => c.getAttribute('value')); }
    connectedCallback() { this._in.setFormValue(this.value); }
    formResetCallback() { this._v = null; this._c = undefined; this._in.setFormValue(this.value); }
  }
  for (const tag of ['s-text-field', 's-url-field', 's-number-field', 's-password-field', 's-search-field', 's-text-area', 's-select', 's-checkbox', 's-choice-list']) {
    customElements.define(tag, class extends Field {});
  }
  customElements.define('s-button', class extends HTMLElement {
    connectedCallback() {
      this.addEventListener('click', () => { if (this.getAttribute('type') === 'submit' && this.closest('form')) this.closest('form').requestSubmit(); });
    }
  });
  customElements.define('s-page', class extends HTMLElement {
    connectedCallback() { if (!this.shadowRoot) { const r = this.attachShadow({ mode: 'open' }); r.innerHTML = '<h1></h1><slot></slot>'; r.querySelector('h1').textContent = this.getAttribute('heading'); } }
  });
})();`

// polarisPath opens the settings page with Polaris (the stub above)
// defined: admin.js leaves the s-* elements in place, the page has no
// heading of its own (s-page's is Polaris'), the save bar follows the
// form-associated fields, and a refused value comes back as the field's
// error attribute; Discard resets the field and clears the error.
func polarisPath(t *testing.T, bctx context.Context, m demoManifest, shots string) {
	t.Helper()
	pctx, cancel := chromedp.NewContext(bctx)
	defer cancel()
	if err := chromedp.Do(pctx); err != nil {
		t.Fatalf("new tab: %v", err)
	}
	if _, err := chromedp.Call(pctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: polarisStubJS}); err != nil {
		t.Fatalf("Polaris stub: %v", err)
	}
	settings := strings.Replace(m.AdminURL, "/admin?", "/admin/settings?", 1)
	ev := func(expr string) bool {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			tctx, c := context.WithTimeout(pctx, 5*time.Second)
			v, err := chromedp.Run(tctx, chromedp.Evaluate[bool](expr))
			c()
			if err == nil && v {
				return true
			}
			if time.Now().After(deadline) {
				return false
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	tctx, c := context.WithTimeout(pctx, 45*time.Second)
	defer c()
	if err := chromedp.Do(tctx, chromedp.Navigate(settings), chromedp.WaitReady(chromedp.CSS(`s-url-field#f-return`))); err != nil {
		t.Fatalf("settings with Polaris: %v", err)
	}
	if !ev(`location.search.includes('id_token=') && document.querySelector('#app-bridge-nav') !== null`) {
		t.Fatal("settings with Polaris: not signed in, or App Bridge's nav missing")
	}
	if !ev(`document.querySelector('input:not([type=hidden]), select, textarea, button:not([id^=app-bridge]), main h1') === null && document.querySelector('form[data-save-bar]').elements.namedItem('return_policy_url') === document.querySelector('s-url-field#f-return')`) {
		t.Error("with Polaris, admin.js stood native controls in, or the fields are not the form's elements")
	}
	if !ev(`(() => { const f = document.querySelector('#f-return'); f.value = 'http://not-https.example/returns'; f.dispatchEvent(new Event('input', { bubbles: true })); return true; })() &&
  !document.querySelector('#app-bridge-save-bar').hidden`) {
		t.Fatal("with Polaris, a change did not show the save bar")
	}
	if !ev(`(() => { document.querySelector('#app-bridge-save-bar-save').click(); return true; })()`) ||
		!ev(`(document.querySelector('#f-return').getAttribute('error') || '').includes('https') && !document.querySelector('#f-seller').hasAttribute('error')`) {
		t.Error("with Polaris, the refused URL's error is not the field's error attribute")
	}
	if buf, err := chromedp.Run(pctx, chromedp.CaptureScreenshot()); err == nil {
		_ = os.WriteFile(filepath.Join(shots, "settings-polaris-stub.png"), buf, 0o644)
	}
	if !ev(`(() => { const f = document.querySelector('#f-return'); f.value = 'http://x.example/'; f.dispatchEvent(new Event('input', { bubbles: true }));
  window.confirm = () => true; // data-discard-confirmation: the merchant confirms
  document.querySelector('#app-bridge-save-bar-discard').click(); return true; })()`) ||
		!ev(`document.querySelector('#f-return').value === document.querySelector('#f-return').getAttribute('value') && !document.querySelector('#f-return').hasAttribute('error') && document.querySelector('#app-bridge-save-bar').hidden`) {
		t.Error("with Polaris, Discard did not reset the field and clear its error")
	}
}

// unlabeledJS lists visible form controls with no accessible name.
const unlabeledJS = `Array.from(document.querySelectorAll('input, select, textarea')).filter(el => {
  if (el.type === 'hidden' || el.hidden || el.getAttribute('aria-hidden') === 'true') return false;
  if (el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')) return false;
  if (el.labels && el.labels.length) return false;
  return true;
}).map(el => el.outerHTML)`

// feedHasGroup reports whether the published feed has an item of product id.
func feedHasGroup(t *testing.T, m demoManifest, productID string) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.Feed.URL, nil)
	req.Header.Set("Authorization", m.Feed.Authorization)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("feed: %d", resp.StatusCode)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var it map[string]any
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(it["group_id"]) == productID || fmt.Sprint(it["item_group_id"]) == productID {
			return true
		}
	}
	return false
}

// acpStatus is the status of an authenticated ACP call with key (404 for
// an unknown session: the key was accepted).
func acpStatus(t *testing.T, m demoManifest, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, m.ACP.BaseURL+"/checkout_sessions/cs_doesnotexist", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("API-Version", "2026-04-17")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// buy runs one whole purchase through the ACP API with the demo's tokens.
func buy(t *testing.T, m demoManifest, key string) {
	t.Helper()
	var full struct {
		Items []struct {
			ID               string `json:"id"`
			Available        bool   `json:"available"`
			Inventory        int64  `json:"inventory"`
			RequiresShipping bool   `json:"requires_shipping"`
		} `json:"items"`
		Payment struct {
			ApproveToken string `json:"approve_token"`
		} `json:"payment"`
	}
	raw, err := os.ReadFile(m.path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &full); err != nil {
		t.Fatal(err)
	}
	item := ""
	for _, it := range full.Items {
		if it.Available && it.Inventory > 2 && it.RequiresShipping {
			item = it.ID
			break
		}
	}
	call := func(path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, m.ACP.BaseURL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("API-Version", "2026-04-17")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "browser-test-"+strconv.FormatInt(time.Now().UnixNano(), 10))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v", path, resp.StatusCode, out)
		}
		return out
	}
	s := call("/checkout_sessions", `{"currency":"usd","capabilities":{},"line_items":[{"id":"`+item+`","quantity":1}],"buyer":{"first_name":"Ada","last_name":"Lovelace","email":"ada@example.com"},
"fulfillment_details":{"name":"Ada Lovelace","address":{"name":"Ada Lovelace","line_one":"1 Market St","city":"San Francisco","state":"CA","country":"US","postal_code":"94105"}}}`)
	id, _ := s["id"].(string)
	done := call("/checkout_sessions/"+id+"/complete", `{"payment_data":{"handler_id":"card_tokenized","instrument":{"type":"card","credential":{"type":"spt","token":"`+full.Payment.ApproveToken+`"}}}}`)
	if done["status"] != "completed" {
		t.Fatalf("complete: %v", done)
	}
}
