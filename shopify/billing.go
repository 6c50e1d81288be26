package shopify

import (
	"context"
	"fmt"
	"time"
)

// This file is the Billing API (docs/shopify.md §7): an app that charges
// must charge through Shopify. The app's plan is one app subscription with
// two line items, a recurring fee and a usage line item the app records
// charges against (appUsageRecordCreate, idempotent by idempotencyKey);
// the merchant approves the subscription at its confirmationUrl, and the
// app reads what is active from currentAppInstallation.

// Money is an amount (a decimal string) and its currency code.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currencyCode"`
}

func (m Money) input() map[string]any {
	return map[string]any{"amount": m.Amount, "currencyCode": m.Currency}
}

// SubscriptionPlan is what appSubscriptionCreate asks the merchant to
// approve: a recurring fee every 30 days and, when UsageCap is set, a usage
// line item capped at it per 30 days.
type SubscriptionPlan struct {
	Name string
	// ReturnURL is where Shopify sends the merchant after approving.
	ReturnURL  string
	Recurring  Money
	UsageCap   *Money
	UsageTerms string
	// Test marks the charge as a test (development stores: nothing is
	// billed).
	Test bool
}

// Subscription is an app subscription as currentAppInstallation lists it.
type Subscription struct {
	ID, Name string
	// Status is PENDING, ACTIVE, DECLINED, EXPIRED, FROZEN or CANCELLED.
	Status           string
	Test             bool
	CurrentPeriodEnd *time.Time
	// Recurring is the recurring line item's price, nil without one.
	Recurring *Money
	// UsageLineItemID is the usage line item, "" without one; UsageCap
	// and UsageUsed its cap and what this period used of it.
	UsageLineItemID     string
	UsageCap, UsageUsed *Money
	UsageTerms          string
}

const appSubscriptionCreateMutation = `mutation AppSubscriptionCreate($name: String!, $returnUrl: URL!, $test: Boolean, $lineItems: [AppSubscriptionLineItemInput!]!) {
  appSubscriptionCreate(name: $name, returnUrl: $returnUrl, test: $test, lineItems: $lineItems) {
    appSubscription { id status }
    confirmationUrl
    userErrors { field message }
  }
}`

// CreateSubscription asks Shopify for the subscription p and returns its id
// and the confirmationUrl where the merchant approves or declines it.
// Input Shopify refuses comes back as a *UserErrorsError.
func CreateSubscription(ctx context.Context, q Querier, shop string, p SubscriptionPlan) (id, confirmationURL string, err error) {
	items := []any{map[string]any{"plan": map[string]any{
		"appRecurringPricingDetails": map[string]any{"price": p.Recurring.input(), "interval": "EVERY_30_DAYS"}}}}
	if p.UsageCap != nil {
		items = append(items, map[string]any{"plan": map[string]any{
			"appUsagePricingDetails": map[string]any{"cappedAmount": p.UsageCap.input(), "terms": p.UsageTerms}}})
	}
	vars := map[string]any{"name": p.Name, "returnUrl": p.ReturnURL, "test": p.Test, "lineItems": items}
	var resp struct {
		P *struct {
			AppSubscription *struct {
				ID string `json:"id"`
			} `json:"appSubscription"`
			ConfirmationURL string      `json:"confirmationUrl"`
			UserErrors      []UserError `json:"userErrors"`
		} `json:"appSubscriptionCreate"`
	}
	if err := q.Query(ctx, shop, appSubscriptionCreateMutation, vars, &resp); err != nil {
		return "", "", fmt.Errorf("create app subscription: %w", err)
	}
	if resp.P == nil {
		return "", "", fmt.Errorf("appSubscriptionCreate: no payload")
	}
	if err := UserErrorsErr("appSubscriptionCreate", resp.P.UserErrors); err != nil {
		return "", "", err
	}
	if resp.P.AppSubscription == nil || resp.P.ConfirmationURL == "" {
		return "", "", fmt.Errorf("appSubscriptionCreate: no subscription or confirmation URL")
	}
	return resp.P.AppSubscription.ID, resp.P.ConfirmationURL, nil
}

