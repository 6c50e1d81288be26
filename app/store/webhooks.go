package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/shops"
)

// webhookEventRow is the webhook_events table.
type webhookEventRow struct {
	ID           int64 `gorm:"primaryKey"`
	WebhookID    string
	Shop         string
	Topic        string
	EventID      string
	APIVersion   string
	TriggeredAt  *time.Time
	Payload      string
	ReceivedAt   time.Time
	ProcessedAt  *time.Time
	Outcome      string
	ClaimedUntil *time.Time
}

func (webhookEventRow) TableName() string { return "webhook_events" }

func toAppWebhookEvent(r webhookEventRow) *app.WebhookEvent {
	return &app.WebhookEvent{
		ID: r.ID, WebhookID: r.WebhookID, Shop: r.Shop, Topic: r.Topic, EventID: r.EventID,
		APIVersion: r.APIVersion, TriggeredAt: utcPtr(r.TriggeredAt), Payload: []byte(r.Payload),
		ReceivedAt: r.ReceivedAt.UTC(), ProcessedAt: utcPtr(r.ProcessedAt), Outcome: r.Outcome,
		ClaimedUntil: utcPtr(r.ClaimedUntil),
	}
}

// InsertWebhookEvent stores a delivery unless one with the same webhook id,
// or the same event id for the same shop and topic, is already stored;
// duplicate reports the latter (a redelivery: Shopify may send one event
// under several webhook ids). Both are unique indexes, so replicas racing
// with the same delivery store it once.
func (s *Store) InsertWebhookEvent(ctx context.Context, ev app.WebhookEvent) (id int64, duplicate bool, err error) {
	row := webhookEventRow{
		WebhookID: ev.WebhookID, Shop: ev.Shop, Topic: ev.Topic, EventID: ev.EventID, APIVersion: ev.APIVersion,
		TriggeredAt: ev.TriggeredAt, Payload: string(ev.Payload), ReceivedAt: s.Now(), ClaimedUntil: ev.ClaimedUntil,
	}
	return s.insertWebhookEvent(ctx, row, "insert webhook event")
}

// insertWebhookEvent inserts row unless it clashes with a stored delivery.
func (s *Store) insertWebhookEvent(ctx context.Context, row webhookEventRow, what string) (id int64, duplicate bool, err error) {
	// No conflict target: a clash on either unique index is a duplicate.
	res := s.conn(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&row)
	if res.Error != nil {
		return 0, false, translate(res.Error, what)
	}
	if res.RowsAffected == 0 {
		return 0, true, nil
	}
	return row.ID, false, nil
}

// WebhookEvent returns a stored delivery.
func (s *Store) WebhookEvent(ctx context.Context, id int64) (*app.WebhookEvent, error) {
	var r webhookEventRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("webhook event %d", id))
	}
	return toAppWebhookEvent(r), nil
}

// ClaimWebhookEvent takes an unprocessed delivery for a job until until:
// claimed reports whether it was free (unclaimed, or its claim past at
// now). Otherwise the delivery is returned as it is (processed, or claimed
// by another until its ClaimedUntil), or ErrNotFound.
func (s *Store) ClaimWebhookEvent(ctx context.Context, id int64, now, until time.Time) (ev *app.WebhookEvent, claimed bool, err error) {
	var rows []webhookEventRow
	err = s.conn(ctx).Raw(`UPDATE webhook_events SET claimed_until = ?
		WHERE id = ? AND processed_at IS NULL AND (claimed_until IS NULL OR claimed_until <= ?) RETURNING *`, until, id, now).
		Scan(&rows).Error
	if err != nil {
		return nil, false, translate(err, fmt.Sprintf("claim webhook event %d", id))
	}
	if len(rows) == 1 {
		return toAppWebhookEvent(rows[0]), true, nil
	}
	ev, err = s.WebhookEvent(ctx, id)
	return ev, false, err
}

