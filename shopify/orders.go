package shopify

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// This file writes a paid agent order into Shopify with orderCreate and
// reads it back. orderCreate has no idempotency key (docs/shopify.md §4.6),
// so the order carries the checkout session id as its sourceIdentifier:
// before any retry, FindOrderBySource looks for an order already written by
// an attempt whose answer was lost, and only then is CreateOrder called
// again.
//
// orderCreate computes nothing: the lines' prices, the tax lines, the
// shipping line and the discount are written as quoted, and the order's
// total is their sum. Money is decimal strings in the order's currency.

// Order is a Shopify order. CreateOrder and FindOrderBySource fill the
// summary; GetOrder adds LineItems, Fulfillments, Refunds and
// Transactions.
type Order struct {
	// ID is the GID, LegacyID the number in it, Name e.g. "#1001".
	ID, LegacyID, Name string
	// StatusPageURL is the buyer's order status page.
	StatusPageURL    string
	SourceIdentifier string
	SourceName       string
	CreatedAt        time.Time
	UpdatedAt        time.Time
	Currency         string
	// Total is what the order came to, CurrentTotal after refunds and
	// removals; TotalReceived, TotalRefunded and TotalOutstanding are the
	// money taken, given back and still owed.
	Total, CurrentTotal                            string
	TotalReceived, TotalRefunded, TotalOutstanding string
	// DisplayFinancialStatus is PAID, PARTIALLY_REFUNDED, REFUNDED, …
	DisplayFinancialStatus string
	// DisplayFulfillmentStatus is UNFULFILLED, PARTIALLY_FULFILLED,
	// FULFILLED, RESTOCKED, …
	DisplayFulfillmentStatus string
	// CancelledAt is nil unless cancelled; CancelReason is then CUSTOMER,
	// DECLINED, FRAUD, INVENTORY, OTHER or STAFF.
	CancelledAt  *time.Time
	CancelReason string
	Closed       bool
	Test         bool
	Tags         []string

	// LineItems (the first 50; MoreLineItems when there are more).
	LineItems     []OrderLineItem
	MoreLineItems bool
	Fulfillments  []Fulfillment
	Refunds       []Refund
	// Transactions are the order's payment transactions (sale, refunds).
	Transactions []OrderTransaction
}

// OrderLineItem is a line of an order.
type OrderLineItem struct {
	ID, VariantID            string
	Title, VariantTitle, SKU string
	// Quantity is what was bought, CurrentQuantity after removals,
	// UnfulfilledQuantity what is left to ship.
	Quantity, CurrentQuantity, UnfulfilledQuantity int
	UnitPrice                                      string
}

// Fulfillment is a shipment.
type Fulfillment struct {
	ID, Name string
	// Status is SUCCESS, CANCELLED, ERROR or FAILURE; DisplayStatus the
	// carrier's view (FULFILLED, IN_TRANSIT, DELIVERED, …), "" when none.
	Status, DisplayStatus string
	CreatedAt, UpdatedAt  time.Time
	// DeliveredAt and InTransitAt are nil until the carrier says so.
	DeliveredAt, InTransitAt *time.Time
	Tracking                 []Tracking
	// Lines are the line item ids and quantities shipped.
	Lines []FulfillmentLine
}

// Tracking is a shipment's tracking information; any field may be "".
type Tracking struct {
	Company, Number, URL string
}

// FulfillmentLine is a quantity of a line item.
type FulfillmentLine struct {
	LineItemID string
	Quantity   int
}

// Refund is money given back.
type Refund struct {
	ID        string
	CreatedAt time.Time
	Note      string
	// Total is the amount refunded.
	Total        string
	Transactions []OrderTransaction
	// Lines are the line items refunded (none for an amount-only refund).
	Lines []RefundLine
}

// RefundLine is a refunded quantity of a line item.
type RefundLine struct {
	LineItemID string
	Quantity   int
	Subtotal   string
}

// OrderTransaction is a payment transaction.
type OrderTransaction struct {
	ID string
	// Kind is SALE, CAPTURE, AUTHORIZATION, REFUND, …; Status SUCCESS,
	// PENDING, FAILURE, ERROR, ….
	Kind, Status, Gateway string
	Amount                string
	ProcessedAt           time.Time
}

