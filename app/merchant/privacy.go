package merchant

import (
	"context"
	"encoding/json"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// TopicDataRequest is Shopify's privacy webhook asking what the shop holds
// on a customer (the shops package handles it; named here to pick its
// requests out of the others).
const TopicDataRequest = "customers/data_request"

// DataRequest is a customer's data request as the admin lists it: when it
// came, for which customer, what was found, and whether its export can be
// downloaded.
type DataRequest struct {
	ID          int64            `json:"id"`
	CustomerID  string           `json:"customer_id"`
	ReceivedAt  time.Time        `json:"received_at"`
	CompletedAt *time.Time       `json:"completed_at,omitempty"`
	Held        map[string]int64 `json:"held"`
	HasExport   bool             `json:"has_export"`
}

// DataRequests lists the shop's customer data requests, newest first.
func (a *Admin) DataRequests(ctx context.Context, sh *app.Shop) ([]DataRequest, error) {
	all, err := a.Store.ComplianceRequests(ctx, sh.Domain)
	if err != nil {
		return nil, err
	}
	out := []DataRequest{}
	for _, r := range all {
		if r.Topic != TopicDataRequest {
			continue
		}
		var report struct {
			Held map[string]int64 `json:"held"`
		}
		_ = json.Unmarshal(r.Report, &report) // a report we cannot read lists no counts
		out = append(out, DataRequest{ID: r.ID, CustomerID: r.CustomerID, ReceivedAt: r.ReceivedAt, CompletedAt: r.CompletedAt,
			Held: report.Held, HasExport: r.HasExport})
	}
	return out, nil
}

// DataRequestExport returns the export of the shop's data request id
// (JSON: app.CustomerExport), for the merchant to hand to the customer;
// ErrNotFound for another shop's request or one without an export.
func (a *Admin) DataRequestExport(ctx context.Context, sh *app.Shop, id int64) ([]byte, error) {
	return a.Store.ComplianceExport(ctx, sh.Domain, id)
}