// ReleaseWebhookEvent gives an unprocessed delivery back to the job that
// claimed it and failed (River retries it): no claim, so the sweep leaves
// it alone.
func (s *Store) ReleaseWebhookEvent(ctx context.Context, id int64) error {
	err := s.conn(ctx).Model(&webhookEventRow{}).Where("id = ? AND processed_at IS NULL", id).Update("claimed_until", nil).Error
	return translate(err, "release webhook event")
}

// HandOverWebhookEvents takes up to limit unprocessed deliveries whose
// claim is past at now (their inline processing failed, or its process
// died) and clears their claim: the caller enqueues their jobs in the same
// transaction.
func (s *Store) HandOverWebhookEvents(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	ids, err := s.handOverClaimed(ctx, "webhook_events", "processed_at IS NULL", nil, now, limit)
	return ids, translate(err, "hand over webhook events")
}

// handOverClaimed clears the lapsed claims (claimed_until before now) of at
// most limit rows of table that still match pending (with its args), oldest
// claim first, and returns their ids: a sweep's hand-over to River. The
// condition is repeated outside the subquery: PostgreSQL checks it again on
// a row another transaction changed meanwhile, so two sweeps never both
// hand the same row over.
func (s *Store) handOverClaimed(ctx context.Context, table, pending string, args []any, now time.Time, limit int) ([]int64, error) {
	due := "claimed_until IS NOT NULL AND claimed_until < ? AND " + pending
	dueArgs := append([]any{now}, args...)
	all := append(append(append([]any{}, dueArgs...), dueArgs...), limit)
	var ids []int64
	err := s.conn(ctx).Raw(`UPDATE `+table+` SET claimed_until = NULL WHERE `+due+` AND id IN (
		SELECT id FROM `+table+` WHERE `+due+` ORDER BY claimed_until LIMIT ?) RETURNING id`, all...).Find(&ids).Error
	return ids, err
}

// FinishWebhookEvent records the outcome of processing a delivery and drops
// its payload: the payload may carry buyers' details, and once processed we
// have no use for it.
func (s *Store) FinishWebhookEvent(ctx context.Context, id int64, outcome string) error {
	err := s.conn(ctx).Model(&webhookEventRow{}).Where("id = ?", id).Updates(map[string]any{
		"processed_at": s.Now(), "outcome": outcome, "payload": "{}", "claimed_until": nil,
	}).Error
	return translate(err, "finish webhook event")
}

// NoteWebhookEvent records why a delivery is not processed yet; it stays
// unprocessed, its payload kept, for the job scheduled to look at it again
// (which owns it: its claim is cleared).
func (s *Store) NoteWebhookEvent(ctx context.Context, id int64, outcome string) error {
	err := s.conn(ctx).Model(&webhookEventRow{}).Where("id = ? AND processed_at IS NULL", id).
		Updates(map[string]any{"outcome": outcome, "claimed_until": nil}).Error
	return translate(err, "note webhook event")
}

// WebhookEvents lists a shop's recent deliveries, newest first.
func (s *Store) WebhookEvents(ctx context.Context, shop string, limit int) ([]*app.WebhookEvent, error) {
	var rows []webhookEventRow
	if err := s.conn(ctx).Where("shop = ?", shop).Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "list webhook events")
	}
	out := make([]*app.WebhookEvent, len(rows))
	for i, r := range rows {
		out[i] = toAppWebhookEvent(r)
	}
	return out, nil
}

// PruneWebhookEvents deletes processed deliveries received before cutoff;
// Shopify stops redelivering after 4 hours, so their ids are no longer
// needed for deduplication long before that.
func (s *Store) PruneWebhookEvents(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.conn(ctx).Where("processed_at IS NOT NULL AND received_at < ?", cutoff).Delete(&webhookEventRow{})
	return res.RowsAffected, translate(res.Error, "prune webhook events")
}

// complianceRow is the compliance_requests table.
type complianceRow struct {
	ID          int64 `gorm:"primaryKey"`
	Shop        string
	Topic       string
	WebhookID   string
	CustomerID  string
	Report      string
	ReceivedAt  time.Time
	CompletedAt *time.Time
	// ExportSealed is a data request's export, sealed (app.ComplianceExportAAD).
	ExportSealed *string
}

func (complianceRow) TableName() string { return "compliance_requests" }

