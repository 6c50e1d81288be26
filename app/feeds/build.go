package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/feed"
)

// Feed building knobs.
const (
	// buildPage is how many products a build reads per page.
	buildPage = 1000
	// maxStoredProblems caps the per-item problems kept per build; the
	// summary counts them all.
	maxStoredProblems = 10_000
	// keepBuilds is how many published builds are kept (the newest is
	// served; older ones are a rollback and a history).
	keepBuilds = 3
)

// feedFormats are the single files every build writes (products.FORMAT):
// PrimaryFormat, then the single files of SecondaryFormats.
var feedFormats = []feed.Format{feed.FormatJSONL, feed.FormatCSV, feed.FormatTSV}

// PrimaryFormat is the file a build publishes first; SecondaryFormats are
// written after it, in a second pass, among them the Parquet shard set
// (ShardedFormats) that OpenAI's file upload prefers.
var (
	PrimaryFormat    = feed.FormatJSONL
	SecondaryFormats = []feed.Format{feed.FormatCSV, feed.FormatTSV, feed.FormatParquet}
)

// ShardedFormats are written as a shard set (feed.ShardName, at most
// feed.ShardItems items each) with a manifest (feed.ManifestName), not as
// one file.
var ShardedFormats = []feed.Format{feed.FormatParquet}

func sharded(f feed.Format) bool { return slices.Contains(ShardedFormats, f) }

// A shard set is stored as feed files of the build under keys of its own
// (the store keys files by build and an opaque name): ShardKey for the
// shards, whose public names depend on the final count, and ManifestKey
// for the manifest, written last, so that a build has a complete set
// exactly when it has the manifest.

// ShardKey is the store's name of shard i (1-based) of a build's set in
// format f: "parquet/00001", ….
func ShardKey(f feed.Format, i int) string { return fmt.Sprintf("%s/%05d", f, i) }

// ManifestKey is the store's name of a build's manifest of the set in
// format f: "parquet/manifest".
func ManifestKey(f feed.Format) string { return string(f) + "/manifest" }

// FeedInputs gathers what mapping needs for one shop, as committed (a
// build reads the shop row itself).
func (f *Service) FeedInputs(ctx context.Context, shopID int64) (*app.Shop, *app.FeedSettings, feed.Settings, feed.Shop, Rules, error) {
	sh, err := f.Store.ShopByID(ctx, shopID)
	if err != nil {
		return nil, nil, feed.Settings{}, feed.Shop{}, Rules{}, err
	}
	saved, rs, err := f.Store.FeedSettingsAndRules(ctx, shopID)
	if err != nil {
		return nil, nil, feed.Settings{}, feed.Shop{}, Rules{}, err
	}
	fs, settings, fshop, idx := mappingInputs(sh, saved, rs)
	return sh, fs, settings, fshop, idx, nil
}

// mappingInputs is what mapping needs of the shop, its saved feed settings
// (nil: none, the defaults Settings gives) and its rules.
func mappingInputs(sh *app.Shop, saved *app.FeedSettings, rs []app.FeedRule) (*app.FeedSettings, feed.Settings, feed.Shop, Rules) {
	fs := saved
	if fs == nil {
		fs = defaultSettings(sh, app.ShopProfile{})
	}
	idx := Rules{product: map[int64]app.FeedRule{}, collection: map[int64]app.FeedRule{}}
	for _, r := range rs {
		if r.Scope == app.RuleProduct {
			idx.product[r.TargetID] = r
		} else {
			idx.collection[r.TargetID] = r
		}
	}
	settings := feed.Settings{
		SellerName: fs.SellerName, SellerURL: fs.SellerURL, StoreCountry: fs.StoreCountry,
		TargetCountries: fs.TargetCountries, ReturnPolicyURL: fs.ReturnPolicyURL, ReturnWindowDays: fs.ReturnWindowDays,
		PrivacyPolicyURL: fs.PrivacyPolicyURL, TermsURL: fs.TermsURL, BrandFallback: fs.BrandFallback,
		// Checkout needs the shop's policies; until the merchant has them
		// all, items are listed for search only rather than dropped.
		EligibleSearch: fs.EligibleSearch, EligibleCheckout: fs.EligibleCheckout && fs.CheckoutReady(),
		FieldNames: feed.FieldNames(fs.FieldNames),
	}
	fshop := feed.Shop{Domain: sh.Domain, Name: sh.Name, Currency: sh.CurrencyCode, Country: sh.CountryCode, PrimaryURL: fs.SellerURL}
	return fs, settings, fshop, idx
}

