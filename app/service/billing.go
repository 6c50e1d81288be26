package service

import (
	"github.com/acpbridge/acpbridge/app/billing"
)

// buildBilling builds billing (app/billing) over the store and the Shopify
// connection: checkout asks it before each agent order, the inline sweep
// has it charge the orders past the free tier, the admin shows and
// upgrades the plan.
func (s *Service) buildBilling() *billing.Service {
	return billing.New(s.store, s.shopify, s.cfg.Billing, billing.Options{Logger: s.logger, Now: s.store.Now})
}

// Billing exposes billing (tests, the demo).
func (s *Service) Billing() *billing.Service { return s.billing }
