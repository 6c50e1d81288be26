package store

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/acpbridge/acpbridge/app"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"
)

// feedItemRow is a row of feed_items (migration 00017).
type feedItemRow struct {
	ID           int64 `gorm:"primaryKey"`
	ShopID       int64
	BuildID      int64
	ItemID       string
	GroupID      string
	TitleText    string
	SearchText   string
	Category     string
	PriceMinor   int64
	Currency     string
	Availability string
	Data         string
}

func (feedItemRow) TableName() string { return "feed_items" }

// feedItemHitRow is a search result row with its computed rank.
type feedItemHitRow struct {
	Row  feedItemRow `gorm:"embedded"`
	Rank int64
}

func (r feedItemRow) toApp() app.FeedItemRow {
	return app.FeedItemRow{
		ShopID: r.ShopID, BuildID: r.BuildID, ItemID: r.ItemID, GroupID: r.GroupID, TitleText: r.TitleText,
		SearchText: r.SearchText, Category: r.Category, PriceMinor: r.PriceMinor, Currency: r.Currency,
		Availability: r.Availability, Data: []byte(r.Data),
	}
}

// AddFeedItems stores items of a build (in feed order: the row ids keep it).
func (s *Store) AddFeedItems(ctx context.Context, items []app.FeedItemRow) error {
	if len(items) == 0 {
		return nil
	}
	if _, inTx := ctx.Value(txKey{}).(*gorm.DB); s.kind == app.DatabasePostgres && !inTx {
		return s.copyFeedItems(ctx, items)
	}
	rows := make([]feedItemRow, len(items))
	for i, it := range items {
		rows[i] = feedItemRow{
			ShopID: it.ShopID, BuildID: it.BuildID, ItemID: it.ItemID, GroupID: it.GroupID, TitleText: it.TitleText,
			SearchText: it.SearchText, Category: it.Category, PriceMinor: it.PriceMinor, Currency: it.Currency,
			Availability: it.Availability, Data: string(it.Data),
		}
	}
	// 12 columns: 400 rows stay under SQLite's and PostgreSQL's bind limits.
	return translate(s.conn(ctx).CreateInBatches(rows, 400).Error, "store feed items")
}

// feedItemCols are the columns copyFeedItems writes, in order.
var feedItemCols = []string{"shop_id", "build_id", "item_id", "group_id", "title_text", "search_text", "category",
	"price_minor", "currency", "availability", "data"}

// copyFeedItems is AddFeedItems on PostgreSQL outside a transaction: one
// COPY per page of a build, several times faster than INSERTs (a build
// writes a row per published item).
func (s *Store) copyFeedItems(ctx context.Context, items []app.FeedItemRow) error {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return translate(err, "store feed items")
	}
	defer conn.Close()
	buf := copyBufs.Get().(*bytes.Buffer)
	defer copyBufs.Put(buf)
	buf.Reset()
	for i := range items {
		it := &items[i]
		w := copyRow{b: buf.AvailableBuffer()}
		w.int(it.ShopID)
		w.int(it.BuildID)
		w.str(it.ItemID)
		w.str(it.GroupID)
		w.str(it.TitleText)
		w.str(it.SearchText)
		w.str(it.Category)
		w.int(it.PriceMinor)
		w.str(it.Currency)
		w.str(it.Availability)
		w.raw(it.Data)
		buf.Write(w.end())
	}
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("driver connection is %T, not pgx", dc)
		}
		q := "COPY feed_items (" + strings.Join(feedItemCols, ", ") + ") FROM STDIN"
		_, err := sc.Conn().PgConn().CopyFrom(ctx, bytes.NewReader(buf.Bytes()), q)
		return err
	})
	return translate(err, "store feed items")
}

