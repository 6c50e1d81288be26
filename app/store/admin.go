package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/checkout"
	"github.com/acpbridge/acpbridge/app/merchant"
)

// The merchant admin's queries: a filtered, paginated products table and
// the agent orders list. Each is a few indexed queries, so a page stays
// well under 100 ms at 10,000 products (BenchmarkAdminPages).

// excludedSQL is true for a product the feed leaves out: not ACTIVE, not
// on the Online Store, excluded by its own rule, or (with no product rule
// deciding) by one of its collections' rules. It mirrors feed.Eligibility
// and the rule merge in app (rules.override); the admin test checks that
// the filter and the per-row status agree. Its subqueries are IN lists,
// which both databases compute once, not once per product. Arguments:
// shop, true, shop, shop, true.
const excludedSQL = `(p.status <> 'ACTIVE' OR p.online_store_url = ''
 OR p.product_id IN (SELECT r.target_id FROM feed_rules r WHERE r.shop_id = ? AND r.scope = 'product' AND r.exclude = ?)
 OR (p.product_id NOT IN (SELECT r.target_id FROM feed_rules r WHERE r.shop_id = ? AND r.scope = 'product' AND r.exclude IS NOT NULL)
   AND p.product_id IN (SELECT c.product_id FROM catalog_collections c JOIN feed_rules r ON r.shop_id = c.shop_id
       AND r.scope = 'collection' AND r.target_id = c.collection_id WHERE c.shop_id = ? AND r.exclude = ?)))`

// invalidSQL is true for a product with a variant that had an error in the
// given build (feed_problems keeps up to 10,000 problems per build).
// Arguments: shop, build.
const invalidSQL = `p.product_id IN (SELECT v.product_id FROM catalog_variants v WHERE v.shop_id = ?
 AND CAST(v.variant_id AS TEXT) IN (SELECT fp.item_id FROM feed_problems fp WHERE fp.build_id = ? AND fp.severity = 'error'))`

// likePattern makes a case-insensitive substring pattern of s, its LIKE
// wildcards escaped (with ESCAPE '\').
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(strings.ToLower(s)) + "%"
}

