package emulator

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
)

// This file is the page at an app subscription's confirmationUrl, where
// the merchant approves or declines the app's charges (Shopify admin's
// "Approve subscription" page, reduced to two buttons). Either answer
// returns the merchant to the subscription's returnUrl with charge_id, as
// Shopify does; the app reads the outcome from currentAppInstallation.
// It is served on the emulator's loopback address, outside any shop's Host.

// billingPathPrefix starts every confirmation URL: /billing/<shop>/<token>.
const billingPathPrefix = "/billing/"

// billingURL is a subscription's confirmation URL on the emulator.
func (e *Emulator) billingURL(shop, token string) string {
	base := "http://127.0.0.1"
	if e.addr != "" { // the caller holds e.mu
		base = "http://" + e.addr
	}
	return base + billingPathPrefix + shop + "/" + token
}

var billingTemplate = template.Must(template.New("billing").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Approve subscription - {{.Shop}}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;padding:0 1rem}
button{font-size:1rem;padding:.5rem 1rem;margin-right:.5rem}</style></head>
<body>
<h1>Approve subscription</h1>
<p>{{.Shop}} is asked to approve <strong id="plan-name">{{.Name}}</strong>{{if .Test}} (test charge: nothing is billed){{end}}.</p>
<ul>
{{if .Recurring}}<li id="recurring">{{.Recurring}} every 30 days</li>{{end}}
{{if .Cap}}<li id="usage">Usage charges up to {{.Cap}} every 30 days: {{.Terms}}</li>{{end}}
</ul>
{{if .Pending}}<form method="post">
<button type="submit" name="decision" value="approve" id="approve">Approve</button>
<button type="submit" name="decision" value="decline" id="decline">Decline</button>
</form>{{else}}<p id="status">This subscription is {{.Status}}.</p>{{end}}
</body></html>
`))

type billingView struct {
	Shop, Name, Status, Recurring, Cap, Terms string
	Test, Pending                             bool
}

func (e *Emulator) handleBillingPage(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	var v *billingView
	if s := e.shop(r.PathValue("shop")); s != nil {
		for _, a := range s.billing.subs {
			if a.token == r.PathValue("token") {
				v = &billingView{Shop: s.displayName(), Name: a.Name, Status: a.Status, Terms: a.UsageTerms,
					Test: a.Test, Pending: a.Status == "PENDING"}
				if a.RecurringCents >= 0 {
					v.Recurring = shopCurrency + " " + formatMoney(a.RecurringCents)
				}
				if a.UsageCapCents >= 0 {
					v.Cap = shopCurrency + " " + formatMoney(a.UsageCapCents)
				}
			}
		}
	}
	e.mu.Unlock()
	if v == nil {
		checkoutError(w, http.StatusNotFound, "This subscription does not exist.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = billingTemplate.Execute(w, v)
}

// handleBillingDecision approves or declines, then returns the merchant
// to the app (303 to the return URL with charge_id).
func (e *Emulator) handleBillingDecision(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	_ = r.ParseForm()
	d := r.PostForm.Get("decision")
	if d != "approve" && d != "decline" {
		checkoutError(w, http.StatusBadRequest, "Choose approve or decline.")
		return
	}
	a, err := e.decideSubscription(r.PathValue("shop"), r.PathValue("token"), d == "approve")
	switch {
	case errors.Is(err, ErrNotFound):
		checkoutError(w, http.StatusNotFound, "This subscription does not exist.")
		return
	case err != nil:
		checkoutError(w, http.StatusConflict, "This subscription was already decided: "+err.Error()+".")
		return
	}
	u, err := url.Parse(a.ReturnURL)
	if err != nil || a.ReturnURL == "" {
		checkoutError(w, http.StatusOK, "Subscription "+a.Status+".")
		return
	}
	q := u.Query()
	q.Set("charge_id", strconv.FormatInt(a.ID, 10))
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