// DeleteFeedItemsBefore deletes the shop's items of every build older
// than buildID (builds run one after another, but two may overlap: a
// newer build's rows are never touched). On PostgreSQL it then refreshes
// the table's statistics: a build replaces a shop's rows wholesale, and
// until autovacuum notices, the planner would not know the trigram index
// is the cheap way in.
func (s *Store) DeleteFeedItemsBefore(ctx context.Context, shopID, buildID int64) error {
	err := s.conn(ctx).Where("shop_id = ? AND build_id < ?", shopID, buildID).Delete(&feedItemRow{}).Error
	if err == nil && s.kind == app.DatabasePostgres {
		err = s.conn(ctx).Exec("ANALYZE feed_items").Error
	}
	return translate(err, "delete feed items")
}

// DeleteBuildFeedItems deletes one build's items (a build whose rows will
// never be searched: its second pass failed, or a newer build indexed
// first).
func (s *Store) DeleteBuildFeedItems(ctx context.Context, shopID, buildID int64) error {
	err := s.conn(ctx).Where("shop_id = ? AND build_id = ?", shopID, buildID).Delete(&feedItemRow{}).Error
	return translate(err, "delete a build's feed items")
}

// MarkItemsIndexed records that the build's feed_items rows are complete:
// from then on LatestIndexedBuild (search) reads this build.
func (s *Store) MarkItemsIndexed(ctx context.Context, buildID int64) error {
	err := s.conn(ctx).Model(&feedBuildRow{}).Where("id = ?", buildID).Update("items_indexed_at", s.Now()).Error
	return translate(err, "mark build indexed")
}

// LatestIndexedBuild returns the shop's newest published build whose
// feed_items rows are complete (MarkItemsIndexed); app.ErrNotFound when
// there is none yet.
func (s *Store) LatestIndexedBuild(ctx context.Context, shopID int64) (*app.FeedBuild, error) {
	var r feedBuildRow
	err := s.conn(ctx).Where("shop_id = ? AND status = ? AND items_indexed_at IS NOT NULL", shopID, app.BuildPublished).
		Order("id DESC").Take(&r).Error
	if err != nil {
		return nil, translate(err, "latest indexed build")
	}
	return toAppBuild(r), nil
}