// ToFeedProduct converts a catalog product with its rows.
func ToFeedProduct(p app.CatalogProduct, page *app.CatalogPage, ov feed.Override) feed.Product {
	var sc productScratch
	return sc.product(p, page, ov)
}

// productScratch holds the arrays of the feed products it makes, reused
// from one product to the next: a walk maps and consumes one product's
// items before it makes the next product.
type productScratch struct {
	images   []feed.Image
	variants []feed.Variant
	opts     []feed.Option
}

// product converts a catalog product with its rows. A product's variants
// share one array of options. GIDs are left empty: the feed derives
// nothing from them when the numeric ids are set.
func (sc *productScratch) product(p app.CatalogProduct, page *app.CatalogPage, ov feed.Override) feed.Product {
	fp := feed.Product{
		ID: strconv.FormatInt(p.ProductID, 10), Handle: p.Handle, Title: p.Title, DescriptionHTML: p.DescriptionHTML,
		Vendor: p.Vendor, ProductType: p.ProductType, Category: p.Category, Status: p.Status, URL: p.OnlineStoreURL,
		Tags: p.Tags, Published: p.OnlineStoreURL != "", Override: ov,
	}
	if media := page.Media[p.ProductID]; len(media) > 0 {
		sc.images = sc.images[:0]
		for _, m := range media {
			sc.images = append(sc.images, feed.Image{URL: m.URL, Alt: m.Alt, Width: m.Width, Height: m.Height})
		}
		fp.Images = sc.images[:len(sc.images):len(sc.images)]
	}
	variants := page.Variants[p.ProductID]
	if len(variants) == 0 {
		return fp
	}
	sc.variants, sc.opts = sc.variants[:0], sc.opts[:0]
	for i := range variants {
		v := &variants[i]
		fv := feed.Variant{
			ID:    strconv.FormatInt(v.VariantID, 10),
			Title: v.Title, SKU: v.SKU, Barcode: v.Barcode, PriceMinor: v.PriceMinor, CompareAtMinor: v.CompareAtMinor,
			AvailableForSale: v.AvailableForSale, InventoryQuantity: int(v.InventoryQuantity), InventoryPolicy: v.InventoryPolicy,
			Tracked: v.Tracked, RequiresShipping: v.RequiresShipping, WeightValue: v.WeightValue, WeightUnit: v.WeightUnit,
			ImageURL: v.ImageURL,
		}
		sc.variants = append(sc.variants, fv)
	}
	// Options after the variants, so that growing the array cannot leave
	// an earlier variant pointing at the old one.
	n := 0
	for i := range variants {
		n += len(variants[i].Options)
	}
	if cap(sc.opts) < n {
		sc.opts = make([]feed.Option, 0, n)
	}
	for i := range variants {
		if opts := variants[i].Options; len(opts) > 0 {
			start := len(sc.opts)
			for _, o := range opts {
				sc.opts = append(sc.opts, feed.Option(o))
			}
			sc.variants[i].Options = sc.opts[start:len(sc.opts):len(sc.opts)]
		}
	}
	fp.Variants = sc.variants[:len(sc.variants):len(sc.variants)]
	return fp
}

// fieldSummary counts a build's problems for one field and severity (the
// build's summary is a JSON list of them; FeedBuild.ProblemsByField reads it).
type fieldSummary = app.FieldProblems

// Build writes the shop's feed files from the synced catalog: every
// eligible variant is mapped, validated, and written when it has no error;
// invalid items are left out (not the whole feed) and reported with hints.
//
// The primary file, jsonl.gz (OpenAI's format), is published as soon as it
// is written (BuildPrimary); csv.gz and tsv.gz follow in a second pass over
// the catalog (BuildSecondary), and until they are complete their pulls are
// served from the previous build. A failed build leaves the last good one
// served. Once every format is written, a push of the build to each enabled
// target is enqueued (a push_feed job, which Deliveries works).
func (f *Service) Build(ctx context.Context, shopID int64) (*app.FeedBuild, error) {
	in, err := f.buildInputs(ctx, shopID)
	if err != nil || in == nil {
		return nil, err
	}
	b, err := f.buildPrimary(ctx, in)
	if err != nil {
		return b, err
	}
	if err := f.buildSecondary(ctx, b, in); err != nil {
		return b, err
	}
	if err := f.enqueuePushes(ctx, b); err != nil {
		return b, err
	}
	return b, nil
}

