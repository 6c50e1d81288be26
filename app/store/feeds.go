package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/acpbridge/acpbridge/app"
)

type catalogSyncRow struct {
	ID              int64 `gorm:"primaryKey"`
	ShopID          int64
	Reason          string
	Status          string
	BulkOperationID string
	Generation      int64
	RowsExpected    int64
	RowsDone        int64
	Products        int64
	Variants        int64
	Error           string
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FinishedAt      *time.Time
}

func (catalogSyncRow) TableName() string { return "catalog_syncs" }

func toAppSync(r catalogSyncRow) *app.CatalogSync {
	return &app.CatalogSync{
		ID: r.ID, ShopID: r.ShopID, Reason: r.Reason, Status: r.Status, BulkOperationID: r.BulkOperationID,
		Generation: r.Generation, RowsExpected: r.RowsExpected, RowsDone: r.RowsDone, Products: r.Products,
		Variants: r.Variants, Error: r.Error, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		FinishedAt: utcPtr(r.FinishedAt),
	}
}

// CreateSync records a new full sync; its generation is one above any the
// shop had, so rows it writes are newer than every earlier sync's.
func (s *Store) CreateSync(ctx context.Context, shopID int64, reason string) (*app.CatalogSync, error) {
	var gen struct{ G int64 }
	if err := s.conn(ctx).Model(&catalogSyncRow{}).Select("COALESCE(MAX(generation), 0) AS g").Where("shop_id = ?", shopID).Scan(&gen).Error; err != nil {
		return nil, translate(err, "create sync")
	}
	now := s.Now()
	row := catalogSyncRow{ShopID: shopID, Reason: reason, Status: app.SyncPending, Generation: gen.G + 1, CreatedAt: now, UpdatedAt: now}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return nil, translate(err, "create sync")
	}
	return toAppSync(row), nil
}

// Sync returns a sync by id.
func (s *Store) Sync(ctx context.Context, id int64) (*app.CatalogSync, error) {
	var r catalogSyncRow
	if err := s.conn(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, fmt.Sprintf("sync %d", id))
	}
	return toAppSync(r), nil
}

// SyncByBulkOperation finds the sync a bulk operation belongs to.
func (s *Store) SyncByBulkOperation(ctx context.Context, shopID int64, bulkID string) (*app.CatalogSync, error) {
	var r catalogSyncRow
	if err := s.conn(ctx).Where("shop_id = ? AND bulk_operation_id = ?", shopID, bulkID).Take(&r).Error; err != nil {
		return nil, translate(err, "sync of bulk operation")
	}
	return toAppSync(r), nil
}

// LatestSync returns the shop's newest sync.
func (s *Store) LatestSync(ctx context.Context, shopID int64) (*app.CatalogSync, error) {
	var r catalogSyncRow
	if err := s.conn(ctx).Where("shop_id = ?", shopID).Order("id DESC").Take(&r).Error; err != nil {
		return nil, translate(err, "latest sync")
	}
	return toAppSync(r), nil
}

// UpdateSync saves a sync's status and progress.
func (s *Store) UpdateSync(ctx context.Context, sy *app.CatalogSync) error {
	sy.UpdatedAt = s.Now()
	err := s.conn(ctx).Model(&catalogSyncRow{}).Where("id = ?", sy.ID).Updates(map[string]any{
		"status": sy.Status, "bulk_operation_id": sy.BulkOperationID, "rows_expected": sy.RowsExpected,
		"rows_done": sy.RowsDone, "products": sy.Products, "variants": sy.Variants, "error": sy.Error,
		"updated_at": sy.UpdatedAt, "finished_at": sy.FinishedAt,
	}).Error
	return translate(err, "update sync")
}

type feedSettingsRow struct {
	ShopID           int64 `gorm:"primaryKey"`
	SellerName       string
	SellerURL        string `gorm:"column:seller_url"`
	StoreCountry     string
	TargetCountries  string
	ReturnPolicyURL  string `gorm:"column:return_policy_url"`
	ReturnWindowDays int
	PrivacyPolicyURL string `gorm:"column:privacy_policy_url"`
	TermsURL         string `gorm:"column:terms_url"`
	BrandFallback    string
	EligibleSearch   bool
	EligibleCheckout bool
	FieldNames       string
	FeedTokenHash    string
	UpdatedAt        time.Time
}