// orderSummary is the fragment every order query selects.
const orderSummary = `fragment OrderSummary on Order {
  id legacyResourceId name statusPageUrl sourceIdentifier sourceName createdAt updatedAt
  currencyCode displayFinancialStatus displayFulfillmentStatus cancelledAt cancelReason closed test tags
  totalPriceSet { shopMoney { amount } } currentTotalPriceSet { shopMoney { amount } }
  totalReceivedSet { shopMoney { amount } } totalRefundedSet { shopMoney { amount } }
  totalOutstandingSet { shopMoney { amount } }
}`

// findOrderQuery searches orders by source identifier.
const findOrderQuery = `query FindOrderBySource($query: String!) {
  orders(first: 5, query: $query, sortKey: CREATED_AT) { nodes { ...OrderSummary } }
}
` + orderSummary

// FindOrderBySource returns the order whose sourceIdentifier is id, or nil
// and no error when there is none. It searches orders
// (source_identifier:"id") and keeps only an exact match. Shopify's search
// index trails writes by a few seconds, so an order written moments ago may
// not be found yet: a caller deciding whether to create again should wait
// that long after a failed attempt.
func FindOrderBySource(ctx context.Context, q Querier, shop, id string) (*Order, error) {
	if !sourceIDRe.MatchString(id) {
		return nil, fmt.Errorf("find order: %w: source identifier %q", ErrInvalidOrder, id)
	}
	var resp struct {
		Orders struct {
			Nodes []*orderJSON `json:"nodes"`
		} `json:"orders"`
	}
	vars := map[string]any{"query": `source_identifier:"` + id + `"`}
	if err := q.Query(ctx, shop, findOrderQuery, vars, &resp); err != nil {
		return nil, fmt.Errorf("find order %s: %w", id, err)
	}
	for _, n := range resp.Orders.Nodes {
		if n != nil && n.SourceIdentifier != nil && *n.SourceIdentifier == id {
			return n.order()
		}
	}
	return nil, nil
}

// getOrderQuery reads an order with what an ACP order update needs.
const getOrderQuery = `query GetOrder($id: ID!) {
  order(id: $id) {
    ...OrderSummary
    lineItems(first: 50) {
      nodes {
        id title variantTitle sku quantity currentQuantity unfulfilledQuantity
        variant { id } originalUnitPriceSet { shopMoney { amount } }
      }
      pageInfo { hasNextPage }
    }
    fulfillments(first: 10) {
      id name status displayStatus createdAt updatedAt deliveredAt inTransitAt
      trackingInfo(first: 5) { company number url }
      fulfillmentLineItems(first: 20) { nodes { quantity lineItem { id } } }
    }
    refunds(first: 10) {
      id createdAt note totalRefundedSet { shopMoney { amount } }
      transactions(first: 5) { nodes { ...Tx } }
      refundLineItems(first: 20) { nodes { quantity lineItem { id } subtotalSet { shopMoney { amount } } } }
    }
    transactions(first: 10) { ...Tx }
  }
}
fragment Tx on OrderTransaction { id kind status gateway processedAt amountSet { shopMoney { amount } } }
` + orderSummary

// GetOrder reads an order (a GID) with its line items, fulfillments and
// their tracking, refunds and transactions; nil and no error when the
// order does not exist.
func GetOrder(ctx context.Context, q Querier, shop, id string) (*Order, error) {
	if !strings.HasPrefix(id, "gid://shopify/Order/") {
		return nil, fmt.Errorf("get order: %q is not an Order GID", id)
	}
	var resp struct {
		Order *orderJSON `json:"order"`
	}
	if err := q.Query(ctx, shop, getOrderQuery, map[string]any{"id": id}, &resp); err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, err)
	}
	if resp.Order == nil {
		return nil, nil
	}
	return resp.Order.order()
}

type amountJSON struct {
	ShopMoney struct {
		Amount string `json:"amount"`
	} `json:"shopMoney"`
}

type txJSON struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Status      string     `json:"status"`
	Gateway     *string    `json:"gateway"`
	ProcessedAt *time.Time `json:"processedAt"`
	AmountSet   amountJSON `json:"amountSet"`
}

func (t txJSON) tx() OrderTransaction {
	out := OrderTransaction{ID: t.ID, Kind: t.Kind, Status: t.Status, Gateway: deref(t.Gateway), Amount: t.AmountSet.ShopMoney.Amount}
	if t.ProcessedAt != nil {
		out.ProcessedAt = *t.ProcessedAt
	}
	return out
}

