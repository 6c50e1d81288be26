package feeds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"net/http"
	"time"

	"github.com/riverqueue/river"

	"github.com/acpbridge/acpbridge/app"
	"github.com/acpbridge/acpbridge/app/delivery"
	"github.com/acpbridge/acpbridge/app/feed"
	"github.com/acpbridge/acpbridge/app/netguard"
	"github.com/acpbridge/acpbridge/app/secret"
)

// DeliveryStore is what feed pushes need of the database.
type DeliveryStore interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	SaveFeedTarget(ctx context.Context, t app.FeedTarget) (*app.FeedTarget, error)
	FeedTarget(ctx context.Context, id int64) (*app.FeedTarget, error)
	FeedTargets(ctx context.Context, shopID int64) ([]*app.FeedTarget, error)
	RecordDelivery(ctx context.Context, d app.FeedDelivery, config []byte) error
	ShopByID(ctx context.Context, id int64) (*app.Shop, error)
	LatestBuild(ctx context.Context, shopID int64, status string) (*app.FeedBuild, error)
	CopyFeedFile(ctx context.Context, buildID int64, format string, w io.Writer) (int64, error)
}

// Deliveries pushes each published feed build to the shop's targets: SFTP
// (OpenAI's file intake: a full snapshot under a stable name, replaced in
// place) and ACP Feed API endpoints. Each push is a retried job whose last
// result is kept on the target.
type Deliveries struct {
	Store  DeliveryStore
	Feeds  *Service
	Queue  app.Enqueuer
	Keys   *secret.Keyring
	HTTP   *http.Client
	Logger *slog.Logger
	Now    func() time.Time
	// Outbound is the outbound-network policy targets must pass, when
	// saved and when dialled (nil: the strictest, public addresses only);
	// a nil HTTP is a client through it.
	Outbound *netguard.Policy
}

// DeliveriesOptions are what defaults when left out of a Deliveries.
type DeliveriesOptions struct {
	Options
	// HTTP carries ACP Feed API pushes (default: a client through the
	// outbound policy with a 5-minute timeout).
	HTTP *http.Client
}

// NewDeliveries builds feed deliveries over their store, the feeds whose
// builds they push, the job queue, the keyring that seals the targets'
// secrets and the outbound-network policy targets must pass.
func NewDeliveries(store DeliveryStore, feeds *Service, queue app.Enqueuer, keys *secret.Keyring, outbound *netguard.Policy, opts DeliveriesOptions) *Deliveries {
	return &Deliveries{
		Store: store, Feeds: feeds, Queue: queue, Keys: keys, HTTP: opts.HTTP,
		Logger: opts.logger(), Now: opts.now(), Outbound: outbound,
	}
}

// SaveSFTPTarget validates and stores an SFTP target (password or private
// key sealed at rest). id 0 creates one.
func (d *Deliveries) SaveSFTPTarget(ctx context.Context, shopID, id int64, cfg app.SFTPTargetConfig, password, privateKeyPEM string, enabled bool) (*app.FeedTarget, error) {
	if cfg.Format == "" {
		cfg.Format = string(feed.FormatJSONL)
	}
	if !feed.Format(cfg.Format).Valid() {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "format", Message: "format must be parquet, jsonl.gz, csv.gz or tsv.gz"}
	}
	t := delivery.SFTPTarget{Addr: cfg.Addr, User: cfg.User, Password: password, PrivateKeyPEM: []byte(privateKeyPEM), HostKey: cfg.HostKey, Dir: cfg.Dir}
	if err := t.Validate(); err != nil {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "sftp", Message: err.Error()}
	}
	if err := d.Outbound.CheckHostPort(ctx, cfg.Addr); err != nil {
		return nil, app.OutboundRefusal("addr", err)
	}
	secretJSON, _ := json.Marshal(map[string]string{"password": password, "private_key": privateKeyPEM})
	return d.save(ctx, shopID, id, app.TargetSFTP, cfg, secretJSON, enabled)
}

// SaveACPTarget validates and stores an ACP Feed API target (bearer token
// sealed at rest).
func (d *Deliveries) SaveACPTarget(ctx context.Context, shopID, id int64, cfg app.ACPTargetConfig, token string, enabled bool) (*app.FeedTarget, error) {
	t := delivery.ACPFeedTarget{BaseURL: cfg.BaseURL, Token: token, FeedID: cfg.FeedID, TargetCountry: cfg.TargetCountry}
	if err := t.Validate(); err != nil {
		return nil, &app.Error{Code: app.CodeInvalid, Field: "acp", Message: err.Error()}
	}
	if err := d.Outbound.CheckURL(ctx, cfg.BaseURL); err != nil {
		return nil, app.OutboundRefusal("base_url", err)
	}
	return d.save(ctx, shopID, id, app.TargetACP, cfg, []byte(token), enabled)
}