func (feedSettingsRow) TableName() string { return "feed_settings" }

// FeedSettings returns the shop's settings; a shop that never saved any
// gets app.ErrNotFound (the caller applies defaults).
func (s *Store) FeedSettings(ctx context.Context, shopID int64) (*app.FeedSettings, error) {
	var r feedSettingsRow
	if err := s.conn(ctx).Where("shop_id = ?", shopID).Take(&r).Error; err != nil {
		return nil, translate(err, "feed settings")
	}
	return toAppFeedSettings(r), nil
}

func toAppFeedSettings(r feedSettingsRow) *app.FeedSettings {
	fs := &app.FeedSettings{
		ShopID: r.ShopID, SellerName: r.SellerName, SellerURL: r.SellerURL, StoreCountry: r.StoreCountry,
		ReturnPolicyURL: r.ReturnPolicyURL, ReturnWindowDays: r.ReturnWindowDays, PrivacyPolicyURL: r.PrivacyPolicyURL,
		TermsURL: r.TermsURL, BrandFallback: r.BrandFallback, EligibleSearch: r.EligibleSearch,
		EligibleCheckout: r.EligibleCheckout, FieldNames: r.FieldNames, FeedTokenHash: r.FeedTokenHash, UpdatedAt: r.UpdatedAt.UTC(),
	}
	if r.TargetCountries != "" {
		fs.TargetCountries = strings.Split(r.TargetCountries, ",")
	}
	return fs
}