// BuildPrimary is Build's first step: it writes the shop's jsonl.gz,
// records the validation problems and publishes the build. It returns nil
// for a shop that is not active.
func (f *Service) BuildPrimary(ctx context.Context, shopID int64) (*app.FeedBuild, error) {
	in, err := f.buildInputs(ctx, shopID)
	if err != nil || in == nil {
		return nil, err
	}
	return f.buildPrimary(ctx, in)
}

// BuildSecondary is Build's second step: it writes the published build's
// other formats (SecondaryFormats), in the build's field naming.
func (f *Service) BuildSecondary(ctx context.Context, b *app.FeedBuild) error {
	in, err := f.buildInputs(ctx, b.ShopID)
	if err != nil || in == nil {
		return err
	}
	return f.buildSecondary(ctx, b, in)
}

// buildInput is what a build maps the catalog with.
type buildInput struct {
	shop     *app.Shop
	fs       *app.FeedSettings
	settings feed.Settings
	fshop    feed.Shop
	idx      Rules
}

// buildInputs reads the shop's mapping inputs; nil when the shop is not
// active (uninstalled meanwhile: nothing to publish).
func (f *Service) buildInputs(ctx context.Context, shopID int64) (*buildInput, error) {
	sh, fs, settings, fshop, idx, err := f.FeedInputs(ctx, shopID)
	if err != nil {
		return nil, err
	}
	if sh.Status != app.ShopActive {
		return nil, nil
	}
	return &buildInput{shop: sh, fs: fs, settings: settings, fshop: fshop, idx: idx}, nil
}

func (f *Service) buildPrimary(ctx context.Context, in *buildInput) (*app.FeedBuild, error) {
	b, err := f.Store.CreateBuild(ctx, in.shop.ID, in.fs.FieldNames)
	if err != nil {
		return nil, err
	}
	if in.fs.EligibleCheckout && !in.fs.CheckoutReady() {
		b.Error = "checkout is off for every item until the settings have " + strings.Join(in.fs.MissingForCheckout(), ", ")
	}
	if err := f.build(ctx, b, in.settings, in.fshop, in.idx); err != nil {
		b.Status, b.Error = app.BuildFailed, err.Error()
		if ferr := f.Store.FinishBuild(context.WithoutCancel(ctx), b); ferr != nil {
			return nil, errors.Join(err, ferr)
		}
		return b, fmt.Errorf("feed build %d: %w", b.ID, err)
	}
	b.Status = app.BuildPublished
	if err := f.Store.FinishBuild(ctx, b); err != nil {
		return nil, err
	}
	f.Logger.InfoContext(ctx, "feed published", "shop", in.shop.Domain, "build", b.ID, "items", b.ItemsPublished,
		"invalid", b.ItemsInvalid, "excluded", b.ItemsExcluded, "seconds", b.FinishedAt.Sub(b.StartedAt).Seconds())
	return b, nil
}

func (f *Service) buildSecondary(ctx context.Context, b *app.FeedBuild, in *buildInput) error {
	start := time.Now()
	settings := in.settings
	settings.FieldNames = feed.FieldNames(b.FieldNames) // as the published file
	err := f.writeFormats(ctx, b, SecondaryFormats, settings, in.fshop, in.idx)
	if err != nil {
		// The build's partial search rows go; every other build's stay
		// (the indexed one, and a newer one being written).
		if derr := f.Store.DeleteBuildFeedItems(context.WithoutCancel(ctx), b.ShopID, b.ID); derr != nil {
			f.Logger.WarnContext(ctx, "dropping a failed build's search rows failed", "shop", in.shop.Domain, "build", b.ID, "err", derr)
		}
		f.Logger.WarnContext(ctx, "feed build: writing the other formats failed", "shop", in.shop.Domain, "build", b.ID, "err", err)
		return fmt.Errorf("feed build %d: %w", b.ID, err)
	}
	if _, err := f.Store.PruneBuilds(ctx, b.ShopID, keepBuilds); err != nil {
		f.Logger.WarnContext(ctx, "pruning old feed builds failed", "shop", in.shop.Domain, "err", err)
	}
	f.Logger.InfoContext(ctx, "feed formats written", "shop", in.shop.Domain, "build", b.ID,
		"formats", len(SecondaryFormats), "seconds", time.Since(start).Seconds())
	return nil
}

