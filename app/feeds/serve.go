package feeds

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/app/secret"
)

// PublishedItem is an item the shop's feed publishes, with what an agent
// (or the demo's quickstart) needs to buy it.
type PublishedItem struct {
	ID               string `json:"id"`
	Title            string `json:"title"`
	UnitAmount       int64  `json:"unit_amount"`
	Currency         string `json:"currency"`
	Inventory        int64  `json:"inventory"`
	Available        bool   `json:"available"`
	RequiresShipping bool   `json:"requires_shipping"`
}

// PublishedItems lists up to limit items the shop's feed publishes now
// (eligible and valid), in feed order.
func (f *Service) PublishedItems(ctx context.Context, shopID int64, limit int) ([]PublishedItem, error) {
	_, _, settings, fshop, idx, err := f.FeedInputs(ctx, shopID)
	if err != nil {
		return nil, err
	}
	var out []PublishedItem
	errEnough := errors.New("enough")
	err = f.walkItems(ctx, shopID, settings, fshop, idx, walkFuncs{
		item: func(it feed.Item, v *app.CatalogVariant, problems []feed.Problem) error {
			if feed.HasErrors(problems) || v == nil {
				return nil
			}
			out = append(out, PublishedItem{
				ID: it.ItemID, Title: it.Title, UnitAmount: v.PriceMinor, Currency: strings.ToLower(fshop.Currency),
				Inventory: v.InventoryQuantity, Available: v.AvailableForSale, RequiresShipping: v.RequiresShipping,
			})
			if len(out) >= limit {
				return errEnough
			}
			return nil
		},
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}

// ServedFeed is a published feed file with what HTTP caching needs.
type ServedFeed struct {
	Shop     *app.Shop
	Build    *app.FeedBuild
	File     *app.FeedFile
	Modified time.Time
}

// OpenFeed authorises a pull of a shop's feed by its bearer token and
// returns the newest published file in the format. Unknown shops, wrong
// tokens and uninstalled shops are all CodeUnauthorized: a caller learns
// nothing about which shops exist.
func (f *Service) OpenFeed(ctx context.Context, shopDomain, token, format string) (*ServedFeed, error) {
	unauthorized := &app.Error{Code: app.CodeUnauthorized, Message: "a valid feed token is required as Bearer"}
	if token == "" {
		return nil, unauthorized
	}
	sh, err := f.Store.ShopByFeedTokenHash(ctx, shopDomain, secret.HashAPIKey(token))
	if errors.Is(err, app.ErrNotFound) {
		return nil, unauthorized
	}
	if err != nil {
		return nil, err
	}
	if !slices.Contains(feedFormats, feed.Format(format)) {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "no such feed file; use products.jsonl.gz, products.csv.gz or products.tsv.gz"}
	}
	// The newest published build whose file in the format is complete: a
	// build publishes its jsonl.gz before writing its other formats.
	b, file, err := f.Store.PublishedFeedFile(ctx, sh.ID, format)
	if errors.Is(err, app.ErrNotFound) {
		return nil, &app.Error{Code: app.CodeNotFound, Message: "the feed has not been built yet; it is built after the first catalog sync"}
	}
	if err != nil {
		return nil, err
	}
	return &ServedFeed{Shop: sh, Build: b, File: file, Modified: *b.FinishedAt}, nil
}

// CopyFeed writes a served file's bytes to w.
func (f *Service) CopyFeed(ctx context.Context, sf *ServedFeed, w io.Writer) error {
	_, err := f.Store.CopyFeedFile(ctx, sf.File.BuildID, sf.File.Format, w)
	return err
}