// AdminProducts returns a page of the shop's products matching q, ordered
// by title, with their variants, media and collections.
func (s *Store) AdminProducts(ctx context.Context, shopID int64, q merchant.ProductQuery) (*app.CatalogPage, int64, error) {
	filter := func(db *gorm.DB) *gorm.DB {
		db = db.Table("catalog_products AS p").Where("p.shop_id = ?", shopID)
		if q.ProductID != 0 {
			db = db.Where("p.product_id = ?", q.ProductID)
		}
		if q.Search != "" {
			like := likePattern(q.Search)
			db = db.Where(`(LOWER(p.title) LIKE ? ESCAPE '\' OR LOWER(p.vendor) LIKE ? ESCAPE '\' OR LOWER(p.handle) LIKE ? ESCAPE '\'
 OR p.product_id IN (SELECT v.product_id FROM catalog_variants v WHERE v.shop_id = ? AND LOWER(v.sku) LIKE ? ESCAPE '\'))`,
				like, like, like, shopID, like)
		}
		if q.CollectionID != 0 {
			db = db.Where(`p.product_id IN (SELECT c.product_id FROM catalog_collections c WHERE c.shop_id = ? AND c.collection_id = ?)`,
				shopID, q.CollectionID)
		}
		excluded := []any{shopID, true, shopID, shopID, true}
		switch q.Status {
		case merchant.ProductExcluded:
			db = db.Where(excludedSQL, excluded...)
		case merchant.ProductInvalid:
			db = db.Where("NOT "+excludedSQL, excluded...).Where(invalidSQL, shopID, q.LastBuildID)
		case merchant.ProductPublished:
			db = db.Where("NOT "+excludedSQL, excluded...).Where("NOT "+invalidSQL, shopID, q.LastBuildID)
		}
		return db
	}
	// The page's ids and the total in one query; the sort carries only
	// the title and id, not whole rows.
	var hits []struct {
		ProductID int64
		Total     int64
	}
	err := filter(s.conn(ctx)).Select("p.product_id, COUNT(*) OVER () AS total").Order("p.title, p.product_id").
		Limit(q.PageSize).Offset((q.Page - 1) * q.PageSize).Scan(&hits).Error
	if err != nil {
		return nil, 0, translate(err, "admin products")
	}
	var total int64
	if len(hits) > 0 {
		total = hits[0].Total
	} else if q.Page > 1 { // past the end: count to tell how many pages there are
		if err := filter(s.conn(ctx)).Count(&total).Error; err != nil {
			return nil, 0, translate(err, "admin products count")
		}
	}
	ids := make([]int64, len(hits))
	order := make(map[int64]int, len(hits))
	for i, h := range hits {
		ids[i], order[h.ProductID] = h.ProductID, i
	}
	var prows []catalogProductRow
	if len(ids) > 0 {
		if err := s.conn(ctx).Where("shop_id = ? AND product_id IN ?", shopID, ids).Find(&prows).Error; err != nil {
			return nil, 0, translate(err, "admin products")
		}
	}
	slices.SortFunc(prows, func(a, b catalogProductRow) int { return order[a.ProductID] - order[b.ProductID] })
	page := &app.CatalogPage{
		Products: make([]app.CatalogProduct, len(prows)), Variants: map[int64][]app.CatalogVariant{},
		Media: map[int64][]app.CatalogMedia{}, Collections: map[int64][]app.CatalogCollection{},
	}
	for i, r := range prows {
		page.Products[i] = toAppCatalogProduct(r)
	}
	if len(ids) == 0 {
		return page, total, nil
	}
	var vrows []catalogVariantRow
	if err := s.conn(ctx).Where("shop_id = ? AND product_id IN ?", shopID, ids).Order("product_id, position, variant_id").
		Find(&vrows).Error; err != nil {
		return nil, 0, translate(err, "admin product variants")
	}
	for _, r := range vrows {
		page.Variants[r.ProductID] = append(page.Variants[r.ProductID], toAppCatalogVariant(r))
	}
	var mrows []catalogMediaRow
	if err := s.conn(ctx).Where("shop_id = ? AND product_id IN ?", shopID, ids).Order("product_id, position").
		Find(&mrows).Error; err != nil {
		return nil, 0, translate(err, "admin product media")
	}
	for _, r := range mrows {
		page.Media[r.ProductID] = append(page.Media[r.ProductID], app.CatalogMedia{
			MediaID: r.MediaID, ProductID: r.ProductID, Position: r.Position, URL: r.URL, Alt: r.Alt, Width: r.Width, Height: r.Height,
		})
	}
	var crows []catalogCollectionRow
	if err := s.conn(ctx).Where("shop_id = ? AND product_id IN ?", shopID, ids).Order("product_id, collection_id").
		Find(&crows).Error; err != nil {
		return nil, 0, translate(err, "admin product collections")
	}
	for _, r := range crows {
		page.Collections[r.ProductID] = append(page.Collections[r.ProductID], app.CatalogCollection{ProductID: r.ProductID, CollectionID: r.CollectionID, Title: r.Title})
	}
	return page, total, nil
}

// CatalogCollections lists the shop's collections with how many synced
// products each holds, by title.
func (s *Store) CatalogCollections(ctx context.Context, shopID int64) ([]merchant.CollectionSummary, error) {
	var rows []struct {
		CollectionID int64
		Title        string
		Products     int64
	}
	err := s.conn(ctx).Table("catalog_collections").Select("collection_id, MAX(title) AS title, COUNT(*) AS products").
		Where("shop_id = ?", shopID).Group("collection_id").Order("title, collection_id").Limit(500).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "catalog collections")
	}
	out := make([]merchant.CollectionSummary, len(rows))
	for i, r := range rows {
		out[i] = merchant.CollectionSummary{CollectionID: r.CollectionID, Title: r.Title, Products: r.Products}
	}
	return out, nil
}

