package merchant

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/orderevents"
)

// AgentOrder is one agent purchase as the orders list shows it.
type AgentOrder struct {
	SessionID     string
	SessionStatus string
	State         string // the completion's state (PaymentCompleted, …)
	Amount        int64
	Currency      string
	OrderID       string // Shopify GID
	OrderName     string
	KeyLabel      string
	KeyPrint      string
	APIVersion    string
	LastError     string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// OrderNumericID is the Shopify order's number in its GID.
func (o AgentOrder) OrderNumericID() string {
	if _, id, err := app.ParseGID(o.OrderID); err == nil {
		return strconv.FormatInt(id, 10)
	}
	return ""
}

// OrderPoint is a completed order for the chart.
type OrderPoint struct {
	At     time.Time
	Amount int64
}

// DayStat is one day of the chart.
type DayStat struct {
	Day     time.Time
	Orders  int
	Revenue int64
}

// OrdersPage is the orders list with its 30-day chart.
type OrdersPage struct {
	Orders   []AgentOrder
	Total    int64
	Page     int
	PageSize int
	Days     []DayStat
	Currency string
	Sum      DayStat
}

// ChartDays is the span of the orders chart.
const ChartDays = 30

// Orders lists agent orders (newest first) with the chart of the last
// ChartDays days (UTC), today included.
func (a *Admin) Orders(ctx context.Context, sh *app.Shop, page int) (*OrdersPage, error) {
	if page <= 0 {
		page = 1
	}
	if page > 100_000 {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "page", Message: "page is out of range"}
	}
	const size = 25
	orders, total, err := a.Store.AgentOrders(ctx, sh.ID, size, (page-1)*size)
	if err != nil {
		return nil, err
	}
	today := a.now().UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(ChartDays - 1))
	points, err := a.Store.CompletedSince(ctx, sh.ID, first)
	if err != nil {
		return nil, err
	}
	out := &OrdersPage{Orders: orders, Total: total, Page: page, PageSize: size, Currency: sh.CurrencyCode}
	out.Days = make([]DayStat, ChartDays)
	for i := range out.Days {
		out.Days[i].Day = first.AddDate(0, 0, i)
	}
	for _, p := range points {
		i := int(p.At.UTC().Sub(first) / (24 * time.Hour))
		if i < 0 || i >= ChartDays {
			continue
		}
		out.Days[i].Orders++
		out.Days[i].Revenue += p.Amount
		out.Sum.Orders++
		out.Sum.Revenue += p.Amount
	}
	return out, nil
}

// TimelineEntry is one thing that happened to an agent order.
type TimelineEntry struct {
	At     time.Time
	What   string
	Detail string
	OK     bool
}

// OrderDetail is one agent order with its timeline of events sent to the
// agent.
type OrderDetail struct {
	Order    AgentOrder
	Events   []*orderevents.Event
	Timeline []TimelineEntry
}

// Order reads one agent order and its timeline.
func (a *Admin) Order(ctx context.Context, shopID int64, sessionID string) (*OrderDetail, error) {
	if len(sessionID) > 100 {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "no such order"}
	}
	o, err := a.Store.AgentOrder(ctx, shopID, sessionID)
	if errors.Is(err, app.ErrNotFound) {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "no such order"}
	}
	if err != nil {
		return nil, err
	}
	d := &OrderDetail{Order: *o}
	d.Timeline = append(d.Timeline, TimelineEntry{At: o.CreatedAt, What: "Agent asked to complete", Detail: "API " + o.APIVersion, OK: true})
	if o.OrderName != "" {
		d.Timeline = append(d.Timeline, TimelineEntry{At: o.UpdatedAt, What: "Order " + o.OrderName + " created in Shopify", OK: true})
	}
	if o.LastError != "" {
		d.Timeline = append(d.Timeline, TimelineEntry{At: o.UpdatedAt, What: "Completion " + o.State, Detail: o.LastError})
	}
	if d.Events, err = a.Store.AgentEvents(ctx, shopID, sessionID); err != nil {
		return nil, err
	}
	for _, ev := range d.Events {
		atts, err := a.Store.AgentEventAttempts(ctx, ev.ID)
		if err != nil {
			return nil, err
		}
		if len(atts) == 0 {
			d.Timeline = append(d.Timeline, TimelineEntry{At: ev.CreatedAt, What: ev.Type + " event " + ev.Status, Detail: ev.LastError, OK: ev.Status != orderevents.Failed})
		}
		for _, at := range atts {
			e := TimelineEntry{At: at.AttemptedAt, What: ev.Type + " sent to the agent", OK: at.Error == ""}
			switch {
			case at.Error != "":
				e.Detail = at.Error
			default:
				e.Detail = fmt.Sprintf("HTTP %d in %d ms", at.StatusCode, at.Duration.Milliseconds())
			}
			d.Timeline = append(d.Timeline, e)
		}
	}
	slices.SortStableFunc(d.Timeline, func(x, y TimelineEntry) int { return x.At.Compare(y.At) })
	return d, nil
}