// ftsPhrase quotes s as an FTS5 phrase (a double quote is doubled).
func ftsPhrase(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// SearchFeedItems returns up to q.Limit items of the build matching q, by
// rank (terms missing from the title), then feed order.
//
// The text terms use the trigram index of each database (PostgreSQL: GIN
// gin_trgm_ops under LIKE; SQLite: FTS5 trigram under MATCH). A term
// shorter than three characters has no trigram: it is checked on the rows
// the other conditions leave.
func (s *Store) SearchFeedItems(ctx context.Context, q app.FeedItemQuery) ([]app.FeedItemHit, error) {
	db := s.conn(ctx).Table("feed_items").Where("shop_id = ? AND build_id = ?", q.ShopID, q.BuildID)
	var long []string
	rank := make([]string, 0, len(q.Terms))
	var rankArgs []any
	for _, t := range q.Terms {
		rank = append(rank, "CASE WHEN "+s.containsSQL("title_text")+" THEN 0 ELSE 1 END")
		rankArgs = append(rankArgs, t)
		if utf8.RuneCountInString(t) < 3 {
			db = db.Where(s.containsSQL("search_text"), t)
			continue
		}
		if s.kind == app.DatabaseSQLite {
			long = append(long, ftsPhrase(t))
		} else {
			db = db.Where(`search_text LIKE ? ESCAPE '\'`, likePattern(t))
		}
	}
	if len(long) > 0 {
		db = db.Where("id IN (SELECT rowid FROM feed_items_fts WHERE feed_items_fts MATCH ?)", strings.Join(long, " AND "))
	}
	if q.MinPrice != nil {
		db = db.Where("price_minor >= ?", *q.MinPrice)
	}
	if q.MaxPrice != nil {
		db = db.Where("price_minor <= ?", *q.MaxPrice)
	}
	if q.Currency != "" {
		db = db.Where("currency = ?", q.Currency)
	}
	if q.Availability != "" {
		db = db.Where("availability = ?", q.Availability)
	}
	if q.CategoryPrefix != "" {
		db = db.Where("substr(category, 1, ?) = ?", utf8.RuneCountInString(q.CategoryPrefix), q.CategoryPrefix)
	}
	var rows []feedItemHitRow
	var err error
	if len(rank) == 0 {
		// No words: feed order alone, so that the (shop, build, id) index
		// walks in order and stops at the page's end.
		if q.AfterSeq > 0 {
			db = db.Where("id > ?", q.AfterSeq)
		}
		err = db.Select("feed_items.*, 0 AS rank").Order("id").Limit(q.Limit).Find(&rows).Error
	} else {
		rankSQL := "(" + strings.Join(rank, " + ") + ")"
		if q.AfterRank > 0 || q.AfterSeq > 0 {
			args := append(append([]any{}, rankArgs...), q.AfterRank)
			args = append(append(args, rankArgs...), q.AfterRank, q.AfterSeq)
			db = db.Where(rankSQL+" > ? OR ("+rankSQL+" = ? AND id > ?)", args...)
		}
		err = db.Select("feed_items.*, "+rankSQL+" AS rank", rankArgs...).Order("rank, id").Limit(q.Limit).Find(&rows).Error
	}
	if err != nil {
		return nil, translate(err, "search feed items")
	}
	out := make([]app.FeedItemHit, len(rows))
	for i, r := range rows {
		out[i] = app.FeedItemHit{FeedItemRow: r.Row.toApp(), Rank: r.Rank, Seq: r.Row.ID}
	}
	return out, nil
}

// FeedItem returns one item of a build.
func (s *Store) FeedItem(ctx context.Context, shopID, buildID int64, itemID string) (*app.FeedItemRow, error) {
	var r feedItemRow
	err := s.conn(ctx).Where("build_id = ? AND item_id = ? AND shop_id = ?", buildID, itemID, shopID).Take(&r).Error
	if err != nil {
		return nil, translate(err, "feed item")
	}
	out := r.toApp()
	return &out, nil
}

// FeedItemGroup returns up to limit items of a build's product group, in
// feed order.
func (s *Store) FeedItemGroup(ctx context.Context, shopID, buildID int64, groupID string, limit int) ([]app.FeedItemRow, error) {
	var rows []feedItemRow
	err := s.conn(ctx).Where("build_id = ? AND group_id = ? AND shop_id = ?", buildID, groupID, shopID).
		Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "feed item group")
	}
	out := make([]app.FeedItemRow, len(rows))
	for i, r := range rows {
		out[i] = r.toApp()
	}
	return out, nil
}

// UnindexedFeedShops lists (up to 1,000) active shops that publish a feed
// but have no build search can read: every published build of theirs
// predates the search index (migration 00017) or lost its second pass.
// Shops with a build running, or whose newest build finished after
// settled (its second pass may still be writing), are left out.
func (s *Store) UnindexedFeedShops(ctx context.Context, settled time.Time) ([]int64, error) {
	var ids []int64
	err := s.conn(ctx).Raw(`
SELECT s.id FROM shops s
WHERE s.status = ?
  AND EXISTS (SELECT 1 FROM feed_builds b WHERE b.shop_id = s.id AND b.status = ?)
  AND NOT EXISTS (SELECT 1 FROM feed_builds b WHERE b.shop_id = s.id AND b.status = ? AND b.items_indexed_at IS NOT NULL)
  AND NOT EXISTS (SELECT 1 FROM feed_builds b WHERE b.shop_id = s.id
                  AND (b.status = ? OR b.finished_at IS NULL OR b.finished_at > ?))
ORDER BY s.id LIMIT 1000`,
		string(app.ShopActive), app.BuildPublished, app.BuildPublished, app.BuildRunning, settled).Scan(&ids).Error
	return ids, translate(err, "unindexed feed shops")
}
