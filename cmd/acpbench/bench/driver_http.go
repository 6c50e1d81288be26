package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// call POSTs body to path, retrying per Config.Retry, and decodes a 2xx
// answer. want is the success status.
func (d *driver) call(ctx context.Context, endpoint, path string, body any, want int) (map[string]any, error) {
	return d.request(ctx, http.MethodPost, endpoint, path, body, want)
}

// request is call with any method; a GET sends no body and no
// Idempotency-Key.
func (d *driver) request(ctx context.Context, method, endpoint, path string, body any, want int) (map[string]any, error) {
	var raw []byte
	key := ""
	if method != http.MethodGet {
		raw, _ = json.Marshal(body)
		key = fmt.Sprintf("bench-%x", rand.Uint64())
	}
	deadline := time.Now().Add(d.cfg.RetryFor)
	for attempt := 1; ; attempt++ {
		status, hdr, b, dur, err := d.send(ctx, method, path, raw, key)
		ok := err == nil && status == want
		d.rec.request(endpoint, status, dur, ok)
		if ok {
			var m map[string]any
			if err := json.Unmarshal(b, &m); err != nil {
				d.rec.errorAnswer(endpoint, status, "not JSON", b)
				return nil, fmt.Errorf("%s: answer is not JSON: %s", endpoint, sample(b))
			}
			return m, nil
		}
		if err != nil {
			d.rec.errorAnswer(endpoint, 0, "transport: "+transportKind(err), []byte(err.Error()))
		} else {
			d.rec.errorAnswer(endpoint, status, "", b)
		}
		retryable := err != nil || status == http.StatusConflict || status == http.StatusTooManyRequests || status >= 500
		if !d.cfg.Retry || !retryable || time.Now().After(deadline) || ctx.Err() != nil {
			if err != nil {
				return nil, fmt.Errorf("%s: %w", endpoint, err)
			}
			return nil, fmt.Errorf("%s: %d %s", endpoint, status, sample(b))
		}
		wait := time.Duration(min(attempt, 10)) * 100 * time.Millisecond
		if ra, err := strconv.ParseFloat(hdr.Get("Retry-After"), 64); err == nil && ra >= 0 {
			wait = min(time.Duration(ra*float64(time.Second)), 5*time.Second)
		}
		sleep(ctx, wait)
	}
}

// send makes one request to the next replica.
func (d *driver) send(ctx context.Context, method, path string, body []byte, key string) (int, http.Header, []byte, time.Duration, error) {
	base := d.tg.BaseURLs[int(d.rr.Add(1)%uint64(len(d.tg.BaseURLs)))]
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, nil, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+d.tg.APIKey)
	req.Header.Set("API-Version", d.cfg.APIVersion)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return d.do(req)
}

// do sends req, timing it until the whole answer is read.
func (d *driver) do(req *http.Request) (int, http.Header, []byte, time.Duration, error) {
	d.inFlight.Add(1)
	defer d.inFlight.Add(-1)
	t0 := time.Now()
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, nil, nil, time.Since(t0), err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	dur := time.Since(t0)
	if err != nil {
		return 0, nil, nil, dur, err
	}
	return resp.StatusCode, resp.Header, b, dur, nil
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// transportKind names a transport error briefly, for grouping.
func transportKind(err error) string {
	s := err.Error()
	switch {
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(s, "Client.Timeout"):
		return "timeout"
	case strings.Contains(s, "connection refused"):
		return "connection refused"
	case strings.Contains(s, "EOF") || strings.Contains(s, "connection reset"):
		return "connection closed"
	}
	return "other"
}

// sample is the start of a body, on one line.
func sample(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s
}