// feedOut is one output being written: a single file, or a shard set.
type feedOut interface {
	Write(it feed.Item) error
	// finish completes the output (gzip trailer or Parquet footer, last
	// chunk, digest; a shard set's manifest).
	finish(ctx context.Context) error
	// abandon gives up after an error.
	abandon()
}

// fileOut is a single file, products.FORMAT.
type fileOut struct {
	file io.WriteCloser
	*feed.Writer
}

func (o fileOut) finish(context.Context) error {
	if err := o.Writer.Close(); err != nil {
		return err
	}
	return o.file.Close()
}

func (o fileOut) abandon() {
	_ = o.Writer.Close()
	_ = o.file.Close()
}

// shardOut is a shard set with its manifest.
type shardOut struct {
	f      *Service
	b      *app.FeedBuild
	format feed.Format
	names  feed.FieldNames
	prev   int // shards in the previous set, 0 when none
	*feed.ShardWriter
}

// finish decides the set's size (feed.ShardCount: the previous set's
// unless the items no longer fit it, or fit a smaller one with room to
// spare), pads it with empty shards, and writes the manifest, which
// completes the set.
func (o *shardOut) finish(ctx context.Context) error {
	n := feed.ShardCount(o.Count(), o.prev)
	counts, err := o.Finish(n)
	if err != nil {
		return err
	}
	m := feed.Manifest{Format: o.format, FieldNames: o.names, Items: int64(o.Count()), BuildID: o.b.ID, GeneratedAt: o.f.Now().UTC()}
	for i, c := range counts {
		ff, err := o.f.Store.FeedFile(ctx, o.b.ID, ShardKey(o.format, i+1))
		if err != nil {
			return err
		}
		m.Shards = append(m.Shards, feed.ManifestShard{Name: feed.ShardName(o.format, i+1, n), Items: int64(c), Bytes: ff.Bytes, SHA256: ff.SHA256})
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	file, err := o.f.Store.NewFeedFile(ctx, o.b.ID, ManifestKey(o.format))
	if err != nil {
		return err
	}
	if _, err := file.Write(append(raw, '\n')); err != nil {
		_ = file.Close()
		return err
	}
	return file.Close()
}

func (o *shardOut) abandon() { _ = o.ShardWriter.Close() }

// openFormats starts an output per format; on error the ones started are
// abandoned.
func (f *Service) openFormats(ctx context.Context, b *app.FeedBuild, formats []feed.Format, names feed.FieldNames) ([]feedOut, error) {
	var outs []feedOut
	for _, format := range formats {
		out, err := f.openFormat(ctx, b, format, names)
		if err != nil {
			closeFormats(outs)
			return nil, err
		}
		outs = append(outs, out)
	}
	return outs, nil
}

func (f *Service) openFormat(ctx context.Context, b *app.FeedBuild, format feed.Format, names feed.FieldNames) (feedOut, error) {
	if sharded(format) {
		prev := 0
		m, _, err := f.currentManifest(ctx, b.ShopID, format)
		switch {
		case err == nil:
			prev = len(m.Shards)
		case !errors.Is(err, app.ErrNotFound):
			return nil, err
		}
		sw, err := feed.NewShardWriter(format, names, func(i int) (io.WriteCloser, error) {
			return f.Store.NewFeedFile(ctx, b.ID, ShardKey(format, i))
		})
		if err != nil {
			return nil, err
		}
		return &shardOut{f: f, b: b, format: format, names: names, prev: prev, ShardWriter: sw}, nil
	}
	file, err := f.Store.NewFeedFile(ctx, b.ID, string(format))
	if err != nil {
		return nil, err
	}
	w, err := feed.NewWriter(file, format, names)
	if err != nil {
		_ = file.Close()
		return nil, err
	}
	return fileOut{file, w}, nil
}

// currentManifest reads the manifest of the newest published build with
// a complete shard set in the format (app.ErrNotFound when none).
//
// The build found may be pruned (only the newest few are kept) between
// finding it and reading its manifest, when builds publish close together:
// its manifest then reads as nothing, and the newest set is looked up again.
func (f *Service) currentManifest(ctx context.Context, shopID int64, format feed.Format) (*feed.Manifest, *app.FeedBuild, error) {
	for range 3 {
		b, _, err := f.Store.PublishedFeedFile(ctx, shopID, ManifestKey(format))
		if err != nil {
			return nil, nil, err
		}
		var buf bytes.Buffer
		n, err := f.Store.CopyFeedFile(ctx, b.ID, ManifestKey(format), &buf)
		if err != nil {
			return nil, nil, err
		}
		if n == 0 {
			continue // pruned meanwhile
		}
		var m feed.Manifest
		if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
			return nil, nil, fmt.Errorf("feed build %d: manifest: %w", b.ID, err)
		}
		return &m, b, nil
	}
	return nil, nil, fmt.Errorf("the newest Parquet manifest kept being pruned while read: %w", app.ErrNotFound)
}

