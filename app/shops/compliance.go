package shops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/acpbridge/acpbridge/app"
)

// ShopRedactDelay is how long after an uninstall Shopify sends shop/redact;
// a shop is deleted only once it has been uninstalled that long.
const ShopRedactDelay = 48 * time.Hour

// shopRedact deletes everything held for the shop, but only for a shop
// that has been uninstalled for ShopRedactDelay: Shopify sends shop/redact
// that long after an uninstall, so a shop that is installed (never
// uninstalled, or reinstalled since) is kept, whoever sent the request,
// and the outcome says why. A shop uninstalled more recently is looked at
// again once the delay has run (a *webhookDeferred error), since our
// uninstall time may lag Shopify's by the time app/uninstalled took.
func (s *Shopify) shopRedact(ctx context.Context, ev *app.WebhookEvent, report map[string]any) (string, map[string]int64, error) {
	keep := func(reason string) (string, map[string]int64, error) {
		s.Logger.WarnContext(ctx, "shop/redact deleted nothing", "shop", ev.Shop, "webhook_id", ev.WebhookID, "reason", reason)
		report["kept"] = reason
		return "deleted nothing: " + reason, nil, nil
	}
	sh, err := s.Store.ShopByDomain(ctx, ev.Shop)
	switch {
	case errors.Is(err, app.ErrNotFound):
		return keep("nothing is held for the shop")
	case err != nil:
		return "", nil, err
	case sh.Status != app.ShopUninstalled || sh.UninstalledAt == nil:
		return keep("the shop is installed")
	}
	now := s.Now()
	if due := sh.UninstalledAt.Add(ShopRedactDelay); now.Before(due) {
		s.Logger.InfoContext(ctx, "shop/redact before the shop has been uninstalled 48 h; looked at again then",
			"shop", ev.Shop, "webhook_id", ev.WebhookID, "due", due)
		return "", nil, &webhookDeferred{until: due}
	}
	counts, err := s.Store.DeleteShopData(ctx, ev.Shop, now.Add(-ShopRedactDelay), ev.WebhookID)
	if err != nil {
		return "", nil, err
	}
	if counts["shops"] == 0 {
		// Reinstalled between the check and the deletion: the store
		// deletes only a shop uninstalled long enough, and nothing else.
		return keep("the shop was reinstalled")
	}
	report["deleted"] = counts
	return "deleted everything held for the shop", counts, nil
}

// compliancePayload is the part of Shopify's privacy webhooks we use.
type compliancePayload struct {
	ShopDomain string `json:"shop_domain"`
	Customer   struct {
		ID    json.Number `json:"id"`
		Email string      `json:"email"`
	} `json:"customer"`
	OrdersRequested []json.Number `json:"orders_requested"`
	OrdersToRedact  []json.Number `json:"orders_to_redact"`
	DataRequest     struct {
		ID json.Number `json:"id"`
	} `json:"data_request"`
}

// handleCompliance does what a privacy webhook asks and records it: for a
// data request, a report of what we hold on the customer (counts per
// table) and the export of it, which the merchant downloads from the admin
// and hands to the customer (dataRequest); for a customer
// redaction, that customer's personal data deleted from our tables; for a
// shop redaction, everything we hold for the shop deleted.
func (s *Shopify) handleCompliance(ctx context.Context, ev *app.WebhookEvent) (string, error) {
	var p compliancePayload
	dec := json.NewDecoder(bytes.NewReader(ev.Payload))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return "rejected: payload is not the documented shape", nil
	}
	ref := app.CustomerRef{ID: p.Customer.ID.String(), Email: p.Customer.Email}
	report := map[string]any{}
	var (
		counts map[string]int64
		err    error
		what   string
		export []byte
	)
	switch ev.Topic {
	case TopicCustomersDataRequest:
		counts, export, err = s.dataRequest(ctx, ev.Shop, ref)
		report["held"] = counts
		report["orders_requested"] = len(p.OrdersRequested)
		report["data_request_id"] = p.DataRequest.ID.String()
		what = "exported what we hold on the customer"
	case TopicCustomersRedact:
		counts, err = s.Store.RedactCustomer(ctx, ev.Shop, ref)
		report["redacted"] = counts
		report["orders_to_redact"] = len(p.OrdersToRedact)
		what = "deleted the customer's personal data"
	case TopicShopRedact:
		what, counts, err = s.shopRedact(ctx, ev, report)
		var later *webhookDeferred
		if errors.As(err, &later) {
			return "waiting: the shop was uninstalled less than 48 h ago; looked at again at " + later.until.Format(time.RFC3339), err
		}
	}
	if err != nil {
		return "", err
	}
	b, _ := json.Marshal(report)
	now := s.Now().UTC()
	err = s.Store.SaveComplianceRequest(ctx, app.ComplianceRequest{
		Shop: ev.Shop, Topic: ev.Topic, WebhookID: ev.WebhookID, CustomerID: ref.ID,
		Report: b, ReceivedAt: ev.ReceivedAt, CompletedAt: &now, Export: export,
	})
	if err != nil {
		return "", err
	}
	total := int64(0)
	for _, n := range counts {
		total += n
	}
	return what + " (" + strconv.FormatInt(total, 10) + " rows)", nil
}

// dataRequest counts what is held on the customer and exports it (JSON of
// app.CustomerExport): the checkout sessions and carts that name the
// customer, with their buyer, address, lines and order. The store keeps
// the export sealed with the request.
func (s *Shopify) dataRequest(ctx context.Context, shop string, ref app.CustomerRef) (map[string]int64, []byte, error) {
	counts, err := s.Store.CustomerData(ctx, shop, ref)
	if err != nil {
		return nil, nil, err
	}
	exp, err := s.Store.CustomerExport(ctx, shop, ref)
	if err != nil {
		return nil, nil, err
	}
	b, err := json.MarshalIndent(exp, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("data request export: %w", err)
	}
	return counts, b, nil
}
