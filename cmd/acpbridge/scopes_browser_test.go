package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestOptionalScopeInBrowser: on the demo's overview, the features that
// need an optional scope are listed as off with a grant button; the
// merchant declines App Bridge's permission modal once (nothing changes),
// then grants read_publications, and the page comes back with the sales
// channel check on and only the customer records left off. Screenshots
// go to test-artifacts/browser/scopes-*.png.
func TestOptionalScopeInBrowser(t *testing.T) {
	exe := chromiumPath(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, _ := startDemo(t, ctx)
	shots := artifactsDir(t)

	bctx := newBrowser(ctx, t, exe, 1280, 900)

	fail := func(what string, err error) {
		t.Helper()
		loc, _ := chromedp.Run(bctx, chromedp.Location())
		_ = os.WriteFile(filepath.Join(shots, "scopes-failed.html"), []byte(must(chromedp.Run(bctx, chromedp.Evaluate[string](`document.documentElement.outerHTML`)))), 0o644)
		t.Fatalf("%s: %v (at %s)", what, err, loc)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		tctx, cancel := context.WithTimeout(bctx, 45*time.Second)
		defer cancel()
		if err := chromedp.Do(tctx, actions...); err != nil {
			fail(what, err)
		}
	}
	shot := func(name string) {
		t.Helper()
		buf, err := chromedp.Run(bctx, chromedp.FullScreenshot(100)) // 100: PNG
		if err != nil {
			fail("screenshot "+name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), buf, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// waitFor evaluates expr until it is true, across page loads.
	waitFor := func(what, expr string) {
		t.Helper()
		deadline := time.Now().Add(40 * time.Second)
		for {
			tctx, cancel := context.WithTimeout(bctx, 3*time.Second)
			v, err := chromedp.Run(tctx, chromedp.Evaluate[bool](expr))
			cancel()
			if err == nil && v {
				return
			}
			if time.Now().After(deadline) {
				fail(what, fmt.Errorf("%s is still not true: %v", expr, err))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	visible := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(chromedp.CSS(sel)) }
	click := func(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }
	const grantPubs = `[data-grant-scope="read_publications"]`

	do("overview", chromedp.Navigate(m.AdminURL), visible(`.checklist`), visible(grantPubs), visible(`[data-grant-scope="write_customers"]`))
	shot("scopes-off")

	// Declined: the modal closes and both features stay off.
	do("modal", click(`[data-grant-scope="write_customers"]`), visible(`#app-bridge-scopes-modal`))
	shot("scopes-modal")
	do("decline", click(`#app-bridge-scopes-decline`))
	waitFor("declined", `document.querySelector('#app-bridge-scopes-modal') === null && document.querySelector('[data-grant-scope="write_customers"]') !== null`)
	// The answer shows in App Bridge's toast, and only there.
	waitFor("one toast", `(() => { const t = document.getElementById('app-bridge-toast'); return t !== null && !t.hidden && t.textContent.startsWith('Access not granted') &&
  Array.from(document.querySelectorAll('body *')).filter(e => getComputedStyle(e).position === 'fixed' && e.getClientRects().length > 0 && e.textContent.startsWith('Access not granted')).length === 1; })()`)

	// Granted: the page reloads with the channel check on.
	do("grant", click(grantPubs), visible(`#app-bridge-scopes-modal`), click(`#app-bridge-scopes-grant`))
	waitFor("granted", `location.search.includes("id_token=") && document.querySelector('.checklist') !== null && `+
		`document.querySelector('`+grantPubs+`') === null && document.querySelector('[data-feature="customer_records"]') !== null`)
	shot("scopes-granted")
}
