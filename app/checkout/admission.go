package checkout

import (
	"context"

	"github.com/acpbridge/acpbridge/app"
)

// Admission decides whether a shop may take another agent order
// (billing.Service: the month's free tier, then the merchant's plan). It
// is asked at create, so an agent learns before the buyer gives any
// details, and again at complete before anything is charged or ordered,
// since the shop's month may have filled up since the session was made;
// a refusal there leaves the session as it was, to complete once the
// merchant has a plan. Its refusal is an *app.Error (403,
// billing.ReasonPlanLimit).
type Admission interface {
	AdmitOrder(ctx context.Context, sh *app.Shop) error
}

// admit asks the Admission, when there is one.
func (c *Sessions) admit(ctx context.Context, sh *app.Shop) error {
	if c.Admission == nil {
		return nil
	}
	return c.Admission.AdmitOrder(ctx, sh)
}
