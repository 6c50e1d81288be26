package delivery

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultBatchSize is the number of products per PATCH when PushACPFeed is
// given a batch size of zero or less.
const DefaultBatchSize = 500

// ACPPushResult describes a Feed API push, complete or not.
type ACPPushResult struct {
	// FeedID is the feed written to; when PushACPFeed created it, the
	// caller should store it and pass it as ACPFeedTarget.FeedID next time.
	FeedID string
	// Batches counts the PATCH requests the server accepted.
	Batches int
	// Accepted counts the products in those batches.
	Accepted int
	// Duration is the time the push took.
	Duration time.Duration
}

// PushACPFeed creates the feed when t.FeedID is empty, then PATCHes
// products in batches of batchSize (DefaultBatchSize when ≤ 0), reading
// products from next() until it returns io.EOF. Each product must be one
// JSON object; it is sent as given.
//
// Each batch is retried on transport errors, 429 and 5xx with backoff
// (respecting Retry-After) up to 4 attempts; any other 4xx fails at once
// with the server's error message (bounded), as an *APIError. Each batch
// carries an Idempotency-Key derived from the run, feed id, batch number
// and content hash, so a batch retried after a lost answer is not applied
// twice.
//
// On error the result is still returned when a feed id is known, saying
// how far the push got: a created feed's id must not be lost. A nil client
// means one through the strictest outbound policy (netguard: public
// addresses only, no redirects); each attempt is bounded to two minutes.
func PushACPFeed(ctx context.Context, client *http.Client, t ACPFeedTarget, next func() (json.RawMessage, error), batchSize int) (*ACPPushResult, error) {
	if err := t.Validate(); err != nil {
		return nil, fmt.Errorf("feed push: %w", err)
	}
	if next == nil {
		return nil, fmt.Errorf("feed push: %w: next is nil", ErrInvalidTarget)
	}
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	if t.RunID == "" {
		t.RunID = rand.Text()
	}
	start := time.Now()
	c := newFeedClient(client, t)
	log := c.log.With(slog.String("base_url", t.BaseURL))

	res := &ACPPushResult{FeedID: t.FeedID}
	if res.FeedID == "" {
		id, err := c.createFeed(ctx)
		if err != nil {
			return nil, fmt.Errorf("feed push: %w", err)
		}
		res.FeedID = id
		log.Info("feed api: created feed", slog.String("feed_id", id))
	}
	log = log.With(slog.String("feed_id", res.FeedID))

	done := func(err error) (*ACPPushResult, error) {
		res.Duration = time.Since(start)
		if err != nil {
			return res, fmt.Errorf("feed push to %s: %w", res.FeedID, err)
		}
		log.Info("feed api: push done", slog.Int("batches", res.Batches),
			slog.Int("products", res.Accepted), slog.Duration("duration", res.Duration))
		return res, nil
	}

	batch := make([][]byte, 0, batchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n := res.Batches + 1
		if err := c.upsert(ctx, res.FeedID, n, batch); err != nil {
			return err
		}
		log.Debug("feed api: batch accepted", slog.Int("batch", n), slog.Int("products", len(batch)))
		res.Batches = n
		res.Accepted += len(batch)
		batch = batch[:0]
		return nil
	}
	for i := 1; ; i++ {
		raw, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return done(fmt.Errorf("read product %d: %w", i, err))
		}
		p, err := compactObject(raw)
		if err != nil {
			return done(fmt.Errorf("product %d: %w", i, err))
		}
		batch = append(batch, p)
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return done(err)
			}
		}
	}
	return done(flush())
}

// createFeed makes a new feed and returns its id.
func (c *feedClient) createFeed(ctx context.Context) (string, error) {
	body, err := json.Marshal(struct {
		TargetCountry string `json:"target_country,omitempty"`
	}{c.t.TargetCountry})
	if err != nil {
		return "", fmt.Errorf("encode create request: %w", err)
	}
	// Retries of the create share one key, so a lost 201 does not leave a
	// second, empty feed behind.
	key := idempotencyKey(c.t.RunID, "create", 0, body)
	_, answer, err := c.call(ctx, http.MethodPost, c.url("feeds"), body, key, "create feed")
	if err != nil {
		return "", err
	}
	var meta struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(answer, &meta); err != nil || meta.ID == "" {
		// Never the answer itself: the text would reach the merchant, and
		// a target that is not a Feed API may be answering with anything.
		return "", &stepError{step: "create feed", err: fmt.Errorf("%w: no feed id", ErrNotFeedAPI)}
	}
	return meta.ID, nil
}

// upsert PATCHes one batch of compacted products.
func (c *feedClient) upsert(ctx context.Context, feedID string, n int, products [][]byte) error {
	var body bytes.Buffer
	body.WriteString(`{"products":[`)
	body.Write(bytes.Join(products, []byte{','}))
	body.WriteString(`]}`)
	key := idempotencyKey(c.t.RunID, feedID, n, body.Bytes())
	what := fmt.Sprintf("upsert batch %d (%d products)", n, len(products))
	_, answer, err := c.call(ctx, http.MethodPatch, c.url("feeds", feedID, "products"), body.Bytes(), key, what)
	if err != nil {
		return err
	}
	var ack struct {
		Accepted *bool `json:"accepted"`
	}
	if err := json.Unmarshal(answer, &ack); err != nil || ack.Accepted == nil {
		return &stepError{step: what, err: fmt.Errorf("%w: no \"accepted\"", ErrNotFeedAPI)}
	}
	if !*ack.Accepted {
		return &stepError{step: what, err: errNotAccepted}
	}
	return nil
}

// url joins BaseURL and escaped path segments.
func (c *feedClient) url(segments ...string) string {
	for i, s := range segments {
		segments[i] = url.PathEscape(s)
	}
	return strings.TrimRight(c.t.BaseURL, "/") + "/" + strings.Join(segments, "/")
}

// compactObject checks that raw is one JSON object and strips its
// insignificant whitespace, so the batch body (and its content hash) does
// not depend on how the product was formatted.
func compactObject(raw json.RawMessage) ([]byte, error) {
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return nil, fmt.Errorf("not valid JSON: %w", err)
	}
	if buf.Len() == 0 || buf.Bytes()[0] != '{' {
		return nil, errors.New("not a JSON object")
	}
	return buf.Bytes(), nil
}

// idempotencyKey derives the Idempotency-Key for one request: identical
// for every retry of it, different for any other batch, feed, content or
// run.
func idempotencyKey(runID, feedID string, batch int, body []byte) string {
	content := sha256.Sum256(body)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%x", runID, feedID, batch, content)
	return "acpbridge-" + hex.EncodeToString(h.Sum(nil))[:48]
}