// agentOrderRow is a completion joined with its session and agent key.
type agentOrderRow struct {
	SessionID     string
	SessionStatus string
	State         string
	Amount        int64
	Currency      string
	OrderID       string
	OrderName     string
	LastError     string
	APIVersion    string
	KeyLabel      *string
	KeyPrint      *string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (r agentOrderRow) toApp() merchant.AgentOrder {
	return merchant.AgentOrder{
		SessionID: r.SessionID, SessionStatus: r.SessionStatus, State: r.State, Amount: r.Amount, Currency: r.Currency,
		OrderID: r.OrderID, OrderName: r.OrderName, LastError: r.LastError, APIVersion: r.APIVersion,
		KeyLabel: deref(r.KeyLabel), KeyPrint: deref(r.KeyPrint), CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

const agentOrderSelect = `cp.session_id, cs.status AS session_status, cp.state, cp.amount, cp.currency, cp.order_id,
 cp.order_name, cp.last_error, cs.api_version, k.label AS key_label, k.fingerprint AS key_print, cp.created_at, cp.updated_at`

func (s *Store) agentOrders(ctx context.Context, shopID int64) *gorm.DB {
	return s.conn(ctx).Table("checkout_payments AS cp").
		Joins("JOIN checkout_sessions cs ON cs.id = cp.session_id AND cs.shop_id = cp.shop_id").
		Joins("LEFT JOIN api_keys k ON k.id = cs.api_key_id AND k.shop_id = cp.shop_id").
		Where("cp.shop_id = ?", shopID)
}

// AgentOrders lists the shop's completions, newest first, and their count.
func (s *Store) AgentOrders(ctx context.Context, shopID int64, limit, offset int) ([]merchant.AgentOrder, int64, error) {
	var total int64
	if err := s.conn(ctx).Model(&checkoutPaymentRow{}).Where("shop_id = ?", shopID).Count(&total).Error; err != nil {
		return nil, 0, translate(err, "agent orders count")
	}
	var rows []agentOrderRow
	if err := s.agentOrders(ctx, shopID).Select(agentOrderSelect).Order("cp.created_at DESC, cp.session_id").
		Limit(limit).Offset(offset).Scan(&rows).Error; err != nil {
		return nil, 0, translate(err, "agent orders")
	}
	out := make([]merchant.AgentOrder, len(rows))
	for i, r := range rows {
		out[i] = r.toApp()
	}
	return out, total, nil
}

// AgentOrder returns one of the shop's completions, or ErrNotFound.
func (s *Store) AgentOrder(ctx context.Context, shopID int64, sessionID string) (*merchant.AgentOrder, error) {
	var rows []agentOrderRow
	if err := s.agentOrders(ctx, shopID).Where("cp.session_id = ?", sessionID).Select(agentOrderSelect).
		Limit(1).Scan(&rows).Error; err != nil {
		return nil, translate(err, "agent order")
	}
	if len(rows) == 0 {
		return nil, translate(gorm.ErrRecordNotFound, "agent order")
	}
	o := rows[0].toApp()
	return &o, nil
}

// CompletedSince lists the shop's completed agent orders placed since t.
func (s *Store) CompletedSince(ctx context.Context, shopID int64, since time.Time) ([]merchant.OrderPoint, error) {
	var rows []struct {
		CreatedAt time.Time
		Amount    int64
	}
	err := s.conn(ctx).Model(&checkoutPaymentRow{}).Select("created_at, amount").
		Where("shop_id = ? AND created_at >= ? AND state = ?", shopID, since, checkout.PaymentCompleted).Scan(&rows).Error
	if err != nil {
		return nil, translate(err, "completed orders")
	}
	out := make([]merchant.OrderPoint, len(rows))
	for i, r := range rows {
		out[i] = merchant.OrderPoint{At: r.CreatedAt, Amount: r.Amount}
	}
	return out, nil
}

// KnownTargets returns which of ids are the shop's synced products (scope
// product) or collections (scope collection).
func (s *Store) KnownTargets(ctx context.Context, shopID int64, scope string, ids []int64) (map[int64]bool, error) {
	var found []int64
	var err error
	switch scope {
	case app.RuleProduct:
		err = s.conn(ctx).Model(&catalogProductRow{}).Where("shop_id = ? AND product_id IN ?", shopID, ids).Pluck("product_id", &found).Error
	case app.RuleCollection:
		err = s.conn(ctx).Model(&catalogCollectionRow{}).Distinct("collection_id").Where("shop_id = ? AND collection_id IN ?", shopID, ids).Pluck("collection_id", &found).Error
	}
	if err != nil {
		return nil, translate(err, "known targets")
	}
	out := make(map[int64]bool, len(found))
	for _, id := range found {
		out[id] = true
	}
	return out, nil
}
