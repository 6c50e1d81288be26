package bench

import (
	"fmt"
	"strings"
)

// ShopifyPlan is a shop's GraphQL Admin API budget (Shopify's leaky bucket
// per app and shop, docs/shopify.md §4.3): Bucket points at most, Restore
// points back per second.
type ShopifyPlan struct {
	Name            string
	Bucket, Restore float64
}

// Unlimited reports whether the plan puts no budget in the way.
func (p ShopifyPlan) Unlimited() bool { return p.Name == PlanUnlimited }

// PlanUnlimited is the stack's default: Shopify answering at once, no
// budget in the way (what every run measured before plans existed).
const PlanUnlimited = "unlimited"

// ShopifyPlans are the plans --shopify-plan offers. The restore rates are
// the ones Shopify publishes per plan (100, 200 and 1,000 points/s).
// Shopify does not publish the bucket sizes (a client reads
// maximumAvailable from each answer); its own example answer shows 2,000
// at 100 points/s, twenty seconds of restore, which the other plans are
// given too.
var ShopifyPlans = []ShopifyPlan{
	{Name: "standard", Bucket: 2_000, Restore: 100},
	{Name: "advanced", Bucket: 4_000, Restore: 200},
	{Name: "plus", Bucket: 20_000, Restore: 1_000},
	{Name: PlanUnlimited, Bucket: 1e9, Restore: 1e9},
}

// LookupPlan finds a plan by name.
func LookupPlan(name string) (ShopifyPlan, error) {
	var names []string
	for _, p := range ShopifyPlans {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return ShopifyPlan{}, fmt.Errorf("shopify plan %q: want one of %s", name, strings.Join(names, ", "))
}