func (d *Deliveries) save(ctx context.Context, shopID, id int64, kind string, cfg any, secretBytes []byte, enabled bool) (*app.FeedTarget, error) {
	sealed, err := d.Keys.Seal(secretBytes, app.FeedTargetAAD(shopID, kind))
	if err != nil {
		return nil, err
	}
	raw, _ := json.Marshal(cfg)
	return d.Store.SaveFeedTarget(ctx, app.FeedTarget{ID: id, ShopID: shopID, Kind: kind, Config: raw, Secret: sealed, Enabled: enabled})
}

// enqueuePushes enqueues a push of a just-published build to every enabled
// target of the shop: the hand-over from building to delivering is the
// push_feed job, so Feeds needs no pointer to Deliveries.
func (f *Service) enqueuePushes(ctx context.Context, b *app.FeedBuild) error {
	targets, err := f.Store.FeedTargets(ctx, b.ShopID)
	if err != nil {
		return err
	}
	for _, t := range targets {
		if !t.Enabled {
			continue
		}
		err := f.Queue.EnqueueTx(ctx, app.PushFeedArgs{TargetID: t.ID, BuildID: b.ID}, &river.InsertOpts{
			MaxAttempts: 8, UniqueOpts: river.UniqueOpts{ByArgs: true},
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Push sends a build to one target. A build superseded by a newer one is
// skipped (the newer one's push carries the snapshot). Retryable failures
// (network, 5xx, 429) return an error so the job retries; others are
// recorded and end the job.
func (d *Deliveries) Push(ctx context.Context, targetID, buildID int64) error {
	t, err := d.Store.FeedTarget(ctx, targetID)
	if errors.Is(err, app.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if sh, err := d.Store.ShopByID(ctx, t.ShopID); err != nil || sh.Status != app.ShopActive {
		return err // uninstalled since the build: its feed is no longer published anywhere
	}
	latest, err := d.Store.LatestBuild(ctx, t.ShopID, app.BuildPublished)
	if err != nil {
		return err
	}
	if latest.ID != buildID {
		return nil // superseded: the newer build's push carries the snapshot
	}
	started := d.Now()
	rec := app.FeedDelivery{TargetID: t.ID, BuildID: buildID, StartedAt: started}
	var newConfig []byte
	var bytes int64
	switch t.Kind {
	case app.TargetSFTP:
		bytes, err = d.pushSFTP(ctx, t, buildID)
	case app.TargetACP:
		var n int
		n, newConfig, err = d.pushACP(ctx, t)
		bytes = int64(n)
	default:
		err = fmt.Errorf("unknown target kind %q", t.Kind)
	}
	rec.Bytes = bytes
	switch {
	case err == nil:
		rec.Status = "succeeded"
		rec.Detail = fmt.Sprintf("pushed build %d in %s", buildID, d.Now().Sub(started).Round(time.Millisecond))
	// What is stored is shown to the merchant: the class of failure only,
	// never the target's answer or an address (the full error goes to the
	// server log below).
	case delivery.IsRetryable(err):
		rec.Status, rec.Detail = "retrying", delivery.Describe(err)
	default:
		rec.Status, rec.Detail = "failed", delivery.Describe(err)
	}
	if rerr := d.Store.RecordDelivery(ctx, rec, newConfig); rerr != nil {
		return errors.Join(err, rerr)
	}
	if err != nil {
		d.Logger.WarnContext(ctx, "feed push failed", "target", t.ID, "kind", t.Kind, "build", buildID, "status", rec.Status, "err", err)
		if rec.Status == "retrying" {
			return err
		}
		return river.JobCancel(err)
	}
	d.Logger.InfoContext(ctx, "feed pushed", "target", t.ID, "kind", t.Kind, "build", buildID, "bytes", bytes)
	return nil
}

func (d *Deliveries) pushSFTP(ctx context.Context, t *app.FeedTarget, buildID int64) (int64, error) {
	var cfg app.SFTPTargetConfig
	if err := json.Unmarshal(t.Config, &cfg); err != nil {
		return 0, fmt.Errorf("target config: %w", err)
	}
	plain, err := d.Keys.Open(t.Secret, app.FeedTargetAAD(t.ShopID, t.Kind))
	if err != nil {
		return 0, fmt.Errorf("target credentials: %w", err)
	}
	var creds struct {
		Password   string `json:"password"`
		PrivateKey string `json:"private_key"`
	}
	_ = json.Unmarshal(plain, &creds)
	target := delivery.SFTPTarget{Addr: cfg.Addr, User: cfg.User, Password: creds.Password, HostKey: cfg.HostKey,
		Dir: cfg.Dir, Logger: d.Logger, Dial: d.Outbound.DialContext}
	if creds.PrivateKey != "" {
		target.PrivateKeyPEM = []byte(creds.PrivateKey)
	}
	if format := feed.Format(cfg.Format); sharded(format) {
		return d.pushSFTPSet(ctx, target, buildID, format)
	}
	// Stream the stored file straight into the upload.
	pr, pw := io.Pipe()
	go func() {
		_, err := d.Store.CopyFeedFile(ctx, buildID, cfg.Format, pw)
		pw.CloseWithError(err)
	}()
	res, err := delivery.PushSFTP(ctx, target, "products."+cfg.Format, pr)
	_ = pr.CloseWithError(io.ErrClosedPipe)
	if err != nil {
		return 0, err
	}
	return res.Bytes, nil
}

// pushSFTPSet pushes the build's shard set and then its manifest
// (delivery.PushSFTPSet); the shards of an earlier set of another size
// are removed after the manifest.
func (d *Deliveries) pushSFTPSet(ctx context.Context, target delivery.SFTPTarget, buildID int64, format feed.Format) (int64, error) {
	var raw bytes.Buffer
	if _, err := d.Store.CopyFeedFile(ctx, buildID, ManifestKey(format), &raw); err != nil {
		return 0, fmt.Errorf("feed build %d has no complete %s shard set: %w", buildID, format, err)
	}
	var m feed.Manifest
	if err := json.Unmarshal(raw.Bytes(), &m); err != nil {
		return 0, fmt.Errorf("feed build %d: manifest: %w", buildID, err)
	}
	open := func(key string) func(ctx context.Context) (io.ReadCloser, error) {
		return func(ctx context.Context) (io.ReadCloser, error) {
			// Stream the stored file straight into the upload.
			pr, pw := io.Pipe()
			go func() {
				_, err := d.Store.CopyFeedFile(ctx, buildID, key, pw)
				pw.CloseWithError(err)
			}()
			return pr, nil
		}
	}
	files := make([]delivery.SetFile, len(m.Shards))
	for i, s := range m.Shards {
		files[i] = delivery.SetFile{Name: s.Name, Open: open(ShardKey(format, i+1))}
	}
	manifest := delivery.SetFile{Name: feed.ManifestName, Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(raw.Bytes())), nil
	}}
	stale := func(name string) bool {
		f, _, _, ok := feed.ParseShardName(name)
		return ok && f == format
	}
	res, err := delivery.PushSFTPSet(ctx, target, files, manifest, stale)
	if err != nil {
		return 0, err
	}
	return res.Bytes, nil
}

// pushACP upserts every eligible product into the ACP feed, creating the
// feed on first use (its id is then kept in the target's config).
func (d *Deliveries) pushACP(ctx context.Context, t *app.FeedTarget) (int, []byte, error) {
	var cfg app.ACPTargetConfig
	if err := json.Unmarshal(t.Config, &cfg); err != nil {
		return 0, nil, fmt.Errorf("target config: %w", err)
	}
	token, err := d.Keys.Open(t.Secret, app.FeedTargetAAD(t.ShopID, t.Kind))
	if err != nil {
		return 0, nil, fmt.Errorf("target credentials: %w", err)
	}
	next, stop := iter.Pull2(d.Feeds.ACPProducts(ctx, t.ShopID))
	defer stop()
	client := d.HTTP
	if client == nil {
		client = d.Outbound.Client(5*time.Minute, nil)
	}
	res, err := delivery.PushACPFeed(ctx, client, delivery.ACPFeedTarget{
		BaseURL: cfg.BaseURL, Token: string(token), FeedID: cfg.FeedID, TargetCountry: cfg.TargetCountry, Logger: d.Logger,
	}, func() (json.RawMessage, error) {
		raw, err, ok := next()
		if !ok {
			return nil, io.EOF
		}
		return raw, err
	}, 0)
	if err != nil {
		return 0, nil, err
	}
	var newConfig []byte
	if cfg.FeedID != res.FeedID {
		cfg.FeedID = res.FeedID
		newConfig, _ = json.Marshal(cfg)
	}
	return res.Accepted, newConfig, nil
}

// ACPProducts yields the shop's eligible products in the ACP Feed API
// shape, a catalog page at a time.
func (f *Service) ACPProducts(ctx context.Context, shopID int64) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		_, _, settings, fshop, idx, err := f.FeedInputs(ctx, shopID)
		if err != nil {
			yield(nil, err)
			return
		}
		stopped := errors.New("stopped")
		err = f.Store.CatalogPages(ctx, shopID, buildPage, func(page *app.CatalogPage) error {
			for _, p := range page.Products {
				fp := ToFeedProduct(p, page, idx.Override(p.ProductID, page.Collections[p.ProductID]))
				if ok, _ := feed.Eligibility(fp); !ok {
					continue
				}
				raw, err := json.Marshal(feed.ToACP(fp, settings, fshop))
				if err != nil {
					return err
				}
				if !yield(raw, nil) {
					return stopped
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, stopped) {
			yield(nil, err)
		}
	}
}