const activeSubscriptionsQuery = `query AppSubscriptions {
  currentAppInstallation {
    activeSubscriptions {
      id name status test currentPeriodEnd
      lineItems {
        id
        plan {
          pricingDetails {
            __typename
            ... on AppRecurringPricing { interval price { amount currencyCode } }
            ... on AppUsagePricing { terms cappedAmount { amount currencyCode } balanceUsed { amount currencyCode } }
          }
        }
      }
    }
  }
}`

// ActiveSubscriptions reads the shop's active app subscriptions (at most
// one for an app with one plan; an empty list: none).
func ActiveSubscriptions(ctx context.Context, q Querier, shop string) ([]Subscription, error) {
	var resp struct {
		Inst *struct {
			Active []struct {
				ID               string     `json:"id"`
				Name             string     `json:"name"`
				Status           string     `json:"status"`
				Test             bool       `json:"test"`
				CurrentPeriodEnd *time.Time `json:"currentPeriodEnd"`
				LineItems        []struct {
					ID   string `json:"id"`
					Plan struct {
						Pricing struct {
							Typename    string `json:"__typename"`
							Price       *Money `json:"price"`
							Terms       string `json:"terms"`
							Capped      *Money `json:"cappedAmount"`
							BalanceUsed *Money `json:"balanceUsed"`
						} `json:"pricingDetails"`
					} `json:"plan"`
				} `json:"lineItems"`
			} `json:"activeSubscriptions"`
		} `json:"currentAppInstallation"`
	}
	if err := q.Query(ctx, shop, activeSubscriptionsQuery, nil, &resp); err != nil {
		return nil, fmt.Errorf("read app subscriptions: %w", err)
	}
	if resp.Inst == nil {
		return nil, fmt.Errorf("read app subscriptions: no currentAppInstallation")
	}
	out := make([]Subscription, 0, len(resp.Inst.Active))
	for _, a := range resp.Inst.Active {
		s := Subscription{ID: a.ID, Name: a.Name, Status: a.Status, Test: a.Test, CurrentPeriodEnd: a.CurrentPeriodEnd}
		for _, li := range a.LineItems {
			p := li.Plan.Pricing
			switch p.Typename {
			case "AppRecurringPricing":
				s.Recurring = p.Price
			case "AppUsagePricing":
				s.UsageLineItemID, s.UsageCap, s.UsageUsed, s.UsageTerms = li.ID, p.Capped, p.BalanceUsed, p.Terms
			}
		}
		out = append(out, s)
	}
	return out, nil
}

const appUsageRecordCreateMutation = `mutation AppUsageRecordCreate($lineItem: ID!, $price: MoneyInput!, $description: String!, $key: String) {
  appUsageRecordCreate(subscriptionLineItemId: $lineItem, price: $price, description: $description, idempotencyKey: $key) {
    appUsageRecord { id }
    userErrors { field message }
  }
}`

// CreateUsageRecord charges price against the usage line item lineItemID.
// idempotencyKey (at most 255 characters) makes a retry return the record
// the first attempt made instead of charging again. A charge over the
// line item's cap comes back as a *UserErrorsError.
func CreateUsageRecord(ctx context.Context, q Querier, shop, lineItemID string, price Money, description, idempotencyKey string) (string, error) {
	if len(idempotencyKey) > 255 {
		return "", fmt.Errorf("create usage record: idempotency key longer than 255 characters")
	}
	vars := map[string]any{"lineItem": lineItemID, "price": price.input(), "description": description, "key": idempotencyKey}
	var resp struct {
		P *struct {
			Record *struct {
				ID string `json:"id"`
			} `json:"appUsageRecord"`
			UserErrors []UserError `json:"userErrors"`
		} `json:"appUsageRecordCreate"`
	}
	if err := q.Query(ctx, shop, appUsageRecordCreateMutation, vars, &resp); err != nil {
		return "", fmt.Errorf("create usage record: %w", err)
	}
	if resp.P == nil {
		return "", fmt.Errorf("appUsageRecordCreate: no payload")
	}
	if err := UserErrorsErr("appUsageRecordCreate", resp.P.UserErrors); err != nil {
		return "", err
	}
	if resp.P.Record == nil {
		return "", fmt.Errorf("appUsageRecordCreate: no usage record")
	}
	return resp.P.Record.ID, nil
}
