package bench

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
)

// restAgent is the REST transport: each operation is its request of the
// checkout API on the next replica. It keeps nothing between requests.
type restAgent struct{ d *driver }

func (a restAgent) transport() string { return TransportREST }

func (a restAgent) close() {}

// send makes op's request once; a GET sends no body and no
// Idempotency-Key.
func (a restAgent) send(ctx context.Context, op operation, body []byte, key string) (answer, error) {
	method, path, want := http.MethodPost, "/checkout_sessions", http.StatusOK
	switch op.kind {
	case opCreate:
		want = http.StatusCreated
	case opUpdate:
		path += "/" + op.id
	case opComplete:
		path += "/" + op.id + "/complete"
	case opGet:
		method, path = http.MethodGet, path+"/"+op.id
	}
	status, hdr, b, dur, err := a.d.send(ctx, method, path, body, key)
	if err != nil {
		return answer{dur: dur}, err
	}
	return answer{status: status, ok: status == want, retryAfter: hdr.Get("Retry-After"), body: b, dur: dur}, nil
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