// SaveComplianceRequest records a privacy request and what was done about
// it; saving the same webhook again updates the record.
func (s *Store) SaveComplianceRequest(ctx context.Context, r app.ComplianceRequest) error {
	row := complianceRow{
		Shop: r.Shop, Topic: r.Topic, WebhookID: r.WebhookID, CustomerID: r.CustomerID,
		Report: string(r.Report), ReceivedAt: r.ReceivedAt.UTC(), CompletedAt: r.CompletedAt,
	}
	if len(r.Export) > 0 {
		// The export is the customer's personal data: sealed, bound to
		// the request.
		if s.keys == nil {
			return errNoKeys
		}
		sealed, err := s.keys.Seal(r.Export, app.ComplianceExportAAD(r.WebhookID))
		if err != nil {
			return fmt.Errorf("seal data request export: %w", err)
		}
		row.ExportSealed = &sealed
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "webhook_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"report", "completed_at", "export_sealed"}),
	}).Create(&row).Error
	return translate(err, "save compliance request")
}

// ComplianceRequests lists a shop's privacy requests, newest first.
func (s *Store) ComplianceRequests(ctx context.Context, shop string) ([]*app.ComplianceRequest, error) {
	var rows []struct {
		Row       complianceRow `gorm:"embedded"`
		HasExport bool
	}
	// The exports stay in the database: a listing only says which has one.
	if err := s.conn(ctx).Model(&complianceRow{}).
		Select("id, shop, topic, webhook_id, customer_id, report, received_at, completed_at, export_sealed IS NOT NULL AS has_export").
		Where("shop = ?", shop).Order("id DESC").Scan(&rows).Error; err != nil {
		return nil, translate(err, "list compliance requests")
	}
	out := make([]*app.ComplianceRequest, len(rows))
	for i, q := range rows {
		r := q.Row
		out[i] = &app.ComplianceRequest{
			ID: r.ID, Shop: r.Shop, Topic: r.Topic, WebhookID: r.WebhookID, CustomerID: r.CustomerID,
			Report: []byte(r.Report), ReceivedAt: r.ReceivedAt.UTC(), CompletedAt: utcPtr(r.CompletedAt), HasExport: q.HasExport,
		}
	}
	return out, nil
}

// ComplianceExport returns the export of the shop's data request id,
// opened; ErrNotFound when the shop has no such request or it has no
// export.
func (s *Store) ComplianceExport(ctx context.Context, shop string, id int64) ([]byte, error) {
	var r complianceRow
	if err := s.conn(ctx).Where("id = ? AND shop = ? AND export_sealed IS NOT NULL", id, shop).Take(&r).Error; err != nil {
		return nil, translate(err, "data request export")
	}
	if s.keys == nil {
		return nil, errNoKeys
	}
	b, err := s.keys.Open(*r.ExportSealed, app.ComplianceExportAAD(r.WebhookID))
	if err != nil {
		return nil, fmt.Errorf("open the export of data request %d: %w", id, err)
	}
	return b, nil
}

// CustomerData counts, per table, the rows we hold that concern a customer
// of the shop (by email or Shopify customer id). It is what a
// customers/data_request reports. As tables that hold buyers' details are
// added, they are added here and to RedactCustomer.
func (s *Store) CustomerData(ctx context.Context, shop string, c app.CustomerRef) (map[string]int64, error) {
	out := map[string]int64{}
	var n int64
	if err := s.customerEvents(ctx, shop, c).Count(&n).Error; err != nil {
		return nil, translate(err, "customer data")
	}
	out["webhook_events"] = n
	if err := s.customerSessions(ctx, shop, c).Count(&n).Error; err != nil {
		return nil, translate(err, "customer data")
	}
	out["checkout_sessions"] = n
	if err := s.customerCarts(ctx, shop, c).Count(&n).Error; err != nil {
		return nil, translate(err, "customer data")
	}
	out["carts"] = n
	return out, nil
}