// finishFormats completes every output.
func finishFormats(ctx context.Context, outs []feedOut) error {
	for _, o := range outs {
		if err := o.finish(ctx); err != nil {
			return err
		}
	}
	return nil
}

// closeFormats abandons outputs after an error.
func closeFormats(outs []feedOut) {
	for _, o := range outs {
		o.abandon()
	}
}

// writeFormats writes the valid items of the catalog in the formats and
// stores them for search (BuildSecondary: the counts and problems are the
// primary pass's). The search rows are written here, not in the primary
// pass, so that indexing them (the trigram index is most of the cost)
// never delays the feed file agents pull; search answers from the previous
// build until this one is marked indexed.
func (f *Service) writeFormats(ctx context.Context, b *app.FeedBuild, formats []feed.Format, settings feed.Settings, fshop feed.Shop, idx Rules) error {
	outs, err := f.openFormats(ctx, b, formats, settings.FieldNames)
	if err != nil {
		return err
	}
	var published []app.FeedItemRow // this page's, for search
	err = f.walkItems(ctx, b.ShopID, settings, fshop, idx, walkFuncs{
		item: func(it feed.Item, _ *app.CatalogVariant, problems []feed.Problem) error {
			if feed.HasErrors(problems) {
				return nil
			}
			for _, o := range outs {
				if err := o.Write(it); err != nil {
					return err
				}
			}
			row, err := feedItemRow(b.ShopID, b.ID, &it)
			if err != nil {
				return err
			}
			published = append(published, row)
			return nil
		},
		pageDone: func() error {
			err := f.Store.AddFeedItems(ctx, published)
			published = published[:0]
			return err
		},
	})
	if err != nil {
		closeFormats(outs)
		return err
	}
	if err := finishFormats(ctx, outs); err != nil {
		return err
	}
	// Marking the build indexed and dropping the older builds' rows is one
	// step, so a search never sees two builds' items or none. Two builds
	// of a shop may overlap (a rebuild asked for while one runs): when a
	// newer one has already indexed, this one's rows are obsolete, and the
	// newer build's rows are never dropped.
	return f.Store.InTx(ctx, func(ctx context.Context) error {
		last, err := f.Store.LatestIndexedBuild(ctx, b.ShopID)
		if err != nil && !errors.Is(err, app.ErrNotFound) {
			return err
		}
		if last != nil && last.ID > b.ID {
			return f.Store.DeleteBuildFeedItems(ctx, b.ShopID, b.ID)
		}
		if err := f.Store.MarkItemsIndexed(ctx, b.ID); err != nil {
			return err
		}
		return f.Store.DeleteFeedItemsBefore(ctx, b.ShopID, b.ID)
	})
}

