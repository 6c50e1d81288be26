package delivery

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/acpbridge/acpbridge/app/netguard"
)

const (
	// maxAttempts counts the first try.
	maxAttempts = 4
	// baseBackoff doubles per attempt up to maxBackoff, with jitter so that
	// many shops retrying together do not hit the server in step.
	baseBackoff = time.Second
	maxBackoff  = 30 * time.Second
	// maxRetryAfter is the longest server-requested wait honoured inside a
	// push; a longer one ends the push with a retryable error so the job
	// runner can come back later instead of holding a worker.
	maxRetryAfter = 2 * time.Minute
	// attemptTimeout bounds one HTTP exchange even when the caller's
	// client has no timeout.
	attemptTimeout = 2 * time.Minute
	// maxResponseBody bounds what is read from any answer.
	maxResponseBody = 1 << 20
)

// feedClient sends Feed API requests with the target's headers and the
// retry policy.
type feedClient struct {
	http  *http.Client
	t     ACPFeedTarget
	log   *slog.Logger
	sleep func(context.Context, time.Duration) error
}

func newFeedClient(client *http.Client, t ACPFeedTarget) *feedClient {
	if client == nil {
		client = (*netguard.Policy)(nil).Client(0, nil)
	}
	sleep := t.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	return &feedClient{http: client, t: t, log: t.logger(), sleep: sleep}
}

// call sends one logical request, retrying transient failures with the
// same body and Idempotency-Key, and returns the 2xx answer.
func (c *feedClient) call(ctx context.Context, method, url string, body []byte, key, what string) (int, []byte, error) {
	for attempt := 1; ; attempt++ {
		status, header, answer, err := c.once(ctx, method, url, body, key)
		if err == nil && status >= 200 && status < 300 {
			return status, answer, nil
		}
		if ctx.Err() != nil {
			return 0, nil, &stepError{step: what, err: context.Cause(ctx)}
		}
		var wait time.Duration
		if err != nil {
			err = &stepError{step: what, err: err}
		} else {
			apiErr := newAPIError(status, header, answer, time.Now())
			wait = apiErr.RetryAfter
			err = &stepError{step: what, err: apiErr}
		}
		if !IsRetryable(err) {
			return 0, nil, err
		}
		if attempt == maxAttempts {
			return 0, nil, fmt.Errorf("%w (gave up after %d attempts)", err, attempt)
		}
		if wait > maxRetryAfter {
			return 0, nil, fmt.Errorf("%w (server asked to wait %s; not waiting inside the push)", err, wait)
		}
		wait = max(wait, backoff(attempt))
		c.log.Warn("feed api: retrying", slog.String("request", what), slog.Int("attempt", attempt),
			slog.Duration("wait", wait), slog.Any("error", err))
		if serr := c.sleep(ctx, wait); serr != nil {
			return 0, nil, fmt.Errorf("%s: %w (while waiting to retry after: %v)", what, serr, err)
		}
	}
}

// once makes one HTTP exchange and reads a bounded answer.
func (c *feedClient) once(ctx context.Context, method, url string, body []byte, key string) (int, http.Header, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, attemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.t.Token)
	req.Header.Set("API-Version", c.t.apiVersion())
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "acpbridge-delivery")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		// The answer was cut off: for a 2xx the server may have applied
		// the request, which the retry's Idempotency-Key takes care of.
		return 0, nil, nil, fmt.Errorf("read answer (status %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, answer, nil
}

// backoff returns the wait before attempt+1: 1s, 2s, 4s… capped, each
// jittered down by up to half.
func backoff(attempt int) time.Duration {
	d := maxBackoff
	if attempt >= 1 && attempt < 16 { // larger shifts only overflow
		d = min(baseBackoff<<(attempt-1), maxBackoff)
	}
	return d/2 + rand.N(d/2+1)
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-timer.C:
		return nil
	}
}