// RedactCustomer deletes a customer's personal data from our tables and
// reports how many rows each table had.
func (s *Store) RedactCustomer(ctx context.Context, shop string, c app.CustomerRef) (map[string]int64, error) {
	out := map[string]int64{}
	res := s.customerEvents(ctx, shop, c).Update("payload", "{}")
	if res.Error != nil {
		return nil, translate(res.Error, "redact customer")
	}
	out["webhook_events"] = res.RowsAffected
	// Checkout sessions keep the buyer and the address in their state:
	// those go, the priced cart (no personal data) stays for the records.
	var rows []checkoutSessionRow
	if err := s.customerSessions(ctx, shop, c).Find(&rows).Error; err != nil {
		return nil, translate(err, "redact customer sessions")
	}
	for _, r := range rows {
		var st checkout.State
		if err := json.Unmarshal([]byte(r.State), &st); err != nil {
			return nil, fmt.Errorf("redact customer: session %s: %w", r.ID, err)
		}
		st.ForgetBuyer()
		b, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		if err := s.conn(ctx).Model(&checkoutSessionRow{}).Where("id = ?", r.ID).
			Updates(map[string]any{"state": string(b), "buyer_sealed": nil, "buyer_index": nil}).Error; err != nil {
			return nil, translate(err, "redact customer sessions")
		}
		// The row version stays: an update's claiming write guards the
		// buyer as remembered too (idempotency_update.go); this replica's
		// memory of the buyer goes now.
		s.forgetSession(r.ShopID, r.ID)
	}
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	// The billing address the complete request gave goes too.
	if err := s.forgetPaymentPersonal(ctx, ids); err != nil {
		return nil, fmt.Errorf("redact customer: %w", err)
	}
	out["checkout_sessions"] = int64(len(rows))
	// An export made for the customer's data request holds their data.
	if c.ID != "" {
		n, err := s.forgetExports(ctx, shop, c.ID)
		if err != nil {
			return nil, err
		}
		out["compliance_exports"] = n
	}
	// Carts keep the buyer the agent gave: it goes, the items stay until
	// the cart expires.
	var carts []cartRow
	if err := s.customerCarts(ctx, shop, c).Find(&carts).Error; err != nil {
		return nil, translate(err, "redact customer carts")
	}
	for _, r := range carts {
		var st checkout.CartState
		if err := json.Unmarshal([]byte(r.State), &st); err != nil {
			return nil, fmt.Errorf("redact customer: cart %s: %w", r.ID, err)
		}
		st.ForgetBuyer()
		b, err := json.Marshal(st)
		if err != nil {
			return nil, err
		}
		if err := s.conn(ctx).Model(&cartRow{}).Where("id = ?", r.ID).
			Updates(map[string]any{"state": string(b), "buyer_sealed": nil, "buyer_index": nil}).Error; err != nil {
			return nil, translate(err, "redact customer carts")
		}
	}
	out["carts"] = int64(len(carts))
	return out, nil
}

// customerSessions selects the shop's checkout sessions of the customer's
// email (sessions know buyers by email only), by its blind index
// (byBuyerEmail).
func (s *Store) customerSessions(ctx context.Context, shop string, c app.CustomerRef) *gorm.DB {
	q := s.conn(ctx).Model(&checkoutSessionRow{}).
		Where("shop_id IN (?)", s.conn(ctx).Model(&shopRow{}).Select("id").Where("domain = ?", shop))
	return s.byBuyerEmail(q, c.Email)
}

// customerEvents selects unprocessed deliveries whose payload names the
// customer (processed ones have no payload left).
func (s *Store) customerEvents(ctx context.Context, shop string, c app.CustomerRef) *gorm.DB {
	// Privacy requests themselves name the customer; they are not data we
	// hold on them but the request to act on it.
	q := s.conn(ctx).Model(&webhookEventRow{}).Where("shop = ? AND payload <> '{}' AND topic NOT IN ?", shop, shops.ComplianceTopics)
	// A bare id would match any number containing it; Shopify's payloads
	// name customers by their GraphQL id, which ends with a quote.
	has, gid := s.containsSQL("payload"), `gid://shopify/Customer/`+c.ID+`"`
	switch {
	case c.Email != "" && c.ID != "":
		q = q.Where("("+has+" OR "+has+")", c.Email, gid)
	case c.Email != "":
		q = q.Where(has, c.Email)
	case c.ID != "":
		q = q.Where(has, gid)
	default:
		q = q.Where("1 = 0")
	}
	return q
}