// orderJSON decodes an order as the queries above select it.
type orderJSON struct {
	ID                       string     `json:"id"`
	LegacyResourceID         string     `json:"legacyResourceId"`
	Name                     string     `json:"name"`
	StatusPageURL            string     `json:"statusPageUrl"`
	SourceIdentifier         *string    `json:"sourceIdentifier"`
	SourceName               *string    `json:"sourceName"`
	CreatedAt                time.Time  `json:"createdAt"`
	UpdatedAt                time.Time  `json:"updatedAt"`
	CurrencyCode             string     `json:"currencyCode"`
	DisplayFinancialStatus   *string    `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string     `json:"displayFulfillmentStatus"`
	CancelledAt              *time.Time `json:"cancelledAt"`
	CancelReason             *string    `json:"cancelReason"`
	Closed                   bool       `json:"closed"`
	Test                     bool       `json:"test"`
	Tags                     []string   `json:"tags"`
	TotalPriceSet            amountJSON `json:"totalPriceSet"`
	CurrentTotalPriceSet     amountJSON `json:"currentTotalPriceSet"`
	TotalReceivedSet         amountJSON `json:"totalReceivedSet"`
	TotalRefundedSet         amountJSON `json:"totalRefundedSet"`
	TotalOutstandingSet      amountJSON `json:"totalOutstandingSet"`
	LineItems                *struct {
		Nodes []struct {
			ID                  string  `json:"id"`
			Title               string  `json:"title"`
			VariantTitle        *string `json:"variantTitle"`
			SKU                 *string `json:"sku"`
			Quantity            int     `json:"quantity"`
			CurrentQuantity     int     `json:"currentQuantity"`
			UnfulfilledQuantity int     `json:"unfulfilledQuantity"`
			Variant             *struct {
				ID string `json:"id"`
			} `json:"variant"`
			OriginalUnitPriceSet amountJSON `json:"originalUnitPriceSet"`
		} `json:"nodes"`
		PageInfo struct {
			HasNextPage bool `json:"hasNextPage"`
		} `json:"pageInfo"`
	} `json:"lineItems"`
	Fulfillments []struct {
		ID            string     `json:"id"`
		Name          string     `json:"name"`
		Status        string     `json:"status"`
		DisplayStatus *string    `json:"displayStatus"`
		CreatedAt     time.Time  `json:"createdAt"`
		UpdatedAt     time.Time  `json:"updatedAt"`
		DeliveredAt   *time.Time `json:"deliveredAt"`
		InTransitAt   *time.Time `json:"inTransitAt"`
		TrackingInfo  []struct {
			Company *string `json:"company"`
			Number  *string `json:"number"`
			URL     *string `json:"url"`
		} `json:"trackingInfo"`
		FulfillmentLineItems struct {
			Nodes []struct {
				Quantity *int `json:"quantity"`
				LineItem struct {
					ID string `json:"id"`
				} `json:"lineItem"`
			} `json:"nodes"`
		} `json:"fulfillmentLineItems"`
	} `json:"fulfillments"`
	Refunds []struct {
		ID               string     `json:"id"`
		CreatedAt        *time.Time `json:"createdAt"`
		Note             *string    `json:"note"`
		TotalRefundedSet amountJSON `json:"totalRefundedSet"`
		Transactions     struct {
			Nodes []txJSON `json:"nodes"`
		} `json:"transactions"`
		RefundLineItems struct {
			Nodes []struct {
				Quantity int `json:"quantity"`
				LineItem struct {
					ID string `json:"id"`
				} `json:"lineItem"`
				SubtotalSet amountJSON `json:"subtotalSet"`
			} `json:"nodes"`
		} `json:"refundLineItems"`
	} `json:"refunds"`
	Transactions []txJSON `json:"transactions"`
}

// order converts the decoded order.
func (o *orderJSON) order() (*Order, error) {
	if !strings.HasPrefix(o.ID, "gid://shopify/Order/") {
		return nil, fmt.Errorf("order has id %q", o.ID)
	}
	out := &Order{
		ID: o.ID, LegacyID: o.LegacyResourceID, Name: o.Name, StatusPageURL: o.StatusPageURL,
		SourceIdentifier: deref(o.SourceIdentifier), SourceName: deref(o.SourceName),
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Currency: o.CurrencyCode,
		Total: o.TotalPriceSet.ShopMoney.Amount, CurrentTotal: o.CurrentTotalPriceSet.ShopMoney.Amount,
		TotalReceived: o.TotalReceivedSet.ShopMoney.Amount, TotalRefunded: o.TotalRefundedSet.ShopMoney.Amount,
		TotalOutstanding:         o.TotalOutstandingSet.ShopMoney.Amount,
		DisplayFinancialStatus:   deref(o.DisplayFinancialStatus),
		DisplayFulfillmentStatus: o.DisplayFulfillmentStatus,
		CancelledAt:              o.CancelledAt, CancelReason: deref(o.CancelReason),
		Closed: o.Closed, Test: o.Test, Tags: o.Tags,
	}
	if li := o.LineItems; li != nil {
		out.MoreLineItems = li.PageInfo.HasNextPage
		for _, n := range li.Nodes {
			l := OrderLineItem{
				ID: n.ID, Title: n.Title, VariantTitle: deref(n.VariantTitle), SKU: deref(n.SKU),
				Quantity: n.Quantity, CurrentQuantity: n.CurrentQuantity, UnfulfilledQuantity: n.UnfulfilledQuantity,
				UnitPrice: n.OriginalUnitPriceSet.ShopMoney.Amount,
			}
			if n.Variant != nil {
				l.VariantID = n.Variant.ID
			}
			out.LineItems = append(out.LineItems, l)
		}
	}
	for _, f := range o.Fulfillments {
		ff := Fulfillment{
			ID: f.ID, Name: f.Name, Status: f.Status, DisplayStatus: deref(f.DisplayStatus),
			CreatedAt: f.CreatedAt, UpdatedAt: f.UpdatedAt, DeliveredAt: f.DeliveredAt, InTransitAt: f.InTransitAt,
		}
		for _, t := range f.TrackingInfo {
			ff.Tracking = append(ff.Tracking, Tracking{Company: deref(t.Company), Number: deref(t.Number), URL: deref(t.URL)})
		}
		for _, n := range f.FulfillmentLineItems.Nodes {
			fl := FulfillmentLine{LineItemID: n.LineItem.ID}
			if n.Quantity != nil {
				fl.Quantity = *n.Quantity
			}
			ff.Lines = append(ff.Lines, fl)
		}
		out.Fulfillments = append(out.Fulfillments, ff)
	}
	for _, r := range o.Refunds {
		rr := Refund{ID: r.ID, Note: deref(r.Note), Total: r.TotalRefundedSet.ShopMoney.Amount}
		if r.CreatedAt != nil {
			rr.CreatedAt = *r.CreatedAt
		}
		for _, t := range r.Transactions.Nodes {
			rr.Transactions = append(rr.Transactions, t.tx())
		}
		for _, n := range r.RefundLineItems.Nodes {
			rr.Lines = append(rr.Lines, RefundLine{LineItemID: n.LineItem.ID, Quantity: n.Quantity, Subtotal: n.SubtotalSet.ShopMoney.Amount})
		}
		out.Refunds = append(out.Refunds, rr)
	}
	for _, t := range o.Transactions {
		out.Transactions = append(out.Transactions, t.tx())
	}
	return out, nil
}

// orderRefQuery reads what names an order to its buyer: 3 points (the
// order and its total's two objects), where GetOrder's line items,
// fulfillments and transactions cost several times that.
const orderRefQuery = `query OrderRef($id: ID!) {
  order(id: $id) { id name statusPageUrl totalPriceSet { shopMoney { amount } } }
}`

// OrderRef is an order's id, name, status page and total.
type OrderRef struct {
	// ID is the order's GID; Total a decimal string in its currency.
	ID, Name, StatusPageURL, Total string
}

// GetOrderRef reads an order's name, status page and total (id is a GID);
// nil and no error when the order does not exist.
func GetOrderRef(ctx context.Context, q Querier, shop, id string) (*OrderRef, error) {
	if !strings.HasPrefix(id, "gid://shopify/Order/") {
		return nil, fmt.Errorf("get order: %q is not an Order GID", id)
	}
	var resp struct {
		Order *struct {
			ID            string     `json:"id"`
			Name          string     `json:"name"`
			StatusPageURL string     `json:"statusPageUrl"`
			TotalPriceSet amountJSON `json:"totalPriceSet"`
		} `json:"order"`
	}
	if err := q.Query(ctx, shop, orderRefQuery, map[string]any{"id": id}, &resp); err != nil {
		return nil, fmt.Errorf("get order %s: %w", id, err)
	}
	if resp.Order == nil {
		return nil, nil
	}
	o := resp.Order
	return &OrderRef{ID: o.ID, Name: o.Name, StatusPageURL: o.StatusPageURL, Total: o.TotalPriceSet.ShopMoney.Amount}, nil
}