// SaveFeedSettings creates or replaces the shop's settings.
func (s *Store) SaveFeedSettings(ctx context.Context, fs app.FeedSettings) error {
	row := feedSettingsRow{
		ShopID: fs.ShopID, SellerName: fs.SellerName, SellerURL: fs.SellerURL, StoreCountry: fs.StoreCountry,
		TargetCountries: strings.Join(fs.TargetCountries, ","), ReturnPolicyURL: fs.ReturnPolicyURL,
		ReturnWindowDays: fs.ReturnWindowDays, PrivacyPolicyURL: fs.PrivacyPolicyURL, TermsURL: fs.TermsURL,
		BrandFallback: fs.BrandFallback, EligibleSearch: fs.EligibleSearch, EligibleCheckout: fs.EligibleCheckout,
		FieldNames: fs.FieldNames, FeedTokenHash: fs.FeedTokenHash, UpdatedAt: s.Now(),
	}
	err := s.conn(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error
	s.forgetShopAuth(fs.ShopID)
	return translate(err, "save feed settings")
}

// ShopByFeedTokenHash finds the active shop whose feed token has this hash.
func (s *Store) ShopByFeedTokenHash(ctx context.Context, domain, hash string) (*app.Shop, error) {
	var r shopRow
	err := s.conn(ctx).Joins("JOIN feed_settings ON feed_settings.shop_id = shops.id").
		Where("shops.domain = ? AND feed_settings.feed_token_hash = ? AND feed_settings.feed_token_hash <> '' AND shops.status = ?",
			domain, hash, string(app.ShopActive)).Take(&r).Error
	if err != nil {
		return nil, translate(err, "feed token")
	}
	return toAppShop(r), nil
}

type feedRuleRow struct {
	ShopID           int64  `gorm:"primaryKey"`
	Scope            string `gorm:"primaryKey"`
	TargetID         int64  `gorm:"primaryKey"`
	Exclude          *bool
	CheckoutEligible *bool
	Title            *string
	Description      *string
	Category         *string
	GTIN             *string `gorm:"column:gtin"`
	MPN              *string `gorm:"column:mpn"`
	UpdatedAt        time.Time
}

func (feedRuleRow) TableName() string { return "feed_rules" }

// SaveFeedRule creates or replaces a rule; a rule with nothing set is deleted.
func (s *Store) SaveFeedRule(ctx context.Context, r app.FeedRule) error {
	if r.Exclude == nil && r.CheckoutEligible == nil && r.Title == nil && r.Description == nil && r.Category == nil && r.GTIN == nil && r.MPN == nil {
		err := s.conn(ctx).Where("shop_id = ? AND scope = ? AND target_id = ?", r.ShopID, r.Scope, r.TargetID).Delete(&feedRuleRow{}).Error
		return translate(err, "delete feed rule")
	}
	row := feedRuleRow{
		ShopID: r.ShopID, Scope: r.Scope, TargetID: r.TargetID, Exclude: r.Exclude, CheckoutEligible: r.CheckoutEligible,
		Title: r.Title, Description: r.Description, Category: r.Category, GTIN: r.GTIN, MPN: r.MPN, UpdatedAt: s.Now(),
	}
	return translate(s.conn(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(&row).Error, "save feed rule")
}

// FeedRules lists the shop's rules.
func (s *Store) FeedRules(ctx context.Context, shopID int64) ([]app.FeedRule, error) {
	var rows []feedRuleRow
	if err := s.conn(ctx).Where("shop_id = ?", shopID).Find(&rows).Error; err != nil {
		return nil, translate(err, "feed rules")
	}
	out := make([]app.FeedRule, len(rows))
	for i, r := range rows {
		out[i] = toAppFeedRule(r)
	}
	return out, nil
}

func toAppFeedRule(r feedRuleRow) app.FeedRule {
	return app.FeedRule{ShopID: r.ShopID, Scope: r.Scope, TargetID: r.TargetID, Exclude: r.Exclude,
		CheckoutEligible: r.CheckoutEligible, Title: r.Title, Description: r.Description, Category: r.Category,
		GTIN: r.GTIN, MPN: r.MPN, UpdatedAt: r.UpdatedAt.UTC()}
}

// FeedSettingsAndRules is FeedSettings (nil, not an error, when the shop
// saved none) and FeedRules in one statement: the settings row joined to
// each rule (a shop has few rules; its settings row is small).
func (s *Store) FeedSettingsAndRules(ctx context.Context, shopID int64) (*app.FeedSettings, []app.FeedRule, error) {
	var rows []struct {
		SetShopID *int64
		Feed      feedSettingsCols `gorm:"embedded;embeddedPrefix:s_"`
		RuleScope *string
		Rules     feedRuleCols `gorm:"embedded;embeddedPrefix:r_"`
	}
	err := s.conn(ctx).Raw(`SELECT s.shop_id AS set_shop_id, s.seller_name AS s_seller_name, s.seller_url AS s_seller_url,
  s.store_country AS s_store_country, s.target_countries AS s_target_countries, s.return_policy_url AS s_return_policy_url,
  s.return_window_days AS s_return_window_days, s.privacy_policy_url AS s_privacy_policy_url, s.terms_url AS s_terms_url,
  s.brand_fallback AS s_brand_fallback, s.eligible_search AS s_eligible_search, s.eligible_checkout AS s_eligible_checkout,
  s.field_names AS s_field_names, s.feed_token_hash AS s_feed_token_hash, s.updated_at AS s_updated_at,
  r.scope AS rule_scope, r.target_id AS r_target_id, r.exclude AS r_exclude, r.checkout_eligible AS r_checkout_eligible,
  r.title AS r_title, r.description AS r_description, r.category AS r_category, r.gtin AS r_gtin, r.mpn AS r_mpn,
  r.updated_at AS r_updated_at
FROM (SELECT 1 AS one) one
LEFT JOIN feed_settings s ON s.shop_id = ?
LEFT JOIN feed_rules r ON r.shop_id = ?`, shopID, shopID).Scan(&rows).Error
	if err != nil {
		return nil, nil, translate(err, "feed settings and rules")
	}
	var fr feedRows
	for _, r := range rows {
		if r.SetShopID != nil && !fr.set {
			fr.set = true
			fr.settings = r.Feed.row(shopID)
		}
		if r.RuleScope != nil {
			fr.rules = append(fr.rules, r.Rules.row(shopID, *r.RuleScope))
		}
	}
	fs, rules := fr.result()
	return fs, rules, nil
}

// feedSettingsCols are feed_settings' columns but its key, NULL when the
// shop has no settings row.
type feedSettingsCols struct {
	SellerName       *string
	SellerURL        *string `gorm:"column:seller_url"`
	StoreCountry     *string
	TargetCountries  *string
	ReturnPolicyURL  *string `gorm:"column:return_policy_url"`
	ReturnWindowDays *int
	PrivacyPolicyURL *string `gorm:"column:privacy_policy_url"`
	TermsURL         *string `gorm:"column:terms_url"`
	BrandFallback    *string
	EligibleSearch   *bool
	EligibleCheckout *bool
	FieldNames       *string
	FeedTokenHash    *string
	UpdatedAt        *time.Time
}

func (c feedSettingsCols) row(shopID int64) feedSettingsRow {
	r := feedSettingsRow{ShopID: shopID, SellerName: deref(c.SellerName), SellerURL: deref(c.SellerURL),
		StoreCountry: deref(c.StoreCountry), TargetCountries: deref(c.TargetCountries), ReturnPolicyURL: deref(c.ReturnPolicyURL),
		PrivacyPolicyURL: deref(c.PrivacyPolicyURL), TermsURL: deref(c.TermsURL), BrandFallback: deref(c.BrandFallback),
		EligibleSearch: c.EligibleSearch != nil && *c.EligibleSearch, EligibleCheckout: c.EligibleCheckout != nil && *c.EligibleCheckout,
		FieldNames: deref(c.FieldNames), FeedTokenHash: deref(c.FeedTokenHash)}
	if c.ReturnWindowDays != nil {
		r.ReturnWindowDays = *c.ReturnWindowDays
	}
	if c.UpdatedAt != nil {
		r.UpdatedAt = *c.UpdatedAt
	}
	return r
}

// feedRuleCols are feed_rules' columns but its key and scope.
type feedRuleCols struct {
	TargetID         *int64
	Exclude          *bool
	CheckoutEligible *bool
	Title            *string
	Description      *string
	Category         *string
	GTIN             *string `gorm:"column:gtin"`
	MPN              *string `gorm:"column:mpn"`
	UpdatedAt        *time.Time
}

func (c feedRuleCols) row(shopID int64, scope string) feedRuleRow {
	r := feedRuleRow{ShopID: shopID, Scope: scope, Exclude: c.Exclude, CheckoutEligible: c.CheckoutEligible, Title: c.Title,
		Description: c.Description, Category: c.Category, GTIN: c.GTIN, MPN: c.MPN}
	if c.TargetID != nil {
		r.TargetID = *c.TargetID
	}
	if c.UpdatedAt != nil {
		r.UpdatedAt = *c.UpdatedAt
	}
	return r
}

type feedBuildRow struct {
	ID             int64 `gorm:"primaryKey"`
	ShopID         int64
	Status         string
	FieldNames     string
	Products       int64
	ItemsTotal     int64
	ItemsPublished int64
	ItemsInvalid   int64
	ItemsExcluded  int64
	Warnings       int64
	Summary        string
	Error          string
	StartedAt      time.Time
	FinishedAt     *time.Time
}

func (feedBuildRow) TableName() string { return "feed_builds" }

func toAppBuild(r feedBuildRow) *app.FeedBuild {
	return &app.FeedBuild{
		ID: r.ID, ShopID: r.ShopID, Status: r.Status, FieldNames: r.FieldNames, Products: r.Products,
		ItemsTotal: r.ItemsTotal, ItemsPublished: r.ItemsPublished, ItemsInvalid: r.ItemsInvalid,
		ItemsExcluded: r.ItemsExcluded, Warnings: r.Warnings, Summary: []byte(r.Summary), Error: r.Error,
		StartedAt: r.StartedAt.UTC(), FinishedAt: utcPtr(r.FinishedAt),
	}
}

// CreateBuild starts a build record.
func (s *Store) CreateBuild(ctx context.Context, shopID int64, fieldNames string) (*app.FeedBuild, error) {
	row := feedBuildRow{ShopID: shopID, Status: app.BuildRunning, FieldNames: fieldNames, Summary: "{}", StartedAt: s.Now()}
	if err := s.conn(ctx).Create(&row).Error; err != nil {
		return nil, translate(err, "create build")
	}
	return toAppBuild(row), nil
}

// FinishBuild records a build's outcome and counts.
func (s *Store) FinishBuild(ctx context.Context, b *app.FeedBuild) error {
	now := s.Now()
	b.FinishedAt = &now
	err := s.conn(ctx).Model(&feedBuildRow{}).Where("id = ?", b.ID).Updates(map[string]any{
		"status": b.Status, "products": b.Products, "items_total": b.ItemsTotal, "items_published": b.ItemsPublished,
		"items_invalid": b.ItemsInvalid, "items_excluded": b.ItemsExcluded, "warnings": b.Warnings,
		"summary": string(b.Summary), "error": b.Error, "finished_at": now,
	}).Error
	return translate(err, "finish build")
}

// LatestBuild returns the shop's newest build in the given status ("" any).
func (s *Store) LatestBuild(ctx context.Context, shopID int64, status string) (*app.FeedBuild, error) {
	q := s.conn(ctx).Where("shop_id = ?", shopID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var r feedBuildRow
	if err := q.Order("id DESC").Take(&r).Error; err != nil {
		return nil, translate(err, "latest build")
	}
	return toAppBuild(r), nil
}

// staleRunningBuild is how long a build may still be running: one that
// started earlier died with its process and is pruned like the others.
const staleRunningBuild = time.Hour

// PruneBuilds deletes the shop's builds older than the newest keep
// published ones (files and problems go with them), except a build still
// running: builds run concurrently (a job's and a merchant's), and one that
// started first may finish last, so deleting it under its feet would fail
// it (its files' inserts lose their build row).
func (s *Store) PruneBuilds(ctx context.Context, shopID int64, keep int) (int64, error) {
	var ids []int64
	if err := s.conn(ctx).Model(&feedBuildRow{}).Where("shop_id = ? AND status = ?", shopID, app.BuildPublished).
		Order("id DESC").Limit(keep).Pluck("id", &ids).Error; err != nil || len(ids) < keep {
		return 0, translate(err, "prune builds")
	}
	oldest := ids[len(ids)-1]
	var n int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		prunable := func(q *gorm.DB) *gorm.DB {
			return q.Where("shop_id = ? AND id < ? AND (status <> ? OR started_at < ?)", shopID, oldest, app.BuildRunning, s.Now().Add(-staleRunningBuild))
		}
		old := prunable(s.conn(ctx).Model(&feedBuildRow{}).Select("id"))
		for _, m := range []any{&feedChunkRow{}, &feedFileRow{}, &feedProblemRow{}} {
			if err := s.conn(ctx).Where("build_id IN (?)", old).Delete(m).Error; err != nil {
				return translate(err, "prune builds")
			}
		}
		res := prunable(s.conn(ctx)).Delete(&feedBuildRow{})
		n = res.RowsAffected
		return translate(res.Error, "prune builds")
	})
	return n, err
}

type feedFileRow struct {
	BuildID int64  `gorm:"primaryKey"`
	Format  string `gorm:"primaryKey"`
	Bytes   int64
	SHA256  string `gorm:"column:sha256"`
}

func (feedFileRow) TableName() string { return "feed_files" }

type feedChunkRow struct {
	BuildID int64  `gorm:"primaryKey"`
	Format  string `gorm:"primaryKey"`
	Seq     int    `gorm:"primaryKey"`
	Data    []byte
}

func (feedChunkRow) TableName() string { return "feed_chunks" }

// chunkSize is how much of a feed file one row holds.
const chunkSize = 1 << 20

// FeedFileWriter stores a build's file in the database in 1 MiB chunks as
// it is written, so every replica serves it and no file system is shared.
type FeedFileWriter struct {
	s       *Store
	ctx     context.Context
	buildID int64
	format  string
	buf     []byte
	seq     int
	n       int64
	h       hash.Hash
}

// NewFeedFile starts a file of a build.
func (s *Store) NewFeedFile(ctx context.Context, buildID int64, format string) (io.WriteCloser, error) {
	if err := s.conn(ctx).Create(&feedFileRow{BuildID: buildID, Format: format}).Error; err != nil {
		return nil, translate(err, "create feed file")
	}
	return &FeedFileWriter{s: s, ctx: ctx, buildID: buildID, format: format, buf: make([]byte, 0, chunkSize), h: sha256.New()}, nil
}

// Write buffers p, storing each full chunk.
func (w *FeedFileWriter) Write(p []byte) (int, error) {
	written := len(p)
	w.h.Write(p)
	w.n += int64(len(p))
	for len(p) > 0 {
		k := min(chunkSize-len(w.buf), len(p))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == chunkSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return written, nil
}

func (w *FeedFileWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	row := feedChunkRow{BuildID: w.buildID, Format: w.format, Seq: w.seq, Data: w.buf}
	if err := w.s.conn(w.ctx).Create(&row).Error; err != nil {
		return translate(err, "store feed chunk")
	}
	w.seq++
	w.buf = make([]byte, 0, chunkSize)
	return nil
}

// Close stores the last chunk and the file's size and digest.
func (w *FeedFileWriter) Close() error {
	if err := w.flush(); err != nil {
		return err
	}
	err := w.s.conn(w.ctx).Model(&feedFileRow{}).Where("build_id = ? AND format = ?", w.buildID, w.format).
		Updates(map[string]any{"bytes": w.n, "sha256": hex.EncodeToString(w.h.Sum(nil))}).Error
	return translate(err, "finish feed file")
}

// FeedFile describes a stored file.
func (s *Store) FeedFile(ctx context.Context, buildID int64, format string) (*app.FeedFile, error) {
	var r feedFileRow
	if err := s.conn(ctx).Where("build_id = ? AND format = ?", buildID, format).Take(&r).Error; err != nil {
		return nil, translate(err, "feed file")
	}
	return &app.FeedFile{BuildID: r.BuildID, Format: r.Format, Bytes: r.Bytes, SHA256: r.SHA256}, nil
}

// PublishedFeedFile returns the shop's newest published build that has a
// complete file in the format, and that file. A build is published once
// its jsonl.gz is written and writes its other formats afterwards: until
// they are complete, their pulls are served from the build before.
func (s *Store) PublishedFeedFile(ctx context.Context, shopID int64, format string) (*app.FeedBuild, *app.FeedFile, error) {
	var r feedBuildRow
	err := s.conn(ctx).Where("shop_id = ? AND status = ?", shopID, app.BuildPublished).
		Where("EXISTS (SELECT 1 FROM feed_files f WHERE f.build_id = feed_builds.id AND f.format = ? AND f.sha256 <> '')", format).
		Order("id DESC").Take(&r).Error
	if err != nil {
		return nil, nil, translate(err, "published feed file")
	}
	f, err := s.FeedFile(ctx, r.ID, format)
	if err != nil {
		return nil, nil, err
	}
	return toAppBuild(r), f, nil
}

// CopyFeedFile writes a stored file to w, a chunk at a time. A file still
// being written (or none) copies nothing.
func (s *Store) CopyFeedFile(ctx context.Context, buildID int64, format string, w io.Writer) (int64, error) {
	if f, err := s.FeedFile(ctx, buildID, format); err != nil || f.SHA256 == "" {
		if errors.Is(err, app.ErrNotFound) {
			err = nil
		}
		return 0, err
	}
	var n int64
	for seq := 0; ; seq++ {
		var r feedChunkRow
		err := s.conn(ctx).Where("build_id = ? AND format = ? AND seq = ?", buildID, format, seq).Take(&r).Error
		if err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return n, nil
			}
			return n, translate(err, "read feed chunk")
		}
		k, err := w.Write(r.Data)
		n += int64(k)
		if err != nil {
			return n, err
		}
	}
}

