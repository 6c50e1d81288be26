package main

import (
	"context"
	"testing"

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

	pg := &browserPage{t: t, ctx: bctx, shots: shots, name: "scopes"}
	do, shot, waitFor := pg.do, pg.shot, pg.waitFor
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
