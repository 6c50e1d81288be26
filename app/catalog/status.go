package catalog

import (
	"context"
	"errors"

	"github.com/acpbridge/acpbridge/app"
)

// CatalogStatus is what the merchant sees of the catalog and the feed.
type CatalogStatus struct {
	Sync     *app.CatalogSync // the newest sync, nil before the first
	Products int64
	Variants int64
	Build    *app.FeedBuild // the newest build, nil before the first
}

// Status reports the shop's last sync (with its progress), its catalog
// size and its last feed build.
func (c *Syncer) Status(ctx context.Context, shopID int64) (*CatalogStatus, error) {
	st := &CatalogStatus{}
	var err error
	if st.Sync, err = c.Store.LatestSync(ctx, shopID); errors.Is(err, app.ErrNotFound) {
		st.Sync, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if st.Products, st.Variants, err = c.Store.CatalogCounts(ctx, shopID); err != nil {
		return nil, err
	}
	if st.Build, err = c.Store.LatestBuild(ctx, shopID, ""); errors.Is(err, app.ErrNotFound) {
		st.Build, err = nil, nil
	}
	return st, err
}

// RequestBuild schedules a feed build after a merchant's change (rules,
// overrides, settings), debounced like catalog changes.
func (c *Syncer) RequestBuild(ctx context.Context, shopID int64) error {
	return c.scheduleBuild(ctx, shopID, c.RebuildDelay)
}
