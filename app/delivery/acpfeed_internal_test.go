package delivery

import (
	"strings"
	"testing"
	"time"
)

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	base := idempotencyKey("run", "feed_1", 1, []byte(`{"products":[]}`))
	tests := []struct {
		name     string
		key      string
		wantSame bool
	}{
		{"same inputs", idempotencyKey("run", "feed_1", 1, []byte(`{"products":[]}`)), true},
		{"other batch", idempotencyKey("run", "feed_1", 2, []byte(`{"products":[]}`)), false},
		{"other feed", idempotencyKey("run", "feed_2", 1, []byte(`{"products":[]}`)), false},
		{"other content", idempotencyKey("run", "feed_1", 1, []byte(`{"products":[{}]}`)), false},
		{"other run", idempotencyKey("run2", "feed_1", 1, []byte(`{"products":[]}`)), false},
		{"no field bleeding", idempotencyKey("ru", "nfeed_1", 1, []byte(`{"products":[]}`)), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.key == base; got != tt.wantSame {
				t.Errorf("key %q vs %q: same = %v, want %v", tt.key, base, got, tt.wantSame)
			}
			if len(tt.key) > 255 || !strings.HasPrefix(tt.key, "acpbridge-") {
				t.Errorf("key %q: want an acpbridge- prefix and at most 255 characters", tt.key)
			}
		})
	}
}

func TestCompactObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{"{\n  \"id\": \"p1\",\n  \"variants\": []\n}\n", `{"id":"p1","variants":[]}`, false},
		{`  {"id":"p1"}`, `{"id":"p1"}`, false},
		{`[1]`, "", true},
		{`"s"`, "", true},
		{`null`, "", true},
		{`{"id":`, "", true},
		{`{} {}`, "", true},
		{``, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := compactObject([]byte(tt.in))
			if (err != nil) != tt.wantErr || string(got) != tt.want {
				t.Errorf("compactObject(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt := 1; attempt <= 40; attempt++ {
		want := maxBackoff
		if attempt < 16 {
			want = min(baseBackoff<<(attempt-1), maxBackoff)
		}
		for range 20 {
			if got := backoff(attempt); got < want/2 || got > want {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, got, want/2, want)
			}
		}
	}
}

func TestSleepCtx(t *testing.T) {
	t.Parallel()
	if err := sleepCtx(t.Context(), time.Millisecond); err != nil {
		t.Errorf("sleepCtx() = %v, want nil", err)
	}
}