// DeleteShopData deletes everything we hold for a shop (shop/redact), but
// only a shop that is uninstalled and has been since uninstalledBefore: the
// shop row goes first, by one conditional statement, so a reinstall that
// commits first keeps everything (counts["shops"] is then 0 and nothing
// else is deleted). Its keys and other rows go with it by cascade, then
// its OAuth states and its deliveries other than keepWebhookID (the one
// being processed, whose payload is cleared when it finishes). It reports
// counts.
func (s *Store) DeleteShopData(ctx context.Context, shop string, uninstalledBefore time.Time, keepWebhookID string) (map[string]int64, error) {
	out := map[string]int64{}
	// Forgotten once committed too: a read between the DELETE and the
	// commit may have kept the row as it was.
	defer s.forgetShopDomain(shop)
	err := s.InTx(ctx, func(ctx context.Context) error {
		due := s.conn(ctx).Model(&shopRow{}).Select("id").
			Where("domain = ? AND status = ? AND uninstalled_at IS NOT NULL AND uninstalled_at <= ?", shop, string(app.ShopUninstalled), uninstalledBefore)
		var keys int64
		if err := s.conn(ctx).Model(&apiKeyRow{}).Where("shop_id IN (?)", due).Count(&keys).Error; err != nil {
			return translate(err, "delete shop data: api_keys")
		}
		res := s.conn(ctx).Where("domain = ? AND status = ? AND uninstalled_at IS NOT NULL AND uninstalled_at <= ?",
			shop, string(app.ShopUninstalled), uninstalledBefore).Delete(&shopRow{})
		if res.Error != nil {
			return translate(res.Error, "delete shop data: shops")
		}
		out["shops"], out["api_keys"] = res.RowsAffected, keys
		s.forgetShopDomain(shop)
		if res.RowsAffected == 0 {
			out["api_keys"] = 0
			return nil
		}
		steps := []struct {
			table string
			run   func() (int64, error)
		}{
			{"webhook_events", func() (int64, error) {
				res := s.conn(ctx).Where("shop = ? AND webhook_id <> ?", shop, keepWebhookID).Delete(&webhookEventRow{})
				return res.RowsAffected, res.Error
			}},
			{"oauth_states", func() (int64, error) {
				res := s.conn(ctx).Where("shop = ?", shop).Delete(&oauthStateRow{})
				return res.RowsAffected, res.Error
			}},
			// The requests' records stay (what was asked and done); the
			// exports, the customers' data, go.
			{"compliance_exports", func() (int64, error) { return s.forgetExports(ctx, shop, "") }},
		}
		for _, st := range steps {
			n, err := st.run()
			if err != nil {
				return translate(err, "delete shop data: "+st.table)
			}
			out[st.table] = n
		}
		return nil
	})
	return out, err
}

// ForgetDataRequestExports deletes the exports of the data requests
// received before cutoff (the merchant had the retention period to
// download them); the requests' records and reports stay.
func (s *Store) ForgetDataRequestExports(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.conn(ctx).Model(&complianceRow{}).Where("export_sealed IS NOT NULL AND received_at < ?", cutoff.UTC()).
		UpdateColumn("export_sealed", nil)
	return res.RowsAffected, translate(res.Error, "forget data request exports")
}

// forgetExports deletes the exports of the shop's data requests, those of
// one customer when customerID is not empty (customers/redact, shop/redact).
func (s *Store) forgetExports(ctx context.Context, shop, customerID string) (int64, error) {
	q := s.conn(ctx).Model(&complianceRow{}).Where("shop = ? AND export_sealed IS NOT NULL", shop)
	if customerID != "" {
		q = q.Where("customer_id = ?", customerID)
	}
	res := q.UpdateColumn("export_sealed", nil)
	return res.RowsAffected, translate(res.Error, "forget data request exports")
}