// build is the primary pass: it writes PrimaryFormat and records the
// build's counts, problems and summary.
func (f *Service) build(ctx context.Context, b *app.FeedBuild, settings feed.Settings, fshop feed.Shop, idx Rules) error {
	outs, err := f.openFormats(ctx, b, []feed.Format{PrimaryFormat}, settings.FieldNames)
	if err != nil {
		return err
	}
	defer func() { closeFormats(outs) }() // only on an early return: the happy path closes them itself
	summary := map[string]*fieldSummary{}
	var stored []app.FeedProblem
	storedN := 0
	err = f.walkItems(ctx, b.ShopID, settings, fshop, idx, walkFuncs{
		product:  func() { b.Products++ },
		excluded: func(n int) { b.ItemsExcluded += int64(n) },
		item: func(it feed.Item, _ *app.CatalogVariant, problems []feed.Problem) error {
			b.ItemsTotal++
			invalid := false
			for _, pr := range problems {
				sev := string(pr.Severity)
				if pr.Severity == feed.SeverityError {
					invalid = true
				} else {
					b.Warnings++
				}
				key := pr.Field + "/" + sev
				s := summary[key]
				if s == nil {
					s = &fieldSummary{Field: pr.Field, Severity: sev, Message: pr.Message, Hint: pr.Hint, Example: pr.ItemID}
					summary[key] = s
				}
				s.Count++
				if storedN < maxStoredProblems {
					stored = append(stored, app.FeedProblem{ItemID: pr.ItemID, Field: pr.Field, Severity: sev, Message: pr.Message, Hint: pr.Hint})
					storedN++
				}
			}
			if invalid {
				b.ItemsInvalid++
				return nil
			}
			for _, o := range outs {
				if err := o.Write(it); err != nil {
					return err
				}
			}
			b.ItemsPublished++
			return nil
		},
		pageDone: func() error {
			if len(stored) == 0 {
				return nil
			}
			err := f.Store.AddFeedProblems(ctx, b.ID, stored)
			stored = stored[:0]
			return err
		},
	})
	if err != nil {
		return err
	}
	done := outs
	outs = nil
	if err := finishFormats(ctx, done); err != nil {
		return err
	}
	list := make([]*fieldSummary, 0, len(summary))
	for _, s := range summary {
		list = append(list, s)
	}
	slices.SortFunc(list, func(a, b *fieldSummary) int {
		if a.Severity != b.Severity {
			return strings.Compare(a.Severity, b.Severity)
		}
		return int(b.Count - a.Count)
	})
	b.Summary, _ = json.Marshal(list)
	return nil
}

// walkFuncs are the callbacks of walkItems (nil ones are skipped).
type walkFuncs struct {
	product  func()
	excluded func(variants int)
	item     func(it feed.Item, v *app.CatalogVariant, problems []feed.Problem) error
	pageDone func() error
}

// walkItems maps and validates every variant of the shop's catalog, a page
// at a time: the one loop behind builds and the published-items listing,
// so both agree item for item.
func (f *Service) walkItems(ctx context.Context, shopID int64, settings feed.Settings, fshop feed.Shop, idx Rules, fn walkFuncs) error {
	var items []feed.Item
	var sc productScratch
	return f.Store.CatalogPages(ctx, shopID, buildPage, func(page *app.CatalogPage) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		for _, p := range page.Products {
			if fn.product != nil {
				fn.product()
			}
			fp := sc.product(p, page, idx.Override(p.ProductID, page.Collections[p.ProductID]))
			if ok, _ := feed.Eligibility(fp); !ok {
				if fn.excluded != nil {
					fn.excluded(len(fp.Variants))
				}
				continue
			}
			items = feed.AppendItems(items[:0], fp, settings, fshop)
			variants := page.Variants[p.ProductID]
			var id [20]byte
			for i, it := range items {
				var v *app.CatalogVariant
				for j := range variants { // items follow variant order; look up to be sure
					if k := (i + j) % len(variants); string(strconv.AppendInt(id[:0], variants[k].VariantID, 10)) == it.ItemID {
						v = &variants[k]
						break
					}
				}
				if err := fn.item(it, v, feed.Validate(it, settings.FieldNames)); err != nil {
					return err
				}
			}
		}
		if fn.pageDone != nil {
			return fn.pageDone()
		}
		return nil
	})
}
