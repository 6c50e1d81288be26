package merchant

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/catalog"
)

// FeedHealth is the feed page: the last sync and builds, problems by
// field, and each push target with its delivery history.
type FeedHealth struct {
	Status    *catalog.CatalogStatus
	Published *app.FeedBuild // the build agents get now (nil before the first)
	Problems  []app.FieldProblems
	Settings  *app.FeedSettings
	Targets   []TargetHistory
}

// TargetHistory is a push target with its latest deliveries.
type TargetHistory struct {
	Target     *app.FeedTarget
	Where      string // host or URL, without credentials
	Deliveries []app.FeedDelivery
}

// FeedHealth reads the feed page.
func (a *Admin) FeedHealth(ctx context.Context, shopID int64) (*FeedHealth, error) {
	h := &FeedHealth{}
	var err error
	if h.Status, err = a.Catalog.Status(ctx, shopID); err != nil {
		return nil, err
	}
	if h.Published, err = a.Store.LatestBuild(ctx, shopID, app.BuildPublished); errors.Is(err, app.ErrNotFound) {
		h.Published, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b := h.Status.Build; b != nil {
		h.Problems = b.ProblemsByField()
	}
	if h.Settings, err = a.Feeds.Settings(ctx, shopID); err != nil {
		return nil, err
	}
	targets, err := a.Store.FeedTargets(ctx, shopID)
	if err != nil {
		return nil, err
	}
	for _, t := range targets {
		th := TargetHistory{Target: t}
		switch t.Kind {
		case app.TargetSFTP:
			var c app.SFTPTargetConfig
			_ = json.Unmarshal(t.Config, &c)
			th.Where = "sftp://" + c.User + "@" + c.Addr + "/" + strings.TrimPrefix(c.Dir, "/")
		case app.TargetACP:
			var c app.ACPTargetConfig
			_ = json.Unmarshal(t.Config, &c)
			th.Where = c.BaseURL + " (feed " + c.FeedID + ")"
		}
		if th.Deliveries, err = a.Store.FeedDeliveries(ctx, t.ID, 10); err != nil {
			return nil, err
		}
		h.Targets = append(h.Targets, th)
	}
	return h, nil
}

// SaveFeedSettings saves the shop's feed settings and schedules a build
// that uses them.
func (a *Admin) SaveFeedSettings(ctx context.Context, fs app.FeedSettings) error {
	if err := a.Feeds.SaveSettings(ctx, fs); err != nil {
		return err
	}
	return a.Catalog.RequestBuild(ctx, fs.ShopID)
}

// FeedSettings returns the shop's feed settings.
func (a *Admin) FeedSettings(ctx context.Context, shopID int64) (*app.FeedSettings, error) {
	return a.Feeds.Settings(ctx, shopID)
}

// RotateFeedToken makes a new pull URL token (shown once).
func (a *Admin) RotateFeedToken(ctx context.Context, shopID int64) (string, error) {
	return a.Feeds.RotateToken(ctx, shopID)
}

// SaveACPTarget adds or changes a push target for an ACP Feed API and
// pushes the published feed to it.
func (a *Admin) SaveACPTarget(ctx context.Context, shopID, id int64, cfg app.ACPTargetConfig, token string, enabled bool) (*app.FeedTarget, error) {
	t, err := a.Deliveries.SaveACPTarget(ctx, shopID, id, cfg, token, enabled)
	if err != nil {
		return nil, err
	}
	return t, a.Catalog.RequestBuild(ctx, shopID)
}

// SaveSFTPTarget adds or changes an SFTP push target and pushes the
// published feed to it.
func (a *Admin) SaveSFTPTarget(ctx context.Context, shopID, id int64, cfg app.SFTPTargetConfig, password, key string, enabled bool) (*app.FeedTarget, error) {
	t, err := a.Deliveries.SaveSFTPTarget(ctx, shopID, id, cfg, password, key, enabled)
	if err != nil {
		return nil, err
	}
	return t, a.Catalog.RequestBuild(ctx, shopID)
}

// RequestBuild schedules a feed build now.
func (a *Admin) RequestBuild(ctx context.Context, shopID int64) error {
	return a.Catalog.RequestBuild(ctx, shopID)
}
