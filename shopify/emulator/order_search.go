package emulator

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// orderSortValue is an order's value for an OrderSortKeys key.
func orderSortValue(o *Order, key string) string {
	switch key {
	case "CREATED_AT":
		return o.CreatedAt.UTC().Format(sortableTime)
	case "UPDATED_AT":
		return o.UpdatedAt.UTC().Format(sortableTime)
	case "ORDER_NUMBER":
		return fmt.Sprintf("%012d", o.Number)
	case "TOTAL_PRICE", "CURRENT_TOTAL_PRICE":
		return fmt.Sprintf("%015d", o.TotalCents)
	case "ID":
		return ""
	}
	return o.ProcessedAt.UTC().Format(sortableTime) // PROCESSED_AT, the default
}

// matchOrder applies orders search terms: source_identifier, source_name,
// name, id, email, tag, tag_not, financial_status, fulfillment_status,
// status, test, created_at, updated_at, processed_at, and free text (name,
// email, source identifier). Unknown fields match everything.
func matchOrder(o *Order, terms []searchTerm) bool {
	for _, t := range terms {
		ok := true
		switch t.field {
		case "":
			ok = matchOrderName(o, t.value) || strings.EqualFold(o.Email, t.value) || strings.EqualFold(o.SourceIdentifier, t.value)
		case "source_identifier":
			ok = strings.EqualFold(o.SourceIdentifier, t.value)
		case "source_name":
			ok = strings.EqualFold(o.SourceName, t.value)
		case "name":
			ok = matchOrderName(o, t.value)
		case "id":
			ok = compareInt(o.ID, t)
		case "email":
			ok = strings.EqualFold(o.Email, t.value)
		case "tag":
			ok = slices.ContainsFunc(o.Tags, func(s string) bool { return strings.EqualFold(s, t.value) })
		case "tag_not":
			ok = !slices.ContainsFunc(o.Tags, func(s string) bool { return strings.EqualFold(s, t.value) })
		case "financial_status":
			ok = strings.EqualFold(o.FinancialStatus, t.value)
		case "fulfillment_status":
			ok = matchFulfillmentStatus(o, t.value)
		case "status":
			ok = matchOrderStatus(o, t.value)
		case "test":
			ok = strconv.FormatBool(o.Test) == strings.ToLower(t.value)
		case "created_at":
			ok = compareTime(o.CreatedAt, t)
		case "updated_at":
			ok = compareTime(o.UpdatedAt, t)
		case "processed_at":
			ok = compareTime(o.ProcessedAt, t)
		}
		if ok == t.negate {
			return false
		}
	}
	return true
}

// matchOrderName matches "#1001" or "1001".
func matchOrderName(o *Order, v string) bool {
	return strings.EqualFold(o.Name, v) || o.Name == "#"+v
}

func matchFulfillmentStatus(o *Order, v string) bool {
	st := o.FulfillmentStatus()
	switch strings.ToLower(v) {
	case "shipped", "fulfilled":
		return st == "FULFILLED"
	case "unshipped", "unfulfilled":
		return st == "UNFULFILLED"
	case "partial":
		return st == "PARTIALLY_FULFILLED"
	}
	return strings.EqualFold(st, v)
}

func matchOrderStatus(o *Order, v string) bool {
	cancelled, closed := !o.CancelledAt.IsZero(), !o.ClosedAt.IsZero()
	switch strings.ToLower(v) {
	case "open":
		return !closed && !cancelled
	case "closed":
		return closed
	case "cancelled":
		return cancelled
	case "not_closed":
		return !closed
	case "any":
		return true
	}
	return false
}
