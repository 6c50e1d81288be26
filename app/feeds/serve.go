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
	Shop        *app.Shop
	Build       *app.FeedBuild
	File        *app.FeedFile
	Modified    time.Time
	Name        string // the file's public name, e.g. products-00001-of-00002.parquet
	ContentType string
}

// feedFileNames is the help of a pull of an unknown file.
const feedFileNames = "no such feed file; use products.jsonl.gz, products.csv.gz, products.tsv.gz, or " +
	feed.ManifestName + " and the Parquet shards it lists (products-00001-of-0000N.parquet)"

// OpenFeed authorises a pull of a shop's feed by its bearer token and
// returns the newest published file of that name: products.FORMAT (a
// single file), the Parquet shard set's manifest (feed.ManifestName), or
// one of the shards it lists. A shard is served from the build of the
// newest complete set (the one the manifest describes); a shard name of
// another set, such as one of a different count, is not found. Unknown
// shops, wrong tokens and uninstalled shops are all CodeUnauthorized: a
// caller learns nothing about which shops exist.
func (f *Service) OpenFeed(ctx context.Context, shopDomain, token, name string) (*ServedFeed, error) {
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
	notBuilt := &app.Error{Code: app.CodeNotFound, Message: "the feed has not been built yet; it is built after the first catalog sync"}
	if format, ok := strings.CutPrefix(name, "products."); ok && slices.Contains(feedFormats, feed.Format(format)) {
		// The newest published build whose file in the format is complete:
		// a build publishes its jsonl.gz before writing its other formats.
		b, file, err := f.Store.PublishedFeedFile(ctx, sh.ID, format)
		if errors.Is(err, app.ErrNotFound) {
			return nil, notBuilt
		}
		if err != nil {
			return nil, err
		}
		return &ServedFeed{Shop: sh, Build: b, File: file, Modified: *b.FinishedAt, Name: name, ContentType: "application/gzip"}, nil
	}
	sf, i, _, isShard := feed.ParseShardName(name)
	if !isShard && name != feed.ManifestName {
		return nil, &app.Error{Code: app.CodeNotFound, Message: feedFileNames}
	}
	format := feed.FormatParquet
	if isShard {
		format = sf
	}
	if !sharded(format) {
		return nil, &app.Error{Code: app.CodeNotFound, Message: feedFileNames}
	}
	m, b, err := f.currentManifest(ctx, sh.ID, format)
	if errors.Is(err, app.ErrNotFound) {
		return nil, notBuilt
	}
	if err != nil {
		return nil, err
	}
	key, ctype := ManifestKey(format), "application/json"
	if isShard {
		if !m.Has(name) {
			return nil, &app.Error{Code: app.CodeNotFound, Message: "no such shard in the current set; " + feed.ManifestName + " lists them"}
		}
		key, ctype = ShardKey(format, i), "application/vnd.apache.parquet"
	}
	file, err := f.Store.FeedFile(ctx, b.ID, key)
	if err != nil {
		return nil, err
	}
	return &ServedFeed{Shop: sh, Build: b, File: file, Modified: *b.FinishedAt, Name: name, ContentType: ctype}, nil
}

// CopyFeed writes a served file's bytes to w.
func (f *Service) CopyFeed(ctx context.Context, sf *ServedFeed, w io.Writer) error {
	_, err := f.Store.CopyFeedFile(ctx, sf.File.BuildID, sf.File.Format, w)
	return err
}
