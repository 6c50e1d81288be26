package emulator

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// This file is the buyer's checkout page at a draft order's invoiceUrl:
// Shopify's own checkout, reduced to what a test or the demo needs. GET
// shows the lines and the total; POST (no fields required, an optional
// email) pays with the emulator's test card, which always succeeds. It is
// served on the emulator's loopback address, outside any shop's Host.

// checkoutPathPrefix starts every invoice URL: /checkouts/<shop>/<token>.
const checkoutPathPrefix = "/checkouts/"

// checkoutURL is a draft's invoice URL on the emulator.
func (e *Emulator) checkoutURL(shop, token string) string {
	base := "http://127.0.0.1"
	if e.addr != "" { // the caller holds e.mu
		base = "http://" + e.addr
	}
	return base + checkoutPathPrefix + shop + "/" + token
}

var checkoutTemplate = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Checkout - {{.Shop}}</title></head>
<body>
<h1>{{.Shop}}</h1>
<p>Draft order {{.Name}}</p>
{{if .Paid}}<p id="status">This order has been paid.</p>{{end}}
<table>
<thead><tr><th>Item</th><th>Quantity</th><th>Price</th></tr></thead>
<tbody>
{{range .Lines}}<tr><td>{{.Name}}</td><td>{{.Quantity}}</td><td>{{.Total}}</td></tr>
{{end}}</tbody>
</table>
<dl>
{{if .Discount}}<dt>Discount{{if .DiscountCode}} ({{.DiscountCode}}){{end}}</dt><dd id="discount">-{{.Discount}}</dd>
{{end}}<dt>Subtotal</dt><dd id="subtotal">{{.Subtotal}}</dd>
<dt>Shipping{{if .ShippingTitle}} ({{.ShippingTitle}}){{end}}</dt><dd id="shipping">{{.Shipping}}</dd>
<dt>Taxes</dt><dd id="taxes">{{.Tax}}</dd>
<dt>Total</dt><dd id="total">{{.Currency}} {{.Total}}</dd>
</dl>
{{if not .Paid}}<form method="post">
<label>Email <input type="email" name="email" value="{{.Email}}"></label>
<p>Test card: Bogus Gateway, 1 (always succeeds)</p>
<button type="submit">Pay now</button>
</form>{{end}}
</body></html>
`))

type checkoutView struct {
	Shop, Name, Email, Currency                   string
	Paid                                          bool
	Lines                                         []checkoutLine
	Subtotal, Shipping, ShippingTitle, Tax, Total string
	// Discount is "" without one.
	Discount, DiscountCode string
}

type checkoutLine struct {
	Name     string
	Quantity int
	Total    string
}

// handleCheckoutPage shows a draft's checkout, 404 for an unknown or
// deleted draft.
func (e *Emulator) handleCheckoutPage(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	s := e.shop(r.PathValue("shop"))
	var d *DraftOrder
	if s != nil {
		d = s.draftByToken(r.PathValue("token"))
	}
	if d == nil {
		e.mu.Unlock()
		checkoutError(w, http.StatusNotFound, "This checkout does not exist.")
		return
	}
	v := checkoutView{
		Shop: s.displayName(), Name: d.Name, Email: d.Email, Currency: shopCurrency, Paid: d.Status == "COMPLETED",
		Subtotal: formatMoney(d.SubtotalCents), Shipping: formatMoney(d.ShippingCents), Tax: formatMoney(d.TaxCents),
		Total: formatMoney(d.TotalCents),
	}
	if d.Shipping != nil {
		v.ShippingTitle = d.Shipping.Title
	}
	if d.DiscountCents > 0 {
		v.Discount, v.DiscountCode = formatMoney(d.DiscountCents), d.DiscountCode
	}
	for _, l := range d.Lines {
		name := l.Title
		if l.VariantTitle != "" && l.VariantTitle != "Default Title" {
			name += " - " + l.VariantTitle
		}
		v.Lines = append(v.Lines, checkoutLine{Name: name, Quantity: l.Quantity, Total: formatMoney(l.UnitCents * int64(l.Quantity))})
	}
	e.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_ = checkoutTemplate.Execute(w, v)
}

// handleCheckoutPay pays the draft: 200 with the order's name, 409 for a
// draft already paid or out of stock, 404 for an unknown or deleted one.
// The webhooks are delivered before the page answers.
func (e *Emulator) handleCheckoutPay(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	email := ""
	if err := r.ParseForm(); err == nil {
		email = strings.TrimSpace(r.PostForm.Get("email"))
	}
	if email != "" && !validEmail(email) {
		checkoutError(w, http.StatusUnprocessableEntity, "Enter a valid email.")
		return
	}
	p, err := e.pay(r.PathValue("shop"), r.PathValue("token"), email)
	switch {
	case errors.Is(err, ErrNotFound):
		checkoutError(w, http.StatusNotFound, "This checkout does not exist.")
		return
	case errors.Is(err, ErrDraftCompleted):
		checkoutError(w, http.StatusConflict, "This order has already been paid.")
		return
	case errors.Is(err, ErrSoldOut):
		checkoutError(w, http.StatusConflict, "Some items are no longer available.")
		return
	case err != nil:
		checkoutError(w, http.StatusInternalServerError, "Checkout failed.")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Emulator-Order-Id", p.Order.GID())
	_, _ = fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Thank you</title></head>\n<body><h1>Thank you!</h1><p id=\"order\">Order %s</p><p><a href=\"%s\">View your order</a></p></body></html>\n",
		template.HTMLEscapeString(p.Order.Name), template.HTMLEscapeString(p.Order.StatusPageURL))
}

func checkoutError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Checkout</title></head>\n<body><p id=\"error\">%s</p></body></html>\n", template.HTMLEscapeString(msg))
}
