package billing

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/shopify"
)

// sweepBatch bounds the orders one sweep decides.
const sweepBatch = 200

// Sweep decides every pending counted order, oldest first: within its
// month's free tier it is free; past it, with an active plan, a usage
// record of PerOrder is created (idempotency key: the shop and the
// session, so a retry after a lost answer returns the record the first
// attempt made), else it is unbilled. An order whose charge failed stays
// pending, and so do the shop's later ones (their place in the month
// depends on it), for the next sweep. Run by the periodic inline sweep
// (jobs.Sweeper).
func (s *Service) Sweep(ctx context.Context) error {
	if !s.plan.Enabled() {
		return nil
	}
	orders, err := s.store.PendingBillingOrders(ctx, sweepBatch)
	if err != nil {
		return fmt.Errorf("billing sweep: %w", err)
	}
	var errs []error
	held := map[int64]bool{} // shops whose earlier order stays pending
	for _, o := range orders {
		if held[o.ShopID] {
			continue
		}
		if err := s.decide(ctx, o); err != nil {
			held[o.ShopID] = true
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// UsageKey is the idempotency key of an order's usage record.
func UsageKey(shopID int64, sessionID string) string {
	return "acpbridge-order-" + strconv.FormatInt(shopID, 10) + "-" + sessionID
}

// decide makes one pending order free, charged or unbilled.
func (s *Service) decide(ctx context.Context, o Order) error {
	from, to := monthOf(o.CreatedAt)
	before, err := s.store.CountBillingOrders(ctx, o.ShopID, from, to, true, s.plan.FreeOrders)
	if err != nil {
		return fmt.Errorf("billing: order %s: %w", o.SessionID, err)
	}
	set := func(c Charge, id string) error {
		if _, err := s.store.SetBillingOrderCharge(ctx, o.ShopID, o.SessionID, c, id, s.now().UTC()); err != nil {
			return fmt.Errorf("billing: order %s: %w", o.SessionID, err)
		}
		return nil
	}
	if before < s.plan.FreeOrders {
		return set(ChargeFree, "")
	}
	if !o.ShopActive {
		return set(ChargeUnbilled, "") // uninstalled: nothing can be charged any more
	}
	sh := &app.Shop{ID: o.ShopID, Domain: o.Shop}
	p, err := s.currentPlan(ctx, sh)
	if err != nil {
		return fmt.Errorf("billing: order %s: %w", o.SessionID, err)
	}
	if !p.Active() || p.UsageLineItemID == "" {
		// Admitted before the free tier ran out (a session created under
		// it), or the plan ended meanwhile: the order stands, uncharged.
		s.logger.InfoContext(ctx, "billing: an order past the free tier with no plan to charge", "shop", o.Shop, "session", o.SessionID)
		return set(ChargeUnbilled, "")
	}
	id, err := shopify.CreateUsageRecord(ctx, s.q, o.Shop, p.UsageLineItemID,
		shopify.Money{Amount: s.plan.PerOrder, Currency: s.plan.Currency},
		"Agent order "+o.SessionID, UsageKey(o.ShopID, o.SessionID))
	var ue *shopify.UserErrorsError
	if errors.As(err, &ue) {
		// The cap is reached (or the plan changed): the order stands;
		// the merchant pays no more than the cap they approved.
		s.logger.WarnContext(ctx, "billing: usage record refused", "shop", o.Shop, "session", o.SessionID, "err", ue.Error())
		// The subscription may have ended (cancelled, frozen): read it
		// again now rather than trusting the stored one for up to an hour.
		if _, err := s.Refresh(ctx, sh); err != nil {
			s.logger.WarnContext(ctx, "billing: reading the plan failed", "shop", o.Shop, "err", err)
		}
		return set(ChargeUnbilled, "")
	}
	if err != nil {
		return fmt.Errorf("billing: charge order %s: %w", o.SessionID, err)
	}
	return set(ChargeCharged, id)
}