type feedProblemRow struct {
	BuildID  int64
	ItemID   string
	Field    string
	Severity string
	Message  string
	Hint     string
}

func (feedProblemRow) TableName() string { return "feed_problems" }

// AddFeedProblems stores validation problems of a build.
func (s *Store) AddFeedProblems(ctx context.Context, buildID int64, ps []app.FeedProblem) error {
	if len(ps) == 0 {
		return nil
	}
	rows := make([]feedProblemRow, len(ps))
	for i, p := range ps {
		rows[i] = feedProblemRow{BuildID: buildID, ItemID: p.ItemID, Field: p.Field, Severity: p.Severity, Message: p.Message, Hint: p.Hint}
	}
	return translate(s.conn(ctx).CreateInBatches(rows, 400).Error, "store feed problems")
}

// FeedProblems lists a build's problems, errors first.
func (s *Store) FeedProblems(ctx context.Context, buildID int64, limit int) ([]app.FeedProblem, error) {
	var rows []feedProblemRow
	if err := s.conn(ctx).Where("build_id = ?", buildID).Order("severity, item_id, field").Limit(limit).Find(&rows).Error; err != nil {
		return nil, translate(err, "feed problems")
	}
	out := make([]app.FeedProblem, len(rows))
	for i, r := range rows {
		out[i] = app.FeedProblem{ItemID: r.ItemID, Field: r.Field, Severity: r.Severity, Message: r.Message, Hint: r.Hint}
	}
	return out, nil
}
