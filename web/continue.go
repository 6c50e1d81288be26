package web

import (
	"context"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/acpbridge/acpbridge/app/checkout"
)

// The buyer's continue_url of a Shopify-checkout shop's session
// (checkout.ContinuePath): following it writes the session's draft order
// and redirects to its invoice, Shopify's checkout
// (checkout.Sessions.Continue). It is the one page of the app a buyer
// sees, so every answer that is not a redirect is a small HTML page that
// says what happened and what to do, never an error body or a trace.

// ContinueService is the buyer's side of a handoff session
// (checkout.Sessions).
type ContinueService interface {
	Continue(ctx context.Context, token string) (*checkout.ContinueOutcome, error)
}

// handleContinue follows a continue_url.
func (s *Server) handleContinue(c echo.Context) error {
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex")
	ctx := c.Request().Context()
	if s.acp.Budget != nil {
		// The buyer waits, as an agent does: an agent request's budget.
		// Not the money path: under a burst of clicks, money priority made
		// every new click spend its live check (3 points) ahead of the
		// draft writes (10) of the clicks already begun, so the budget
		// went to checks whose drafts then could not be paid for (128
		// purchases in 60 s on the standard plan). As an agent's request,
		// a click that has begun goes ahead of new ones.
		ctx = s.acp.Budget(ctx, false)
	}
	out, err := s.cont.Continue(ctx, c.Param("token"))
	if err != nil {
		return err // handleError renders it as the buyer's page
	}
	if out.RedirectURL != "" {
		if out.Checkout && c.Request().Method == http.MethodPost {
			// A POST to the link is passed on to Shopify's checkout as a
			// POST (307 keeps the method and the body): what the demo
			// contract promises of continue_url, where POST pays.
			return c.Redirect(http.StatusTemporaryRedirect, out.RedirectURL)
		}
		return c.Redirect(http.StatusSeeOther, out.RedirectURL)
	}
	status, p := continuePageOf(out)
	if out.Page == checkout.PageBusy {
		h.Set("Retry-After", "2")
	}
	return renderContinue(c, status, p)
}

// isContinuePage: the request is the buyer's continue link, whose errors
// (the link's own, and the middleware's: the address's rate limit) are
// pages too.
func isContinuePage(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, checkout.ContinuePath)
}

// renderContinueError is an error as the buyer's page: what went wrong in
// the error's own words (the internal ones are already "Internal error"),
// with a way to try again where that can help.
func renderContinueError(c echo.Context, status int, body errorBody) error {
	p := continuePage{Title: "This checkout cannot open right now", Message: body.Message,
		Retry: status >= 500 || status == http.StatusTooManyRequests}
	switch {
	case status == statusClientClosed:
		return nil
	case status == http.StatusNotFound:
		p.Title, p.Message = "Checkout link not found", checkout.ErrNoSuchLink.Message
	case status >= 500 && status != http.StatusServiceUnavailable:
		p.Message = "Something went wrong on our side; nothing was charged. Try again in a moment."
	}
	return renderContinue(c, status, p)
}

// continuePageOf is the page, and its status, of an outcome that does not
// redirect.
func continuePageOf(out *checkout.ContinueOutcome) (int, continuePage) {
	switch out.Page {
	case checkout.PagePriceChanged:
		return http.StatusConflict, continuePage{Title: "The price has changed",
			Message: "A price changed since your assistant quoted it: the total is now " +
				checkout.FormatMinor(out.Total, out.Currency) + " " + strings.ToUpper(out.Currency) +
				". Continue at this total, or go back to your assistant.",
			Retry: true, RetryLabel: "Continue at the new total"}
	case checkout.PageEnded:
		return http.StatusGone, continuePage{Title: "This checkout has ended",
			Message: "It was canceled or has expired, and nothing was charged. Ask your assistant to start a new one."}
	case checkout.PageCompleted:
		return http.StatusOK, continuePage{Title: "This order is paid",
			Message: "Thank you: the store has your order and sends its confirmation by email."}
	case checkout.PagePaid:
		return http.StatusOK, continuePage{Title: "Your payment went through",
			Message: "The store is confirming your order; its confirmation comes by email."}
	case checkout.PageBusy:
		return http.StatusServiceUnavailable, continuePage{Title: "Preparing your checkout…",
			Message: "This takes a moment longer than usual. The page reloads by itself.", Retry: true, Refresh: true}
	default:
		return http.StatusConflict, continuePage{Title: "This checkout is not ready to pay yet",
			Message: "Something still needs settling (an item, the address or the shipping). " +
				"Go back to your assistant to finish it, then follow its link again.", Retry: true}
	}
}

// continuePage is what the page says.
type continuePage struct {
	Title, Message string
	// Retry offers to follow the link again (RetryLabel, or "Try
	// again"); Refresh does so by itself after two seconds.
	Retry      bool
	RetryLabel string
	Refresh    bool
}

func renderContinue(c echo.Context, status int, p continuePage) error {
	if p.RetryLabel == "" {
		p.RetryLabel = "Try again"
	}
	var b strings.Builder
	if err := continueTemplate.Execute(&b, p); err != nil {
		return err
	}
	return c.HTML(status, b.String())
}

// continueTemplate is the buyer's page: standalone (no admin layout, no
// script), readable on a phone.
var continueTemplate = template.Must(template.New("continue").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
{{if .Refresh}}<meta http-equiv="refresh" content="2">{{end}}<title>{{.Title}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
a.button{display:inline-block;margin-top:1rem;padding:.6rem 1.2rem;border-radius:.4rem;background:#222;color:#fff;text-decoration:none}</style>
</head><body><h1>{{.Title}}</h1><p>{{.Message}}</p>{{if .Retry}}<p><a class="button" href="">{{.RetryLabel}}</a></p>{{end}}</body></html>
`))
